//! One ticket's history, read back into the facts a report counts: when it was first
//! answered, unlocked and resolved, how long it waited on the user, who handled it, and when
//! it was open. Nothing here is stored: every fact comes from the history rows.

use chrono::{DateTime, Utc};

use crate::verification::VerificationMethod;
use crate::TicketEventKind;

/// The kinds of history row the facts are made from, and so the rows a ticket's stored
/// history keeps (the migration `report_history` lists the same names; a test holds the two
/// together). The rest change no fact: the receipt (the ticket's own `received_at` stands for
/// it), acknowledgements, bounces, auto-replies, assignments, notes, approvals and wrong codes.
pub fn kinds_counted() -> Vec<TicketEventKind> {
    use TicketEventKind::*;
    TicketEventKind::ALL
        .into_iter()
        .filter(|kind| {
            matches!(
                kind,
                SpoofSuspected
                    | UserReplied
                    | Reopened
                    | AgentReplied
                    | WaitingOnUser
                    | ChallengeSent
                    | MailboxConfirmed
                    | Verified
                    | Unlocked
                    | Resolved
            )
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryEvent {
    pub at: DateTime<Utc>,
    /// The order rows were recorded in, for events in the same second.
    pub sequence: i64,
    pub kind: TicketEventKind,
    /// The staff member who did it; `None` for the user and for Keydesk itself.
    pub actor_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketHistory {
    pub ticket_id: i64,
    /// When the first email arrived: the clock starts here.
    pub received_at: DateTime<Utc>,
    /// The organisation of the linked account, if any.
    pub organisation_id: Option<i64>,
    /// How the ticket was verified, as recorded with it; counted only once its "verified"
    /// event is in the history the report sees.
    pub verification_method: Option<VerificationMethod>,
    /// Oldest first (by time, then by the order they were recorded).
    pub events: Vec<HistoryEvent>,
}

/// Something that happened once, and who did it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Milestone {
    pub at: DateTime<Utc>,
    pub by: Option<i64>,
}

/// `[start, end)`; an open end means "still so at the time of the report".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketFacts {
    pub ticket_id: i64,
    pub received_at: DateTime<Utc>,
    pub organisation_id: Option<i64>,
    /// The first human reply, verification or unlock.
    pub first_response: Option<Milestone>,
    pub unlocked: Option<Milestone>,
    /// The first resolution; a later reopening is counted in `reopened`.
    pub resolved: Option<Milestone>,
    pub verified: Option<VerificationMethod>,
    pub spoof_suspected: bool,
    /// Waiting on the user: from "waiting on user" until the user writes, answers the
    /// challenge, or the ticket is resolved. Not counted against the targets.
    pub waits: Vec<Span>,
    /// When the ticket was open (not resolved), for the backlog.
    pub open: Vec<Span>,
    /// The staff who moved it on, each once, in the order they first did.
    pub handled_by: Vec<i64>,
    pub reopened: u32,
}

impl TicketFacts {
    /// The facts as of `as_of`: events at or after it are not looked at.
    pub fn from_history(history: &TicketHistory, as_of: DateTime<Utc>) -> TicketFacts {
        let mut facts = TicketFacts {
            ticket_id: history.ticket_id,
            received_at: history.received_at,
            organisation_id: history.organisation_id,
            first_response: None,
            unlocked: None,
            resolved: None,
            verified: None,
            spoof_suspected: false,
            waits: Vec::new(),
            open: vec![Span { start: history.received_at, end: None }],
            handled_by: Vec::new(),
            reopened: 0,
        };
        for event in history.events.iter().take_while(|event| event.at < as_of) {
            facts.apply(event, history.verification_method);
        }
        facts
    }

    fn apply(&mut self, event: &HistoryEvent, method: Option<VerificationMethod>) {
        let milestone = Milestone { at: event.at, by: event.actor_id };
        let human = event.actor_id.is_some();
        if event.kind.is_first_response() && human && self.first_response.is_none() {
            self.first_response = Some(milestone);
        }
        if event.kind.is_handling() {
            if let Some(agent) = event.actor_id.filter(|agent| !self.handled_by.contains(agent)) {
                self.handled_by.push(agent);
            }
        }
        if event.kind.is_from_user() || event.kind == TicketEventKind::Resolved {
            self.stop_waiting(event.at);
        }
        match event.kind {
            TicketEventKind::SpoofSuspected => self.spoof_suspected = true,
            TicketEventKind::Verified => self.verified = Some(method.unwrap_or(VerificationMethod::Other)),
            TicketEventKind::Unlocked if self.unlocked.is_none() => self.unlocked = Some(milestone),
            TicketEventKind::WaitingOnUser if !self.is_waiting() => {
                self.waits.push(Span { start: event.at, end: None })
            }
            TicketEventKind::Resolved => {
                if self.resolved.is_none() {
                    self.resolved = Some(milestone);
                }
                if let Some(open) = self.open.last_mut().filter(|span| span.end.is_none()) {
                    open.end = Some(event.at);
                }
            }
            TicketEventKind::Reopened if !self.is_open() => {
                self.reopened += 1;
                self.open.push(Span { start: event.at, end: None });
            }
            _ => {}
        }
    }

    fn stop_waiting(&mut self, at: DateTime<Utc>) {
        if let Some(wait) = self.waits.last_mut().filter(|wait| wait.end.is_none()) {
            wait.end = Some(at);
        }
    }

    pub fn is_waiting(&self) -> bool {
        self.waits.last().is_some_and(|wait| wait.end.is_none())
    }

    /// Open at the time of the report.
    pub fn is_open(&self) -> bool {
        self.open.last().is_some_and(|span| span.end.is_none())
    }

    /// Open just before `at` closes a day: received before it and not resolved by then.
    pub fn open_at(&self, at: DateTime<Utc>) -> bool {
        self.open.iter().any(|span| span.start < at && span.end.is_none_or(|end| end > at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind left out of `kinds_counted` leaves a ticket's facts as they were, wherever
    /// it falls in a history and whoever did it.
    #[test]
    fn the_kinds_not_counted_change_no_fact() {
        let at = |minute: i64| DateTime::from_timestamp(1_764_928_800 + minute * 60, 0).unwrap();
        let row = |minute: i64, kind, actor_id| HistoryEvent { at: at(minute), sequence: minute, kind, actor_id };
        let base = vec![
            row(10, TicketEventKind::WaitingOnUser, Some(7)),
            row(20, TicketEventKind::UserReplied, None),
            row(30, TicketEventKind::Verified, Some(8)),
            row(40, TicketEventKind::Resolved, Some(8)),
            row(50, TicketEventKind::Reopened, None),
        ];
        let facts = |events: Vec<HistoryEvent>| {
            let history = TicketHistory {
                ticket_id: 1,
                received_at: at(0),
                organisation_id: None,
                verification_method: None,
                events,
            };
            TicketFacts::from_history(&history, at(100))
        };
        let without = facts(base.clone());
        let counted = kinds_counted();
        for kind in TicketEventKind::ALL.into_iter().filter(|kind| !counted.contains(kind)) {
            for place in 0..=base.len() {
                for actor in [None, Some(9)] {
                    let mut events = base.clone();
                    events.insert(place, row(place as i64 * 10 + 5, kind, actor));
                    assert_eq!(facts(events), without, "{kind:?} at minute {} by {actor:?}", place * 10 + 5);
                }
            }
        }
    }
}
