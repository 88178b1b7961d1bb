//! The one rule for unlocking an account from a ticket. The unlock action enforces it, the
//! ticket page shows its refusal on the disabled button, the queue and the API report it:
//! all of them ask [`may_unlock`], so what the page predicts is what the action does.

use super::TicketStatus;
use crate::calendar::BusinessCalendar;
use chrono::{DateTime, Utc};

/// The account a ticket is about, as it stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountLock {
    /// The ticket names no account Keydesk knows.
    NoAccount,
    /// Unlocked already (self-serve, expiry, another ticket).
    NotLocked,
    /// Locked since this instant.
    Locked { since: DateTime<Utc> },
}

/// What the rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnlockFacts {
    pub status: TicketStatus,
    /// When the sender was verified, if they were.
    pub verified_at: Option<DateTime<Utc>>,
    pub account: AccountLock,
}

/// Why a ticket's account may not be unlocked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnlockRefusal {
    NotVerified,
    /// Support unlocks only within working hours; `next_opening` is when it may.
    OutsideWorkingHours {
        next_opening: Option<DateTime<Utc>>,
    },
    NoAccount,
    NotLocked,
}

impl UnlockRefusal {
    /// The API's `error` code.
    pub fn code(self) -> &'static str {
        match self {
            UnlockRefusal::NotVerified => "not_verified",
            UnlockRefusal::OutsideWorkingHours { .. } => "outside_working_hours",
            UnlockRefusal::NoAccount => "no_account",
            UnlockRefusal::NotLocked => "not_locked",
        }
    }

    /// The reason in words, as the ticket page and the refusal's flash show it.
    pub fn reason(self, calendar: &BusinessCalendar) -> String {
        match self {
            UnlockRefusal::NotVerified => "The ticket is not verified: verify the sender first.".into(),
            UnlockRefusal::OutsideWorkingHours { next_opening } => {
                format!("{}.", calendar.describe_closed(next_opening))
            }
            UnlockRefusal::NoAccount => "The ticket is not linked to an account: there is nothing to unlock.".into(),
            UnlockRefusal::NotLocked => "The account is already unlocked — resolve without unlocking.".into(),
        }
    }
}

/// Whether the ticket's account may be unlocked at `now`, and if not, the first reason why
/// (in this order: verification, working hours, the account).
pub fn may_unlock(facts: &UnlockFacts, calendar: &BusinessCalendar, now: DateTime<Utc>) -> Result<(), UnlockRefusal> {
    if facts.verified_at.is_none() {
        return Err(UnlockRefusal::NotVerified);
    }
    if !calendar.is_open(now) {
        return Err(UnlockRefusal::OutsideWorkingHours { next_opening: calendar.next_opening(now) });
    }
    match facts.account {
        AccountLock::NoAccount => Err(UnlockRefusal::NoAccount),
        AccountLock::NotLocked => Err(UnlockRefusal::NotLocked),
        AccountLock::Locked { .. } => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::WorkingHoursConfig;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn london_office() -> BusinessCalendar {
        BusinessCalendar::from_config(&WorkingHoursConfig::default()).unwrap()
    }

    #[test]
    fn the_first_reason_wins_in_a_fixed_order() {
        let calendar = london_office();
        let tuesday_noon = at("2026-11-24T12:00:00Z");
        let saturday = at("2026-11-21T19:00:00Z");
        let verified = Some(at("2026-11-24T10:00:00Z"));
        let locked = AccountLock::Locked { since: at("2026-11-24T08:00:00Z") };
        let facts = |verified_at, account| UnlockFacts { status: TicketStatus::Open, verified_at, account };
        let closed = UnlockRefusal::OutsideWorkingHours { next_opening: Some(at("2026-11-23T09:00:00Z")) };
        let cases = [
            (facts(verified, locked), tuesday_noon, Ok(())),
            (facts(None, locked), tuesday_noon, Err(UnlockRefusal::NotVerified)),
            (facts(None, AccountLock::NoAccount), saturday, Err(UnlockRefusal::NotVerified)),
            (facts(verified, locked), saturday, Err(closed)),
            (facts(verified, AccountLock::NoAccount), saturday, Err(closed)),
            (facts(verified, AccountLock::NoAccount), tuesday_noon, Err(UnlockRefusal::NoAccount)),
            (facts(verified, AccountLock::NotLocked), tuesday_noon, Err(UnlockRefusal::NotLocked)),
        ];
        for (facts, now, expected) in cases {
            assert_eq!(may_unlock(&facts, &calendar, now), expected, "{facts:?} at {now}");
        }
    }

    #[test]
    fn refusals_have_a_code_and_words() {
        let calendar = london_office();
        let closed = UnlockRefusal::OutsideWorkingHours { next_opening: Some(at("2026-11-23T09:00:00Z")) };
        assert_eq!(closed.code(), "outside_working_hours");
        assert_eq!(closed.reason(&calendar), "Support is closed; opens Mon 23 Nov 09:00 Europe/London.");
        assert_eq!(
            UnlockRefusal::NotVerified.reason(&calendar),
            "The ticket is not verified: verify the sender first."
        );
        assert_eq!(UnlockRefusal::NotLocked.code(), "not_locked");
    }
}
