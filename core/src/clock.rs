//! Where "now" comes from. Every rule that depends on time takes the instant as a value; the
//! application asks one injected [`Clock`] for it, so production reads the system clock and
//! tests set the time they need (a Friday evening, a lock an hour old) instead of sleeping or
//! depending on the hour they happen to run at.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use std::sync::Mutex;

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until it is set or advanced: for tests and benchmarks.
#[derive(Debug)]
pub struct SettableClock {
    now: Mutex<DateTime<Utc>>,
}

impl SettableClock {
    pub fn at(now: DateTime<Utc>) -> Self {
        SettableClock { now: Mutex::new(now) }
    }

    /// Starts at the system's time, truncated to whole microseconds (what databases keep).
    pub fn starting_now() -> Self {
        SettableClock::at(Utc::now().trunc_subsecs(6))
    }

    pub fn set(&self, now: DateTime<Utc>) {
        *self.lock() = now;
    }

    pub fn advance(&self, by: Duration) {
        *self.lock() += by;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DateTime<Utc>> {
        // A panic elsewhere while holding the lock leaves a valid instant behind.
        self.now.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Clock for SettableClock {
    fn now(&self) -> DateTime<Utc> {
        *self.lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settable_clock_stands_still_until_moved() {
        let start = DateTime::parse_from_rfc3339("2026-11-27T16:59:00Z").unwrap().with_timezone(&Utc);
        let clock = SettableClock::at(start);
        assert_eq!(clock.now(), start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::minutes(2));
        assert_eq!(clock.now(), start + Duration::minutes(2));
        clock.set(start);
        assert_eq!(clock.now(), start);
    }
}
