//! Working hours: whether the desk is open at an instant, when it next opens or closes, and
//! how much open time lies between two instants (the "business hours" of a ticket's age and
//! of report targets).
//!
//! It owns the calendar arithmetic only. It must not read a clock, the config file or a
//! database: callers pass instants (UTC) and a validated [`WorkingHoursConfig`], so every rule
//! is tested with fixed dates.
//!
//! How the hours map onto instants:
//! - Each local date is worked out with the zone's rules *for that date*, never with today's
//!   offset: a desk open 9:00–17:00 in London opens at 09:00 UTC in winter and 08:00 UTC in
//!   summer, and a Friday-to-Monday span across a clock change still counts exactly.
//! - A date's open period is `[open, close)`: open at the opening time itself, closed at the
//!   closing time itself. Hours never run past midnight (`open < close` is validated), and
//!   "24:00" closes at the start of the next local day.
//! - A holiday closes its whole local date; a day in `hours` is open with those hours even
//!   when it is not in `days`.
//! - Daylight-saving changes (see `wall_clock`): a time the clock skips means the first
//!   instant after the skip, so a Sunday open 01:30–03:00 on London's spring-forward day
//!   opens when the clock jumps to 02:00 BST. A time the clock shows twice means the earliest
//!   instant for an opening and the latest for a closing, so the desk is open for as long as
//!   the wall clock reads inside its hours: 00:30–03:00 on the autumn change is 3½ hours.
//!   A period whose opening and closing both fall in the same skipped hour is empty.
//!   "24:00" is the first instant of the next local day (the earliest, when midnight happens
//!   twice), so a day open to 24:00 and a next day open from 00:00 meet exactly.
//! - Where the clock goes back across midnight, consecutive days' periods can overlap; the
//!   desk is open during either, and the overlap is counted once.
//! - `next_opening` and `next_closing` look two years ahead at most.

mod config;
mod describe;
mod timeline;
mod wall_clock;
mod year_cache;

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;

pub use config::{CalendarError, WorkingHoursConfig};
pub use timeline::BusinessTimeline;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use config::Schedule;
use wall_clock::{instant_at, WhenRepeated};
use year_cache::YearCache;

/// How many local dates `next_opening` and `next_closing` look at before giving up: two
/// years, so a long run of holidays cannot make them search forever.
const SEARCH_HORIZON_DAYS: usize = 2 * 366;

/// The desk's working hours in one time zone, validated. Build it once at start-up with
/// [`BusinessCalendar::from_config`] and share it: every query is a pure function of its
/// arguments, and each year's hours are worked out once, on first use.
#[derive(Debug, Clone)]
pub struct BusinessCalendar {
    schedule: Schedule,
    periods_by_year: YearCache,
}

impl PartialEq for BusinessCalendar {
    /// Same hours, whatever each has cached so far.
    fn eq(&self, other: &Self) -> bool {
        self.schedule == other.schedule
    }
}

impl Eq for BusinessCalendar {}

/// One local date's open time as instants, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OpenPeriod {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl OpenPeriod {
    fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.end
    }
}

impl BusinessCalendar {
    /// Validates `[working_hours]`; the error names the key at fault.
    pub fn from_config(config: &WorkingHoursConfig) -> Result<BusinessCalendar, CalendarError> {
        Ok(BusinessCalendar { schedule: Schedule::from_config(config)?, periods_by_year: YearCache::new() })
    }

    /// The zone the hours are wall-clock times in.
    pub fn timezone(&self) -> Tz {
        self.schedule.timezone
    }

    /// Everything the calendar's answers depend on, as text: equal for calendars that answer
    /// alike (what figures measured by it are kept with).
    pub fn rules_fingerprint(&self) -> String {
        format!("{:?}", self.schedule)
    }

    /// The weekly hours in words, e.g. "Monday to Friday, 9:00–17:00 (Europe/London)".
    pub fn describe_hours(&self) -> String {
        describe::describe_hours(&self.schedule)
    }

    /// Why support cannot act now, in words: "Support is closed; opens Mon 23 Nov 09:00
    /// Europe/London" (the next opening in the desk's own zone).
    pub fn describe_closed(&self, next_opening: Option<DateTime<Utc>>) -> String {
        describe::describe_closed(self.schedule.timezone, next_opening)
    }

    /// "Mon 23 Nov 09:00 Europe/London": an instant on the desk's clock.
    pub fn describe_instant(&self, at: DateTime<Utc>) -> String {
        describe::describe_instant(self.schedule.timezone, at)
    }

