//! The one rule for unlocking an account from a ticket. The unlock action enforces it, the
//! ticket page shows its refusal on the disabled button, the queue and the API report it:
//! all of them ask [`may_unlock`], so what the page predicts is what the action does.
//!
//! A helpdesk unlock is a classic social-engineering target, so the rule binds everything to
//! the account's *current* lock: a verification (or an approval) recorded before the lock
//! began proves nothing about who asks now, and a resolved ticket unlocks nothing. Privileged
//! accounts, and accounts support keeps unlocking, need a second person.

use super::TicketStatus;
use crate::calendar::BusinessCalendar;
use chrono::{DateTime, Utc};

/// How many support unlocks of one account within [`REPEAT_WINDOW_DAYS`] make the next one
/// need a second person.
pub const REPEAT_UNLOCKS: u32 = 3;
pub const REPEAT_WINDOW_DAYS: i64 = 30;

/// The account a ticket is about, as it stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountLock {
    /// The ticket names no account Keydesk knows.
    NoAccount,
    /// Unlocked already (self-serve, expiry, another ticket).
    NotLocked,
    /// Locked since this instant.
    Locked {
        since: DateTime<Utc>,
        /// An organisation's owner or admin, or support staff: whoever holds it can do harm.
        privileged: bool,
        /// Unlocks by support in the last [`REPEAT_WINDOW_DAYS`] days.
        recent_support_unlocks: u32,
    },
}

/// A person's act on the ticket: when, and who (a user id; `None` for the user themselves,
/// e.g. answering the challenge with their authenticator).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Act {
    pub at: DateTime<Utc>,
    pub by: Option<i64>,
}

/// What the rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnlockFacts {
    pub status: TicketStatus,
    /// The sender's verification, if any.
    pub verified: Option<Act>,
    /// A manager's approval of the unlock, if any.
    pub approved: Option<Act>,
    pub account: AccountLock,
}

/// Why a ticket counts as not verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unverified {
    /// Nobody has verified the sender.
    Never,
    /// The verification was recorded before the account's current lock began.
    Stale,
    /// The ticket is resolved or closed: it unlocks nothing any more.
    TicketResolved,
}

/// Why an unlock needs a manager's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondPerson {
    /// An organisation's owner or admin, or a staff account.
    PrivilegedAccount,
    /// Support has unlocked it [`REPEAT_UNLOCKS`] times in [`REPEAT_WINDOW_DAYS`] days.
    RepeatedUnlocks,
}

/// Why a ticket's account may not be unlocked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnlockRefusal {
    NotVerified(Unverified),
    /// Support unlocks only within working hours; `next_opening` is when it may.
    OutsideWorkingHours {
        next_opening: Option<DateTime<Utc>>,
    },
    NoAccount,
    NotLocked,
    ApprovalRequired(SecondPerson),
}

impl UnlockRefusal {
    /// The API's `error` code.
    pub fn code(self) -> &'static str {
        match self {
            UnlockRefusal::NotVerified(_) => "not_verified",
            UnlockRefusal::OutsideWorkingHours { .. } => "outside_working_hours",
            UnlockRefusal::NoAccount => "no_account",
            UnlockRefusal::NotLocked => "not_locked",
            UnlockRefusal::ApprovalRequired(_) => "approval_required",
        }
    }

    /// The API's `reason`: the code, made precise.
    pub fn reason_code(self) -> &'static str {
        match self {
            UnlockRefusal::NotVerified(Unverified::Never) => "not_verified",
            UnlockRefusal::NotVerified(Unverified::Stale) => "verification_stale",
            UnlockRefusal::NotVerified(Unverified::TicketResolved) => "ticket_resolved",
            UnlockRefusal::ApprovalRequired(SecondPerson::PrivilegedAccount) => "privileged_account",
            UnlockRefusal::ApprovalRequired(SecondPerson::RepeatedUnlocks) => "repeated_unlocks",
            other => other.code(),
        }
    }

    /// The reason in words, as the ticket page and the refusal's flash show it.
    pub fn message(self, calendar: &BusinessCalendar) -> String {
        match self {
            UnlockRefusal::NotVerified(Unverified::Never) => {
                "The ticket is not verified: verify the sender first.".into()
            }
            UnlockRefusal::NotVerified(Unverified::Stale) => {
                "The verification was recorded before the account's current lock began: verify the sender again.".into()
            }
            UnlockRefusal::NotVerified(Unverified::TicketResolved) => {
                "The ticket is resolved: it unlocks nothing. If the user is locked again, their new request is verified afresh."
                    .into()
            }
            UnlockRefusal::OutsideWorkingHours { next_opening } => {
                format!("{}.", calendar.describe_closed(next_opening))
            }
            UnlockRefusal::NoAccount => "The ticket is not linked to an account: there is nothing to unlock.".into(),
            UnlockRefusal::NotLocked => "The account is already unlocked — resolve without unlocking.".into(),
            UnlockRefusal::ApprovalRequired(SecondPerson::PrivilegedAccount) => {
                "This account can manage others (an owner, an admin or support staff): a manager other than the verifier must approve the unlock.".into()
            }
            UnlockRefusal::ApprovalRequired(SecondPerson::RepeatedUnlocks) => format!(
                "Support has unlocked this account {REPEAT_UNLOCKS} times in {REPEAT_WINDOW_DAYS} days: a manager other than the verifier must approve the unlock."
            ),
        }
    }
}

