//! The demo history's plain values, shared by the plan and the stories it tells: a
//! ticket's history rows, its verification, and the activity-log entries on the way.

use super::roster::Roster;
use chrono::{DateTime, Utc};
use keydesk_core::verification::VerificationMethod;
use keydesk_core::{EventKind, TicketEventKind};
use rand::Rng;

/// The detail lockout records (with the default `lockout.max_failed_attempts`).
pub const FAILED_LOGINS: &str = "5 consecutive failed logins";

/// One row of a ticket's history. `actor` is a staff index; `None` is Keydesk itself
/// (intake, and what the user did by mail or by following a link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedEvent {
    pub at: DateTime<Utc>,
    pub kind: TicketEventKind,
    pub actor: Option<usize>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedVerification {
    pub at: DateTime<Utc>,
    /// A staff index.
    pub by: usize,
    pub method: VerificationMethod,
    pub note: &'static str,
}

/// Who an activity-log entry names as its actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityActor {
    /// The person themselves, not signed in (failed logins name the address typed).
    TheUser,
    /// An admin or owner of their organisation (a person index).
    Colleague(usize),
    Staff(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityDetail {
    Text(&'static str),
    /// "ticket #N", known once the ticket has its number.
    TicketNumber,
}

/// One entry of the activity log (`events`), about person `target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedActivity {
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    pub actor: ActivityActor,
    pub target: usize,
    pub detail: ActivityDetail,
}

/// "Account unlocked" by an admin or the owner of the target's organisation, from Manage Users.
pub fn colleague_unlock(rng: &mut impl Rng, roster: &Roster, target: usize, at: DateTime<Utc>) -> PlannedActivity {
    let leaders: Vec<usize> = roster.leaders_of(roster.people[target].organisation).filter(|&p| p != target).collect();
    let by = leaders[rng.gen_range(0..leaders.len())];
    PlannedActivity {
        at,
        kind: EventKind::AccountUnlocked,
        actor: ActivityActor::Colleague(by),
        target,
        detail: ActivityDetail::Text("unlocked from Manage Users"),
    }
}
