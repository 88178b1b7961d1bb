//! Turning a wall-clock time on a local date into one instant, using the zone's rules for
//! that date. Daylight-saving changes make some wall-clock times never happen (spring
//! forward) and others happen twice (fall back); this is the one place that decides which
//! instant such a time means.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::{GapInfo, Tz};

use super::config::TimeOfDay;

/// Which instant to take when the wall clock shows a time twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WhenRepeated {
    /// The first time the clock shows it: an opening, so the desk opens as soon as the
    /// clock first reads its opening time.
    Earliest,
    /// The last time the clock shows it: a closing, so the desk stays open until the clock
    /// reads its closing time for the last time.
    Latest,
}

/// The instant at which the clock in `zone` reads `time` on `date`.
///
/// - A time skipped by a spring-forward change means the first instant after the skip:
///   the change itself, when the clock jumps past `time` (01:30 on London's spring-forward
///   Sunday is 02:00 BST, 01:00 UTC).
/// - A time shown twice takes the instant `when_repeated` asks for.
/// - `TimeOfDay::END_OF_DAY` ("24:00") is the start of the next local day, resolved as an
///   opening would be, so a day open until 24:00 ends exactly where a next day open from
///   00:00 begins: no overlap and no hole, whatever the clocks do at midnight.
///
/// `None` only at the edges of the dates chrono can represent.
pub(super) fn instant_at(
    zone: Tz,
    date: NaiveDate,
    time: TimeOfDay,
    when_repeated: WhenRepeated,
) -> Option<DateTime<Utc>> {
    let (date, time, when_repeated) = if time == TimeOfDay::END_OF_DAY {
        (date.succ_opt()?, TimeOfDay::MIDNIGHT, WhenRepeated::Earliest)
    } else {
        (date, time, when_repeated)
    };
    let local = date.and_hms_opt(time.hour(), time.minute(), 0)?;
    match zone.from_local_datetime(&local) {
        LocalResult::Single(instant) => Some(instant.to_utc()),
        LocalResult::Ambiguous(first, second) => {
            let (first, second) = (first.to_utc(), second.to_utc());
            Some(match when_repeated {
                WhenRepeated::Earliest => first.min(second),
                WhenRepeated::Latest => first.max(second),
            })
        }
        LocalResult::None => end_of_skip(zone, local),
    }
}

/// The first instant after the clock's jump over `local`: the instant of the jump.
fn end_of_skip(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    GapInfo::new(&local, &zone)?.end.map(|instant| instant.to_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use WhenRepeated::*;

    fn time(text: &str) -> TimeOfDay {
        TimeOfDay::parse(text).unwrap()
    }

    #[test]
    fn wall_clock_times_around_daylight_saving_changes() {
        use chrono_tz::America::{Havana, New_York as new_york, Santiago};
        let london = chrono_tz::Europe::London;
        // (case, zone, local date, time, when repeated, expected instant)
        let cases = [
            ("London winter", london, "2026-03-02", time("09:00"), Earliest, "2026-03-02T09:00:00Z"),
            ("London summer", london, "2026-06-01", time("09:00"), Latest, "2026-06-01T08:00:00Z"),
            (
                "London spring gap: first instant after",
                london,
                "2026-03-29",
                time("01:30"),
                Earliest,
                "2026-03-29T01:00:00Z",
            ),
            ("gap: same for a closing", london, "2026-03-29", time("01:00"), Latest, "2026-03-29T01:00:00Z"),
            ("the end of the gap exists", london, "2026-03-29", time("02:00"), Earliest, "2026-03-29T01:00:00Z"),
            (
                "London autumn overlap, opening: BST",
                london,
                "2026-10-25",
                time("01:30"),
                Earliest,
                "2026-10-25T00:30:00Z",
            ),
            (
                "London autumn overlap, closing: GMT",
                london,
                "2026-10-25",
                time("01:30"),
                Latest,
                "2026-10-25T01:30:00Z",
            ),
            ("New York spring gap", new_york, "2026-03-08", time("02:30"), Earliest, "2026-03-08T07:00:00Z"),
            (
                "New York autumn overlap, opening",
                new_york,
                "2026-11-01",
                time("01:00"),
                Earliest,
                "2026-11-01T05:00:00Z",
            ),
            ("New York autumn overlap, closing", new_york, "2026-11-01", time("01:00"), Latest, "2026-11-01T06:00:00Z"),
            ("24:00 is the next midnight", london, "2026-03-27", TimeOfDay::END_OF_DAY, Latest, "2026-03-28T00:00:00Z"),
            ("24:00 before a summer day", london, "2026-06-01", TimeOfDay::END_OF_DAY, Latest, "2026-06-01T23:00:00Z"),
            // Chile springs forward at midnight: 2026-09-06 00:00 never happens there.
            (
                "24:00 into a skipped midnight",
                Santiago,
                "2026-09-05",
                TimeOfDay::END_OF_DAY,
                Latest,
                "2026-09-06T04:00:00Z",
            ),
            // Havana falls back from 01:00 to 00:00: 2026-11-01 00:00 happens twice.
            (
                "24:00 before a repeated midnight: the first",
                Havana,
                "2026-10-31",
                TimeOfDay::END_OF_DAY,
                Latest,
                "2026-11-01T04:00:00Z",
            ),
            ("midnight skipped", Santiago, "2026-09-06", TimeOfDay::MIDNIGHT, Earliest, "2026-09-06T04:00:00Z"),
        ];
        for (case, zone, date, time, when_repeated, expected) in cases {
            let date: NaiveDate = date.parse().unwrap();
            let expected: DateTime<Utc> = expected.parse().unwrap();
            assert_eq!(instant_at(zone, date, time, when_repeated), Some(expected), "{case}");
        }
    }
}