/// Whether the ticket's account may be unlocked at `now`, and if not, the first reason why
/// (in this order: the ticket, its verification, working hours, the account, a second person).
pub fn may_unlock(facts: &UnlockFacts, calendar: &BusinessCalendar, now: DateTime<Utc>) -> Result<(), UnlockRefusal> {
    if facts.status.is_resolved() {
        return Err(UnlockRefusal::NotVerified(Unverified::TicketResolved));
    }
    let Some(verified) = facts.verified else {
        return Err(UnlockRefusal::NotVerified(Unverified::Never));
    };
    if let AccountLock::Locked { since, .. } = facts.account {
        if !after_lock(verified, since) {
            return Err(UnlockRefusal::NotVerified(Unverified::Stale));
        }
    }
    if !calendar.is_open(now) {
        return Err(UnlockRefusal::OutsideWorkingHours { next_opening: calendar.next_opening(now) });
    }
    match facts.account {
        AccountLock::NoAccount => Err(UnlockRefusal::NoAccount),
        AccountLock::NotLocked => Err(UnlockRefusal::NotLocked),
        AccountLock::Locked { since, .. } => match second_person_needed(facts) {
            Some(why) if !facts.approved.is_some_and(|a| approves(a, verified, since)) => {
                Err(UnlockRefusal::ApprovalRequired(why))
            }
            _ => Ok(()),
        },
    }
}

/// Why this unlock needs a manager's approval, if it does (whether or not it has one).
pub fn second_person_needed(facts: &UnlockFacts) -> Option<SecondPerson> {
    match facts.account {
        AccountLock::Locked { privileged: true, .. } => Some(SecondPerson::PrivilegedAccount),
        AccountLock::Locked { recent_support_unlocks, .. } if recent_support_unlocks >= REPEAT_UNLOCKS => {
            Some(SecondPerson::RepeatedUnlocks)
        }
        _ => None,
    }
}

/// Why a manager may not approve an unlock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalRefusal {
    #[error("the sender is not verified for the current lock: verify first, then ask a manager to approve")]
    NotVerified,
    #[error("the person who verified the sender may not also approve the unlock: another manager must")]
    SamePerson,
    #[error("this unlock needs no approval")]
    NotNeeded,
}

impl ApprovalRefusal {
    pub const CODE: &'static str = "approval_refused";
}

/// Whether the manager `approver` may approve this ticket's unlock now.
pub fn may_approve(facts: &UnlockFacts, approver: i64) -> Result<(), ApprovalRefusal> {
    let AccountLock::Locked { since, .. } = facts.account else { return Err(ApprovalRefusal::NotNeeded) };
    if second_person_needed(facts).is_none() {
        return Err(ApprovalRefusal::NotNeeded);
    }
    let verified = facts.verified.filter(|v| after_lock(*v, since)).ok_or(ApprovalRefusal::NotVerified)?;
    if verified.by == Some(approver) {
        return Err(ApprovalRefusal::SamePerson);
    }
    Ok(())
}

fn after_lock(act: Act, lock_since: DateTime<Utc>) -> bool {
    act.at > lock_since
}

