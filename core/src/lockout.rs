//! The lockout rules. The database reserves an attempt (increments the failure count
//! atomically) *before* any password is checked; these functions decide what that reserved
//! attempt may do, so that concurrent guesses can never buy more than `max_failed_attempts`
//! password verifications.

use chrono::{Duration, NaiveDateTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Consecutive failures that lock the account (the seeds' products use 5).
    pub max_failed_attempts: u32,
    /// When set, a lock lifts by itself this long after it was set.
    pub auto_unlock_after: Option<Duration>,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy { max_failed_attempts: 5, auto_unlock_after: None }
    }
}

/// What one login attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The password was right: the failure count goes back to zero.
    Succeeded,
    /// A wrong password, the account stays open.
    Failed,
    /// A wrong password that used the last allowed attempt: lock the account now.
    FailedAndLocked,
    /// The account was locked (or other attempts used up its allowance): the password is not
    /// even checked.
    RefusedLocked,
}

impl LockoutPolicy {
    /// Whether the attempt numbered `attempt_number` (1-based, as reserved in the database)
    /// may have its password verified at all.
    pub fn may_verify(&self, attempt_number: u32) -> bool {
        attempt_number <= self.max_failed_attempts
    }

    /// The outcome of a reserved attempt. `password_matches` is ignored when the attempt
    /// may not be verified.
    pub fn outcome(&self, attempt_number: u32, password_matches: bool) -> AttemptOutcome {
        if !self.may_verify(attempt_number) {
            AttemptOutcome::RefusedLocked
        } else if password_matches {
            AttemptOutcome::Succeeded
        } else if attempt_number == self.max_failed_attempts {
            AttemptOutcome::FailedAndLocked
        } else {
            AttemptOutcome::Failed
        }
    }

    /// The instant before which a lock counts as expired, when locks expire at all.
    pub fn expired_locks_before(&self, now: NaiveDateTime) -> Option<NaiveDateTime> {
        self.auto_unlock_after.map(|after| now - after)
    }

    /// Whether a lock set at `locked_at` still holds at `now`.
    pub fn is_locked(&self, locked_at: Option<NaiveDateTime>, now: NaiveDateTime) -> bool {
        match (locked_at, self.expired_locks_before(now)) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(at), Some(cutoff)) => at >= cutoff,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttemptOutcome::*;

    fn policy(max: u32) -> LockoutPolicy {
        LockoutPolicy { max_failed_attempts: max, auto_unlock_after: None }
    }

    #[test]
    fn outcomes_of_reserved_attempts() {
        let table = [
            // (max, attempt, password right, outcome)
            (5, 1, false, Failed),
            (5, 4, false, Failed),
            (5, 5, false, FailedAndLocked),
            (5, 6, false, RefusedLocked),
            (5, 50, false, RefusedLocked),
            (5, 1, true, Succeeded),
            (5, 5, true, Succeeded),
            // Past the allowance even the right password is refused, unverified.
            (5, 6, true, RefusedLocked),
            (1, 1, false, FailedAndLocked),
            (3, 3, false, FailedAndLocked),
        ];
        for (max, attempt, right, expected) in table {
            assert_eq!(policy(max).outcome(attempt, right), expected, "max {max}, attempt {attempt}, right {right}");
        }
    }

    #[test]
    fn fifty_concurrent_reservations_verify_at_most_five_and_lock_once() {
        let p = policy(5);
        let outcomes: Vec<_> = (1..=50).map(|n| p.outcome(n, false)).collect();
        assert_eq!(outcomes.iter().filter(|o| **o == FailedAndLocked).count(), 1);
        assert_eq!((1..=50).filter(|n| p.may_verify(*n)).count(), 5);
    }

    #[test]
    fn locks_are_permanent_unless_configured_to_expire() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap().and_hms_opt(9, 0, 0).unwrap();
        let later = at + Duration::days(400);
        assert!(policy(5).is_locked(Some(at), later));
        assert!(!policy(5).is_locked(None, later));
        let expiring = LockoutPolicy { max_failed_attempts: 5, auto_unlock_after: Some(Duration::minutes(30)) };
        assert!(expiring.is_locked(Some(at), at + Duration::minutes(29)));
        assert!(!expiring.is_locked(Some(at), at + Duration::minutes(31)));
    }
}
