//! Retention: what is old enough to go. Account activity-log entries older than
//! `activity`, and the raw bytes of mail taken in longer ago than `raw_mail`; tickets, their
//! threads and their history (which reports read) are never pruned.

use chrono::{Duration, NaiveDateTime};
use std::fmt;

/// The unlock rule counts support unlocks in the activity log over this many days, so the
/// log must keep at least that much.
pub const MIN_ACTIVITY_DAYS: i64 = crate::tickets::REPEAT_WINDOW_DAYS;

/// How long each kind of data is kept; `None` keeps it for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub activity: Option<Duration>,
    pub raw_mail: Option<Duration>,
}

/// The instants before which data goes, for one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    pub activity: Option<NaiveDateTime>,
    pub raw_mail: Option<NaiveDateTime>,
}

impl RetentionPolicy {
    /// Where each kind of data is cut at `now`: what is strictly older goes.
    pub fn cutoffs(&self, now: NaiveDateTime) -> Cutoffs {
        let before = |kept: Option<Duration>| kept.map(|d| now.checked_sub_signed(d).unwrap_or(NaiveDateTime::MIN));
        Cutoffs { activity: before(self.activity), raw_mail: before(self.raw_mail) }
    }
}

/// What one run did, as the activity log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionRun {
    pub cutoffs: Cutoffs,
    pub activity_deleted: u64,
    pub raw_mail_cleared: u64,
}

impl fmt::Display for RetentionRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let when = |at: NaiveDateTime| at.format("%Y-%m-%d %H:%M UTC").to_string();
        match self.cutoffs.activity {
            Some(at) => write!(f, "{} activity entries from before {} deleted", self.activity_deleted, when(at))?,
            None => f.write_str("activity kept (retention.activity is off)")?,
        }
        match self.cutoffs.raw_mail {
            Some(at) => write!(f, "; raw bytes of {} messages from before {} cleared", self.raw_mail_cleared, when(at)),
            None => f.write_str("; raw mail kept (retention.raw_mail is off)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn cutoffs_count_back_from_now_and_off_keeps_everything() {
        let policy = RetentionPolicy { activity: Some(Duration::days(400)), raw_mail: None };
        let cutoffs = policy.cutoffs(at("2026-12-05 12:00"));
        assert_eq!(cutoffs, Cutoffs { activity: Some(at("2025-10-31 12:00")), raw_mail: None });
        let run = RetentionRun { cutoffs, activity_deleted: 12, raw_mail_cleared: 0 };
        assert_eq!(
            run.to_string(),
            "12 activity entries from before 2025-10-31 12:00 UTC deleted; raw mail kept (retention.raw_mail is off)"
        );
    }

    #[test]
    fn a_period_longer_than_time_itself_keeps_everything() {
        let policy = RetentionPolicy { activity: Some(Duration::MAX), raw_mail: Some(Duration::days(90)) };
        let cutoffs = policy.cutoffs(at("2026-12-05 12:00"));
        assert_eq!(cutoffs.activity, Some(NaiveDateTime::MIN));
        assert_eq!(cutoffs.raw_mail, Some(at("2026-09-06 12:00")));
    }
}
