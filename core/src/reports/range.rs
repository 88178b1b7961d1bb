//! Which days a report covers: local dates in the desk's zone, from the first to the last
//! inclusive, read as of the end of the last day or now, whichever comes first.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::BusinessCalendar;

/// Two years: long enough to compare a year with the one before, short enough that the
/// daily charts stay readable.
pub const MAX_DAYS: i64 = 731;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReportWindow {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The first instant of `from`, local midnight.
    pub start: DateTime<Utc>,
    /// The first instant after `to`.
    pub end: DateTime<Utc>,
    /// What the report sees: history before the end of the range, or before now when the
    /// range runs into the future. Later events are left out, so a past week's report never
    /// changes.
    pub as_of: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("the range is reversed: {from} is after {to}")]
    Reversed { from: NaiveDate, to: NaiveDate },
    #[error("the range starts on {from}, after today ({today}): there is nothing to report yet")]
    StartsInTheFuture { from: NaiveDate, today: NaiveDate },
    #[error("the range covers {days} days; a report covers at most {MAX_DAYS}")]
    TooLong { days: i64 },
}

impl ReportWindow {
    pub fn new(
        calendar: &BusinessCalendar,
        from: NaiveDate,
        to: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<ReportWindow, RangeError> {
        let today = calendar.local_date(now);
        if from > to {
            return Err(RangeError::Reversed { from, to });
        }
        if from > today {
            return Err(RangeError::StartsInTheFuture { from, today });
        }
        let days = (to - from).num_days() + 1;
        if days > MAX_DAYS {
            return Err(RangeError::TooLong { days });
        }
        let start = calendar.start_of_day(from);
        let end = calendar.start_of_day(to + Duration::days(1));
        Ok(ReportWindow { from, to, start, end, as_of: end.min(now) })
    }

    /// The dates that have begun by `as_of`: the range's days, less any still to come.
    pub fn days_so_far(&self, calendar: &BusinessCalendar) -> Vec<NaiveDate> {
        let last = if self.as_of < self.end { calendar.local_date(self.as_of) } else { self.to };
        self.from.iter_days().take_while(|day| *day <= last).collect()
    }
}

/// The ranges the report page offers in one click.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    ThisWeek,
    LastWeek,
    Last30Days,
    ThisQuarter,
}

impl Preset {
    pub const ALL: [Preset; 4] = [Preset::ThisWeek, Preset::LastWeek, Preset::Last30Days, Preset::ThisQuarter];

    pub fn label(self) -> &'static str {
        match self {
            Preset::ThisWeek => "This week",
            Preset::LastWeek => "Last week",
            Preset::Last30Days => "Last 30 days",
            Preset::ThisQuarter => "This quarter",
        }
    }

    /// The first and last date, for a desk whose local date is `today`. Weeks start on Monday.
    pub fn dates(self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
        match self {
            Preset::ThisWeek => (monday, monday + Duration::days(6)),
            Preset::LastWeek => (monday - Duration::days(7), monday - Duration::days(1)),
            Preset::Last30Days => (today - Duration::days(29), today),
            Preset::ThisQuarter => {
                let first_month = (today.month0() / 3) * 3 + 1;
                let start =
                    NaiveDate::from_ymd_opt(today.year(), first_month, 1).expect("a quarter starts on a real date");
                let next = if first_month == 10 {
                    NaiveDate::from_ymd_opt(today.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(today.year(), first_month + 3, 1)
                };
                (start, next.expect("a quarter ends before a real date") - Duration::days(1))
            }
        }
    }
}
