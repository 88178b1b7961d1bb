//! Each year's open periods, worked out once per calendar the first time a date in that year
//! is asked about. A report over a million tickets asks about the same few years again and
//! again; with the periods at hand a few days' `business_duration` is a handful of array
//! reads instead of two time-zone lookups per day.
//!
//! It is a cache and nothing more: the periods are a pure function of the schedule, so a
//! cached and a freshly computed period are always equal (tested in `mod tests` below).

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};

use super::OpenPeriod;

/// Years outside this range are computed on every call: rare, and still correct.
const FIRST_CACHED_YEAR: i32 = 1970;
const CACHED_YEARS: usize = 130;

/// One year's periods, indexed by day of the year from 0.
type YearOfPeriods = Box<[Option<OpenPeriod>]>;

pub(super) struct YearCache {
    /// One slot per year from `FIRST_CACHED_YEAR`, filled on first use; `OnceLock` makes
    /// filling safe when several request threads share one calendar.
    years: Box<[OnceLock<YearOfPeriods>]>,
}

impl YearCache {
    pub(super) fn new() -> YearCache {
        YearCache { years: (0..CACHED_YEARS).map(|_| OnceLock::new()).collect() }
    }

    /// `compute(date)`, from the cache when `date`'s year is in range (computing the whole
    /// year with `compute` the first time).
    pub(super) fn period_on(
        &self,
        date: NaiveDate,
        compute: impl Fn(NaiveDate) -> Option<OpenPeriod>,
    ) -> Option<OpenPeriod> {
        let year = date.year();
        let slot = usize::try_from(year - FIRST_CACHED_YEAR).ok().and_then(|index| self.years.get(index));
        let Some(slot) = slot else { return compute(date) };
        let periods = slot.get_or_init(|| {
            let new_year = NaiveDate::from_yo_opt(year, 1).expect("a cached year has a 1 January");
            new_year.iter_days().take_while(|day| day.year() == year).map(&compute).collect()
        });
        periods[date.ordinal0() as usize]
    }
}

impl Clone for YearCache {
    /// A clone starts empty: it fills again as it is used.
    fn clone(&self) -> Self {
        YearCache::new()
    }
}

impl std::fmt::Debug for YearCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let filled = self.years.iter().filter(|slot| slot.get().is_some()).count();
        f.debug_struct("YearCache").field("years_filled", &filled).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::calendar;

    #[test]
    fn cached_periods_equal_computed_ones_on_every_day_around_the_clock_changes() {
        let names = [
            "london",
            "london sunday night",
            "london sunday gap",
            "london sunday in gap",
            "new york sunday gap",
            "24h every day",
        ];
        for name in names {
            let calendar = calendar(name);
            let first = chrono::NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
            // Through a year boundary and both of 2026's clock changes.
            for date in first.iter_days().take(400) {
                assert_eq!(calendar.open_period_on(date), calendar.compute_open_period(date), "{name} {date}");
            }
        }
    }

    #[test]
    fn years_outside_the_cache_are_computed() {
        let calendar = calendar("london");
        for date in ["1969-12-31", "2100-01-04", "2200-06-02"] {
            let date: chrono::NaiveDate = date.parse().unwrap();
            assert_eq!(calendar.open_period_on(date), calendar.compute_open_period(date), "{date}");
        }
    }
}