    /// Whether the desk is open at `at`: inclusive at the opening time, exclusive at the closing.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        // Yesterday and tomorrow too: where the clock goes back across midnight (Goose Bay fell
        // back from 00:01 to 23:01 until 2010), an instant that reads as today can lie in
        // yesterday's hours, which end at the last 23:30, or in tomorrow's, which began at the
        // first 00:00.
        self.open_periods(day_before(self.local_date(at)), 3).any(|period| period.contains(at))
    }

    /// The first instant at or after `after` at which the desk is open: `after` itself when it
    /// is open then, else the start of the next open period. `None` when the desk does not
    /// open within two years (no working days, or holidays all the way).
    pub fn next_opening(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.open_periods(day_before(self.local_date(after)), SEARCH_HORIZON_DAYS + 1)
            .find(|period| period.end > after)
            .map(|period| period.start.max(after))
    }

    /// The first instant at or after `after` at which the desk is closed: `after` itself when it
    /// is closed then, else the end of the current open stretch (days that run into each other,
    /// such as Friday to 24:00 and Saturday from 00:00, count as one stretch). `None` when the
    /// desk stays open for the next two years.
    pub fn next_closing(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut periods = self.open_periods(day_before(self.local_date(after)), SEARCH_HORIZON_DAYS + 1);
        let Some(current) = periods.find(|period| period.end > after) else { return Some(after) };
        if !current.contains(after) {
            return Some(after);
        }
        let mut closes_at = current.end;
        for period in periods {
            if period.start > closes_at {
                return Some(closes_at);
            }
            closes_at = period.end;
        }
        None
    }

    /// The open time between `from` and `to`; zero when `to` is not after `from`.
    ///
    /// Walks the local dates of the interval, one cached period per date, so a span of a few
    /// days costs two time-zone lookups (for the ends) and a handful of array reads.
    pub fn business_duration(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        if to <= from {
            return Duration::zero();
        }
        let first = day_before(self.local_date(from));
        // From the day before `from`'s date through the day after `to`'s, for the reason
        // `is_open` looks at both; the walk stops at the first period starting at or after `to`.
        let last = self.local_date(to).succ_opt().unwrap_or(NaiveDate::MAX);
        let days = usize::try_from((last - first).num_days() + 1).unwrap_or(0);
        self.open_periods(first, days)
            .take_while(|period| period.start < to)
            .map(|period| period.end.min(to) - period.start.max(from))
            .filter(|open| *open > Duration::zero())
            .sum()
    }

    /// The local date of `at` in the desk's zone.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.schedule.timezone).date_naive()
    }

    /// The first instant of a local date in the desk's zone (the earliest, where midnight
    /// happens twice; the end of the skip, where the clock jumps over it).
    pub fn start_of_day(&self, date: NaiveDate) -> DateTime<Utc> {
        instant_at(self.schedule.timezone, date, config::TimeOfDay::MIDNIGHT, WhenRepeated::Earliest)
            .expect("every local date has a first instant")
    }

    /// `date`'s open period, if the desk opens that day at all.
    fn open_period_on(&self, date: NaiveDate) -> Option<OpenPeriod> {
        self.periods_by_year.period_on(date, |date| self.compute_open_period(date))
    }

    /// `open_period_on` without the cache.
    fn compute_open_period(&self, date: NaiveDate) -> Option<OpenPeriod> {
        let hours = self.schedule.weekly_hours[date.weekday().num_days_from_monday() as usize]?;
        if self.schedule.holidays.binary_search(&date).is_ok() {
            return None;
        }
        let zone = self.schedule.timezone;
        let start = instant_at(zone, date, hours.open, WhenRepeated::Earliest)?;
        let end = instant_at(zone, date, hours.close, WhenRepeated::Latest)?;
        (start < end).then_some(OpenPeriod { start, end })
    }

    /// The open periods of `days` local dates from `first`, in order and without overlap.
    ///
    /// Consecutive dates' periods overlap only where the clock goes back across midnight
    /// (yesterday's last 23:30 comes after today's first 00:00); each period is cut to start
    /// where the one before ended, so nothing is counted twice.
    fn open_periods(&self, first: NaiveDate, days: usize) -> impl Iterator<Item = OpenPeriod> + '_ {
        let mut covered_until: Option<DateTime<Utc>> = None;
        first.iter_days().take(days).filter_map(move |date| {
            let mut period = self.open_period_on(date)?;
            if let Some(until) = covered_until {
                period.start = period.start.max(until);
            }
            if period.end <= period.start {
                return None;
            }
            covered_until = Some(period.end);
            Some(period)
        })
    }
}

fn day_before(date: NaiveDate) -> NaiveDate {
    date.pred_opt().unwrap_or(date)
}