/// An approval counts for this lock and this verification, and came from someone else.
fn approves(approval: Act, verified: Act, lock_since: DateTime<Utc>) -> bool {
    after_lock(approval, lock_since)
        && approval.at >= verified.at
        && approval.by.is_some()
        && approval.by != verified.by
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::WorkingHoursConfig;
    use chrono::Duration;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn london_office() -> BusinessCalendar {
        BusinessCalendar::from_config(&WorkingHoursConfig::default()).unwrap()
    }

    const AGENT: i64 = 7;
    const MANAGER: i64 = 8;
    const OTHER_MANAGER: i64 = 9;

    fn locked_since(text: &str) -> AccountLock {
        AccountLock::Locked { since: at(text), privileged: false, recent_support_unlocks: 0 }
    }

    fn verified(text: &str, by: i64) -> Option<Act> {
        Some(Act { at: at(text), by: Some(by) })
    }

    fn open(verified: Option<Act>, account: AccountLock) -> UnlockFacts {
        UnlockFacts { status: TicketStatus::Open, verified, approved: None, account }
    }

    #[test]
    fn the_first_reason_wins_in_a_fixed_order() {
        let calendar = london_office();
        let tuesday_noon = at("2026-11-24T12:00:00Z");
        let saturday = at("2026-11-21T19:00:00Z");
        let v = verified("2026-11-24T10:00:00Z", AGENT);
        let locked = locked_since("2026-11-20T08:00:00Z");
        let closed = UnlockRefusal::OutsideWorkingHours { next_opening: Some(at("2026-11-23T09:00:00Z")) };
        let resolved = UnlockFacts { status: TicketStatus::Resolved, ..open(v, locked) };
        let cases = [
            (open(v, locked), tuesday_noon, Ok(())),
            (open(None, locked), tuesday_noon, Err(UnlockRefusal::NotVerified(Unverified::Never))),
            (open(None, AccountLock::NoAccount), saturday, Err(UnlockRefusal::NotVerified(Unverified::Never))),
            (resolved, tuesday_noon, Err(UnlockRefusal::NotVerified(Unverified::TicketResolved))),
            (open(v, locked), saturday, Err(closed)),
            (open(v, AccountLock::NoAccount), saturday, Err(closed)),
            (open(v, AccountLock::NoAccount), tuesday_noon, Err(UnlockRefusal::NoAccount)),
            (open(v, AccountLock::NotLocked), tuesday_noon, Err(UnlockRefusal::NotLocked)),
        ];
        for (facts, now, expected) in cases {
            assert_eq!(may_unlock(&facts, &calendar, now), expected, "{facts:?} at {now}");
        }
    }

    #[test]
    fn a_verification_counts_only_for_the_lock_it_was_made_under() {
        let calendar = london_office();
        let now = at("2026-11-24T12:00:00Z");
        // Verified in September, resolved, locked again this morning: stale.
        let old = verified("2026-09-15T10:00:00Z", AGENT);
        let relocked = locked_since("2026-11-24T08:30:00Z");
        assert_eq!(
            may_unlock(&open(old, relocked), &calendar, now),
            Err(UnlockRefusal::NotVerified(Unverified::Stale))
        );
        // Verified this morning, then the account locked again before the unlock: stale.
        let this_morning = verified("2026-11-24T09:10:00Z", AGENT);
        let locked_after = locked_since("2026-11-24T09:20:00Z");
        let stale = may_unlock(&open(this_morning, locked_after), &calendar, now);
        assert_eq!(stale, Err(UnlockRefusal::NotVerified(Unverified::Stale)));
        // Verified again after the new lock: allowed.
        let again = verified("2026-11-24T09:30:00Z", AGENT);
        assert_eq!(may_unlock(&open(again, locked_after), &calendar, now), Ok(()));
        // At the very instant the lock began is not after it.
        let same = verified("2026-11-24T09:20:00Z", AGENT);
        assert!(may_unlock(&open(same, locked_after), &calendar, now).is_err());
    }

    #[test]
    fn privileged_and_often_unlocked_accounts_need_another_managers_approval() {
        let calendar = london_office();
        let now = at("2026-11-24T12:00:00Z");
        let since = at("2026-11-24T08:00:00Z");
        let owner = AccountLock::Locked { since, privileged: true, recent_support_unlocks: 0 };
        let often = AccountLock::Locked { since, privileged: false, recent_support_unlocks: REPEAT_UNLOCKS };
        let twice = AccountLock::Locked { since, privileged: false, recent_support_unlocks: REPEAT_UNLOCKS - 1 };
        let by_agent = verified("2026-11-24T09:00:00Z", AGENT);
        let by_manager = verified("2026-11-24T09:00:00Z", MANAGER);
        let approval = |by: i64, text: &str| Some(Act { at: at(text), by: Some(by) });
        let with = |facts: UnlockFacts, approved| UnlockFacts { approved, ..facts };
        let cases = [
            (open(by_agent, owner), Err(UnlockRefusal::ApprovalRequired(SecondPerson::PrivilegedAccount))),
            (open(by_agent, often), Err(UnlockRefusal::ApprovalRequired(SecondPerson::RepeatedUnlocks))),
            (open(by_agent, twice), Ok(())),
            (with(open(by_agent, owner), approval(MANAGER, "2026-11-24T09:05:00Z")), Ok(())),
            // The verifier's own approval, however it got there, is no second person.
            (
                with(open(by_manager, owner), approval(MANAGER, "2026-11-24T09:05:00Z")),
                Err(UnlockRefusal::ApprovalRequired(SecondPerson::PrivilegedAccount)),
            ),
            (with(open(by_manager, owner), approval(OTHER_MANAGER, "2026-11-24T09:05:00Z")), Ok(())),
            // An approval from before the current lock, or before this verification, is stale.
            (
                with(open(by_agent, often), approval(MANAGER, "2026-11-23T16:00:00Z")),
                Err(UnlockRefusal::ApprovalRequired(SecondPerson::RepeatedUnlocks)),
            ),
            (
                with(open(by_agent, often), approval(MANAGER, "2026-11-24T08:30:00Z")),
                Err(UnlockRefusal::ApprovalRequired(SecondPerson::RepeatedUnlocks)),
            ),
        ];
        for (facts, expected) in cases {
            assert_eq!(may_unlock(&facts, &calendar, now), expected, "{facts:?}");
        }
    }

    #[test]
    fn who_may_approve() {
        let since = at("2026-11-24T08:00:00Z");
        let owner = AccountLock::Locked { since, privileged: true, recent_support_unlocks: 0 };
        let member = AccountLock::Locked { since, privileged: false, recent_support_unlocks: 0 };
        let by_manager = verified("2026-11-24T09:00:00Z", MANAGER);
        let old = verified("2026-11-20T09:00:00Z", AGENT);
        assert_eq!(may_approve(&open(by_manager, owner), OTHER_MANAGER), Ok(()));
        assert_eq!(may_approve(&open(by_manager, owner), MANAGER), Err(ApprovalRefusal::SamePerson));
        assert_eq!(may_approve(&open(old, owner), MANAGER), Err(ApprovalRefusal::NotVerified));
        assert_eq!(may_approve(&open(None, owner), MANAGER), Err(ApprovalRefusal::NotVerified));
        assert_eq!(may_approve(&open(by_manager, member), OTHER_MANAGER), Err(ApprovalRefusal::NotNeeded));
        // The user's own authenticator verified: any manager may approve.
        let by_user = Some(Act { at: since + Duration::minutes(5), by: None });
        assert_eq!(may_approve(&open(by_user, owner), MANAGER), Ok(()));
    }

    #[test]
    fn refusals_have_a_code_a_reason_and_words() {
        let calendar = london_office();
        let closed = UnlockRefusal::OutsideWorkingHours { next_opening: Some(at("2026-11-23T09:00:00Z")) };
        assert_eq!((closed.code(), closed.reason_code()), ("outside_working_hours", "outside_working_hours"));
        assert_eq!(closed.message(&calendar), "Support is closed; opens Mon 23 Nov 09:00 Europe/London.");
        let stale = UnlockRefusal::NotVerified(Unverified::Stale);
        assert_eq!((stale.code(), stale.reason_code()), ("not_verified", "verification_stale"));
        let resolved = UnlockRefusal::NotVerified(Unverified::TicketResolved);
        assert_eq!((resolved.code(), resolved.reason_code()), ("not_verified", "ticket_resolved"));
        let approval = UnlockRefusal::ApprovalRequired(SecondPerson::RepeatedUnlocks);
        assert_eq!((approval.code(), approval.reason_code()), ("approval_required", "repeated_unlocks"));
        assert_eq!(
            UnlockRefusal::NotVerified(Unverified::Never).message(&calendar),
            "The ticket is not verified: verify the sender first."
        );
    }
}
