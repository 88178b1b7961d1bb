//! When people lock themselves out: mostly on weekday mornings, most of all on Monday
//! mornings after a weekend away, a few in the evening and at weekends. Weighted by the
//! local weekday and hour in the desk's time zone, so with the default Monday-to-Friday
//! 9:00–17:00 hours about a fifth of requests arrive while the desk is closed.

use super::dice::WeightedPick;
use chrono::{DateTime, Datelike, Duration, DurationRound, Timelike, Utc, Weekday};
use keydesk_core::BusinessCalendar;
use rand::Rng;

/// Relative arrivals per local hour of a working day.
const BY_HOUR: [f64; 24] = [
    0.03, 0.02, 0.02, 0.02, 0.03, 0.05, 0.10, 0.25, // night, early morning
    0.75, 1.60, 1.50, 1.30, 1.00, 1.05, 1.00, 0.90, // the working day
    0.80, 0.40, 0.22, 0.16, 0.12, 0.09, 0.06, 0.04, // evening
];

/// Relative arrivals per weekday, Monday first.
const BY_WEEKDAY: [f64; 7] = [1.5, 1.15, 1.05, 1.0, 0.9, 0.12, 0.1];

/// Monday 8:00–12:00 gets this much more again: the weekend's forgotten passwords.
const MONDAY_MORNING: f64 = 1.5;

/// How likely an arrival is at this local weekday and hour, relative to the others.
pub fn weight(weekday: Weekday, hour: u32) -> f64 {
    let monday_morning = if weekday == Weekday::Mon && (8..12).contains(&hour) { MONDAY_MORNING } else { 1.0 };
    BY_WEEKDAY[weekday.num_days_from_monday() as usize] * BY_HOUR[hour as usize % 24] * monday_morning
}

/// Arrival instants between two instants, drawn by [`weight`].
#[derive(Debug, Clone)]
pub struct ArrivalPattern {
    /// `[start, end)` of each hour-long slot (shorter at the ends).
    slots: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pick: WeightedPick,
}

impl ArrivalPattern {
    /// Panics when `until` is not after `from`.
    pub fn new(calendar: &BusinessCalendar, from: DateTime<Utc>, until: DateTime<Utc>) -> ArrivalPattern {
        assert!(from < until, "an arrival window must not be empty");
        let zone = calendar.timezone();
        let mut slots = Vec::new();
        let mut start = from;
        while start < until {
            let next_hour = start.duration_trunc(Duration::hours(1)).unwrap_or(start) + Duration::hours(1);
            let end = next_hour.min(until);
            slots.push((start, end));
            start = end;
        }
        let pick = WeightedPick::new(slots.iter().map(|(start, end)| {
            let local = start.with_timezone(&zone);
            weight(local.weekday(), local.hour()) * (*end - *start).num_seconds() as f64
        }));
        ArrivalPattern { slots, pick }
    }

    /// One arrival, at a whole second in `[from, until)`.
    pub fn sample(&self, rng: &mut impl Rng) -> DateTime<Utc> {
        let (start, end) = self.slots[self.pick.pick(rng)];
        let seconds = (end - start).num_seconds().max(1);
        start + Duration::seconds(rng.gen_range(0..seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keydesk_core::WorkingHoursConfig;
    use rand::SeedableRng;

    fn london_office_hours() -> BusinessCalendar {
        BusinessCalendar::from_config(&WorkingHoursConfig::default()).unwrap()
    }

    #[test]
    fn monday_morning_is_the_busiest_four_hours_of_the_week() {
        let mut blocks: Vec<(Weekday, u32, f64)> = Vec::new();
        for day in 0..7u8 {
            let weekday = Weekday::try_from(day).unwrap();
            for first in (0..24).step_by(4) {
                blocks.push((weekday, first, (first..first + 4).map(|h| weight(weekday, h)).sum()));
            }
        }
        blocks.sort_by(|a, b| b.2.total_cmp(&a.2));
        assert_eq!((blocks[0].0, blocks[0].1), (Weekday::Mon, 8));
        assert!(blocks[0].2 > 1.5 * blocks[1].2, "{blocks:?}");
    }

    #[test]
    fn about_a_fifth_arrive_while_a_nine_to_five_desk_is_closed() {
        let calendar = london_office_hours();
        let until = "2026-11-23T12:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let pattern = ArrivalPattern::new(&calendar, until - Duration::days(91), until);
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let arrivals: Vec<_> = (0..20_000).map(|_| pattern.sample(&mut rng)).collect();
        assert!(arrivals.iter().all(|at| *at < until && *at >= until - Duration::days(91)));
        let closed = arrivals.iter().filter(|at| !calendar.is_open(**at)).count() as f64 / arrivals.len() as f64;
        assert!((0.15..0.25).contains(&closed), "{closed}");
    }

    #[test]
    fn a_window_of_minutes_is_sampled_within_itself() {
        let calendar = london_office_hours();
        let from = "2026-11-23T09:59:30Z".parse::<DateTime<Utc>>().unwrap();
        let until = from + Duration::seconds(75);
        let pattern = ArrivalPattern::new(&calendar, from, until);
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        assert!((0..200).map(|_| pattern.sample(&mut rng)).all(|at| from <= at && at < until));
    }
}
