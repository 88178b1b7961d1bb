//! What a ticket needs next, derived from the one unlock rule ([`may_unlock`]) so that the
//! queue's column, the ticket page's banner and the action it offers never disagree with
//! what the Unlock button would do.

use super::unlock_rule::{may_unlock, AccountLock, UnlockFacts, UnlockRefusal};
use super::TicketStatus;
use crate::calendar::BusinessCalendar;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The next thing to do with a ticket, for whoever works it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Everything holds: an agent may unlock now.
    ReadyToUnlock,
    /// The account was unlocked another way (self-serve, another ticket): only the ticket is left.
    AlreadyUnlocked,
    /// Verified, but the account needs a second person's approval.
    NeedsApproval,
    /// Nobody has verified the sender for the current lock, and no challenge is out.
    NeedsVerification,
    /// A mailbox challenge went to the registered address and is not answered yet.
    AwaitingMailboxConfirmation,
    /// No account matches the request: ask the user which address they registered.
    FindTheAccount,
    /// Support asked the user something and waits for the answer.
    WaitingOnUser,
    /// Ready but for the hours: support unlocks from `opens` on.
    SupportClosed { opens: Option<DateTime<Utc>> },
    /// Resolved or closed: nothing left to do.
    Done,
}

/// Facts beyond the unlock rule's that decide the next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// An unused, unexpired mailbox challenge exists for the ticket.
    pub challenge_pending: bool,
}

/// What the ticket needs next, at `now`.
pub fn next_step(facts: &UnlockFacts, progress: Progress, calendar: &BusinessCalendar, now: DateTime<Utc>) -> NextStep {
    if facts.status.is_resolved() {
        return NextStep::Done;
    }
    if facts.account == AccountLock::NotLocked {
        return NextStep::AlreadyUnlocked;
    }
    let waiting = facts.status == TicketStatus::WaitingOnUser;
    match may_unlock(facts, calendar, now) {
        Ok(()) => NextStep::ReadyToUnlock,
        Err(_) if waiting => NextStep::WaitingOnUser,
        Err(UnlockRefusal::NoAccount) => NextStep::FindTheAccount,
        Err(UnlockRefusal::NotVerified(_)) if facts.account == AccountLock::NoAccount => NextStep::FindTheAccount,
        Err(UnlockRefusal::NotVerified(_)) if progress.challenge_pending => NextStep::AwaitingMailboxConfirmation,
        Err(UnlockRefusal::NotVerified(_)) => NextStep::NeedsVerification,
        Err(UnlockRefusal::ApprovalRequired(_)) => NextStep::NeedsApproval,
        Err(UnlockRefusal::OutsideWorkingHours { next_opening }) => NextStep::SupportClosed { opens: next_opening },
        Err(UnlockRefusal::NotLocked) => NextStep::AlreadyUnlocked,
    }
}

impl NextStep {
    /// A stable name: a CSS class, the API's value and the queue's sort key's name.
    pub fn code(self) -> &'static str {
        match self {
            NextStep::ReadyToUnlock => "ready_to_unlock",
            NextStep::AlreadyUnlocked => "already_unlocked",
            NextStep::NeedsApproval => "needs_approval",
            NextStep::NeedsVerification => "needs_verification",
            NextStep::AwaitingMailboxConfirmation => "awaiting_mailbox_confirmation",
            NextStep::FindTheAccount => "find_the_account",
            NextStep::WaitingOnUser => "waiting_on_user",
            NextStep::SupportClosed { .. } => "support_closed",
            NextStep::Done => "done",
        }
    }

    /// The step in a few words, as the queue's column shows it.
    pub fn label(self, calendar: &BusinessCalendar) -> String {
        match self {
            NextStep::ReadyToUnlock => "Ready to unlock".into(),
            NextStep::AlreadyUnlocked => "Already unlocked — resolve".into(),
            NextStep::NeedsApproval => "Needs approval".into(),
            NextStep::NeedsVerification => "Needs verification".into(),
            NextStep::AwaitingMailboxConfirmation => "Awaiting mailbox confirmation".into(),
            NextStep::FindTheAccount => "No account found — ask the user".into(),
            NextStep::WaitingOnUser => "Waiting on user".into(),
            NextStep::SupportClosed { opens: Some(at) } => {
                format!("Support closed — opens {}", calendar.describe_instant(at))
            }
            NextStep::SupportClosed { opens: None } => "Support closed".into(),
            NextStep::Done => "Done".into(),
        }
    }

    /// Where the step sorts in the queue: what an agent can finish now first. Outside working
    /// hours nothing is ready to unlock, so the verifications (which may be done at any time)
    /// come first by the same order.
    pub fn urgency(self) -> u8 {
        match self {
            NextStep::ReadyToUnlock => 0,
            NextStep::AlreadyUnlocked => 1,
            NextStep::NeedsApproval => 2,
            NextStep::NeedsVerification => 3,
            NextStep::FindTheAccount => 4,
            NextStep::SupportClosed { .. } => 5,
            NextStep::AwaitingMailboxConfirmation => 6,
            NextStep::WaitingOnUser => 7,
            NextStep::Done => 8,
        }
    }
}

