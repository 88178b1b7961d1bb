//! A span's open periods laid end to end with running totals, so that the business time
//! between any two instants of the span is one subtraction.
//!
//! A report over a million tickets asks for three or four durations per ticket; each
//! [`BusinessCalendar::business_duration`] call looks up the zone twice, which alone would
//! take most of a second. The timeline pays for the zone lookups once per day of the span
//! and answers each instant with a binary search over the span's periods.

use chrono::{DateTime, Utc};

use super::{day_before, BusinessCalendar};

/// The open periods of a span, in whole seconds since the Unix epoch, with the open seconds
/// before each. Instants outside the span count as its nearer end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessTimeline {
    first: i64,
    last: i64,
    starts: Vec<i64>,
    ends: Vec<i64>,
    /// Open seconds from the span's start to `starts[i]`.
    open_before: Vec<i64>,
}

impl BusinessCalendar {
    /// The timeline of `[from, to]`; build one per report and ask it for every duration in it.
    pub fn timeline(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> BusinessTimeline {
        let (first, last) = (from.timestamp(), to.timestamp().max(from.timestamp()));
        let first_day = day_before(self.local_date(from));
        let days = usize::try_from((self.local_date(to) - first_day).num_days() + 2).unwrap_or(0);
        let mut timeline =
            BusinessTimeline { first, last, starts: Vec::new(), ends: Vec::new(), open_before: Vec::new() };
        let mut total = 0;
        for period in self.open_periods(first_day, days) {
            let (start, end) = (period.start.timestamp().max(first), period.end.timestamp().min(last));
            if start >= end {
                continue;
            }
            timeline.starts.push(start);
            timeline.ends.push(end);
            timeline.open_before.push(total);
            total += end - start;
        }
        timeline
    }
}

impl BusinessTimeline {
    /// Open seconds from the span's start to `at`.
    pub fn open_seconds_until(&self, at: DateTime<Utc>) -> i64 {
        let at = at.timestamp().clamp(self.first, self.last);
        // The last period starting at or before `at`.
        let after = self.starts.partition_point(|start| *start <= at);
        match after.checked_sub(1) {
            None => 0,
            Some(i) => self.open_before[i] + (at.min(self.ends[i]) - self.starts[i]),
        }
    }

    /// Open seconds between two instants of the span; zero when `to` is not after `from`.
    pub fn business_seconds(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        (self.open_seconds_until(to) - self.open_seconds_until(from)).max(0)
    }

    /// Whether the desk is open at `at`, an instant of the span.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        let at = at.timestamp();
        let after = self.starts.partition_point(|start| *start <= at);
        after.checked_sub(1).is_some_and(|i| at < self.ends[i])
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::calendar;
    use chrono::{DateTime, Duration, Utc};
    use proptest::prelude::*;

    const CALENDARS: &[&str] = &[
        "london",
        "london sunday gap",
        "london sunday overlap",
        "new york sunday night",
        "24h weekdays",
        "never",
        "goose bay weekend",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Over a span around both of 2026's clock changes, Christmas and the August bank
        /// holiday, the timeline agrees with the calendar to the second.
        #[test]
        fn the_timeline_agrees_with_the_calendar(
            name in proptest::sample::select(CALENDARS), a in 0i64..31_536_000, b in 0i64..31_536_000,
        ) {
            let calendar = calendar(name);
            let start: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
            let timeline = calendar.timeline(start, start + Duration::days(365));
            let (a, b) = (start + Duration::seconds(a), start + Duration::seconds(b));
            prop_assert_eq!(timeline.business_seconds(a, b), calendar.business_duration(a, b).num_seconds());
            prop_assert_eq!(timeline.is_open(a), calendar.is_open(a));
        }
    }

    #[test]
    fn instants_outside_the_span_count_as_its_ends() {
        let calendar = calendar("24h weekdays");
        let monday: DateTime<Utc> = "2026-01-05T00:00:00Z".parse().unwrap();
        let timeline = calendar.timeline(monday, monday + Duration::hours(2));
        assert_eq!(timeline.business_seconds(monday - Duration::days(3), monday + Duration::days(1)), 7200);
    }
}
