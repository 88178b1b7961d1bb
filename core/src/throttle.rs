//! Throttles: how many of something one bucket (a client address, an account) may do per
//! window. The database counts (atomically, shared by every process); this says what a
//! count means.

use chrono::{Duration, NaiveDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Events allowed per window; 0 turns the throttle off.
    pub limit: u32,
    pub window: Duration,
}

impl ThrottlePolicy {
    pub fn is_off(&self) -> bool {
        self.limit == 0
    }

    /// A window that began at or before this instant is over.
    pub fn expired_before(&self, now: NaiveDateTime) -> NaiveDateTime {
        now - self.window
    }

    /// Whether the event counted as number `count` of a window that began at `window_start`
    /// may go ahead; if not, how long until the window is over.
    pub fn verdict(&self, count: i32, window_start: NaiveDateTime, now: NaiveDateTime) -> Result<(), Duration> {
        if self.is_off() || i64::from(count) <= i64::from(self.limit) {
            Ok(())
        } else {
            Err((window_start + self.window - now).max(Duration::seconds(1)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_counts_within_a_window_and_says_how_long_to_wait() {
        let start = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap().and_hms_opt(12, 0, 0).unwrap();
        let policy = ThrottlePolicy { limit: 3, window: Duration::minutes(15) };
        let later = start + Duration::minutes(5);
        assert_eq!(policy.verdict(1, start, later), Ok(()));
        assert_eq!(policy.verdict(3, start, later), Ok(()));
        assert_eq!(policy.verdict(4, start, later), Err(Duration::minutes(10)));
        assert_eq!(policy.expired_before(later), start - Duration::minutes(10));
        let off = ThrottlePolicy { limit: 0, window: Duration::minutes(15) };
        assert_eq!(off.verdict(1_000, start, later), Ok(()));
    }
}