/// A next step as the pages and the API carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextStepView {
    pub code: &'static str,
    pub label: String,
}

impl NextStepView {
    pub fn of(step: NextStep, calendar: &BusinessCalendar) -> NextStepView {
        NextStepView { code: step.code(), label: step.label(calendar) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::WorkingHoursConfig;
    use crate::tickets::Act;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn facts(status: TicketStatus, verified: Option<&str>, account: AccountLock) -> UnlockFacts {
        UnlockFacts { status, verified: verified.map(|t| Act { at: at(t), by: Some(7) }), approved: None, account }
    }

    #[test]
    fn each_state_of_a_ticket_has_one_next_step() {
        let calendar = BusinessCalendar::from_config(&WorkingHoursConfig::default()).unwrap();
        let tuesday_noon = at("2026-11-24T12:00:00Z");
        let saturday = at("2026-11-21T19:00:00Z");
        let locked =
            AccountLock::Locked { since: at("2026-11-24T08:00:00Z"), privileged: false, recent_support_unlocks: 0 };
        let owner =
            AccountLock::Locked { since: at("2026-11-24T08:00:00Z"), privileged: true, recent_support_unlocks: 0 };
        let this_morning = Some("2026-11-24T09:00:00Z");
        let last_month = Some("2026-10-24T09:00:00Z");
        let pending = Progress { challenge_pending: true };
        let none = Progress::default();
        use TicketStatus::*;
        let cases = [
            (facts(Open, this_morning, locked), none, tuesday_noon, NextStep::ReadyToUnlock),
            (
                facts(Open, this_morning, locked),
                none,
                saturday,
                NextStep::SupportClosed { opens: Some(at("2026-11-23T09:00:00Z")) },
            ),
            (facts(New, None, locked), none, tuesday_noon, NextStep::NeedsVerification),
            (facts(New, None, locked), none, saturday, NextStep::NeedsVerification),
            (facts(New, last_month, locked), none, tuesday_noon, NextStep::NeedsVerification),
            (facts(New, None, locked), pending, tuesday_noon, NextStep::AwaitingMailboxConfirmation),
            (facts(Open, this_morning, owner), none, tuesday_noon, NextStep::NeedsApproval),
            (facts(New, None, AccountLock::NotLocked), none, tuesday_noon, NextStep::AlreadyUnlocked),
            (facts(WaitingOnUser, None, AccountLock::NotLocked), none, tuesday_noon, NextStep::AlreadyUnlocked),
            (facts(WaitingOnUser, None, locked), pending, tuesday_noon, NextStep::WaitingOnUser),
            (facts(New, None, AccountLock::NoAccount), none, tuesday_noon, NextStep::FindTheAccount),
            (facts(Open, this_morning, AccountLock::NoAccount), none, tuesday_noon, NextStep::FindTheAccount),
            (facts(Resolved, this_morning, locked), none, tuesday_noon, NextStep::Done),
            (facts(Closed, None, AccountLock::NotLocked), none, tuesday_noon, NextStep::Done),
        ];
        for (facts, progress, now, expected) in cases {
            assert_eq!(next_step(&facts, progress, &calendar, now), expected, "{facts:?} {progress:?} at {now}");
        }
    }

    #[test]
    fn steps_read_as_words_and_sort_what_can_be_finished_first() {
        let calendar = BusinessCalendar::from_config(&WorkingHoursConfig::default()).unwrap();
        let closed = NextStep::SupportClosed { opens: Some(at("2026-11-23T09:00:00Z")) };
        assert_eq!(closed.label(&calendar), "Support closed — opens Mon 23 Nov 09:00 Europe/London");
        assert_eq!(NextStepView::of(NextStep::AlreadyUnlocked, &calendar).code, "already_unlocked");
        assert!(NextStep::ReadyToUnlock.urgency() < NextStep::NeedsVerification.urgency());
        assert!(NextStep::WaitingOnUser.urgency() < NextStep::Done.urgency());
    }
}
