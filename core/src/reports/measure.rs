//! Each ticket's row: its times in business and in calendar seconds, with the time spent
//! waiting on the user taken out, and how it did against each target.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::history::{Span, TicketFacts};
use super::range::ReportWindow;
use crate::calendar::BusinessTimeline;
use crate::verification::VerificationMethod;
use crate::{BusinessCalendar, TicketStatus};

/// The service-level targets, in business seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SlaTargets {
    pub first_response_seconds: i64,
    pub unlock_seconds: i64,
}

/// How one ticket did against one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaOutcome {
    Met,
    Breached,
    /// Still open and still within the target.
    Pending,
    /// Resolved without it: no unlock was needed, or nobody answered before it was closed.
    NotApplicable,
}

impl SlaOutcome {
    pub const ALL: [SlaOutcome; 4] =
        [SlaOutcome::Met, SlaOutcome::Breached, SlaOutcome::Pending, SlaOutcome::NotApplicable];

    pub fn as_str(self) -> &'static str {
        match self {
            SlaOutcome::Met => "met",
            SlaOutcome::Breached => "breached",
            SlaOutcome::Pending => "pending",
            SlaOutcome::NotApplicable => "not_applicable",
        }
    }
}

/// One ticket as the report counts it. Times are `None` until they happen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketRow<'a> {
    pub ticket_id: i64,
    pub received_at: DateTime<Utc>,
    pub received_in_hours: bool,
    pub organisation_id: Option<i64>,
    /// At the time of the report: open, waiting on the user or resolved.
    pub status: TicketStatus,
    pub first_response_at: Option<DateTime<Utc>>,
    pub first_response_by: Option<i64>,
    pub first_response_business_seconds: Option<i64>,
    pub first_response_calendar_seconds: Option<i64>,
    pub unlocked_at: Option<DateTime<Utc>>,
    pub unlocked_by: Option<i64>,
    pub unlock_business_seconds: Option<i64>,
    pub unlock_calendar_seconds: Option<i64>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolve_business_seconds: Option<i64>,
    pub resolve_calendar_seconds: Option<i64>,
    /// Business time spent waiting on the user up to the ticket's resolution (or the report).
    pub waiting_business_seconds: i64,
    pub first_response_sla: SlaOutcome,
    /// Business time counted towards the first-response target so far.
    pub first_response_sla_seconds: i64,
    pub unlock_sla: SlaOutcome,
    pub unlock_sla_seconds: i64,
    pub verification: Option<VerificationMethod>,
    pub spoof_suspected: bool,
    pub reopened: u32,
    pub handled_by: &'a [i64],
}

/// Business and calendar seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Elapsed {
    business: i64,
    calendar: i64,
}

/// Measures tickets received within one report's window.
pub struct Measurer {
    timeline: BusinessTimeline,
    as_of: DateTime<Utc>,
    targets: SlaTargets,
}

impl Measurer {
    pub fn new(calendar: &BusinessCalendar, window: &ReportWindow, targets: SlaTargets) -> Measurer {
        Measurer { timeline: calendar.timeline(window.start, window.as_of), as_of: window.as_of, targets }
    }

    pub fn row<'t>(&self, ticket: &'t TicketFacts) -> TicketRow<'t> {
        let elapsed_to = |until: DateTime<Utc>| self.elapsed(ticket, until);
        let first_response = ticket.first_response.map(|m| elapsed_to(m.at));
        let unlock = ticket.unlocked.map(|m| elapsed_to(m.at));
        let resolve = ticket.resolved.map(|m| elapsed_to(m.at));
        let so_far = elapsed_to(self.as_of).business;
        let open = ticket.is_open();
        let (first_response_sla, first_response_sla_seconds) =
            self.against(first_response, open, so_far, self.targets.first_response_seconds);
        let (unlock_sla, unlock_sla_seconds) = self.against(unlock, open, so_far, self.targets.unlock_seconds);
        let waited_until = ticket.resolved.map_or(self.as_of, |m| m.at);
        TicketRow {
            ticket_id: ticket.ticket_id,
            received_at: ticket.received_at,
            received_in_hours: self.timeline.is_open(ticket.received_at),
            organisation_id: ticket.organisation_id,
            status: match (open, ticket.is_waiting()) {
                (false, _) => TicketStatus::Resolved,
                (true, true) => TicketStatus::WaitingOnUser,
                (true, false) => TicketStatus::Open,
            },
            first_response_at: ticket.first_response.map(|m| m.at),
            first_response_by: ticket.first_response.and_then(|m| m.by),
            first_response_business_seconds: first_response.map(|e| e.business),
            first_response_calendar_seconds: first_response.map(|e| e.calendar),
            unlocked_at: ticket.unlocked.map(|m| m.at),
            unlocked_by: ticket.unlocked.and_then(|m| m.by),
            unlock_business_seconds: unlock.map(|e| e.business),
            unlock_calendar_seconds: unlock.map(|e| e.calendar),
            resolved_at: ticket.resolved.map(|m| m.at),
            resolve_business_seconds: resolve.map(|e| e.business),
            resolve_calendar_seconds: resolve.map(|e| e.calendar),
            waiting_business_seconds: self.waited(ticket, waited_until).business,
            first_response_sla,
            first_response_sla_seconds,
            unlock_sla,
            unlock_sla_seconds,
            verification: ticket.verified,
            spoof_suspected: ticket.spoof_suspected,
            reopened: ticket.reopened,
            handled_by: &ticket.handled_by,
        }
    }

    /// A target is met when the milestone came within it; a ticket still open without it has
    /// breached once its time so far is over the target.
    fn against(&self, milestone: Option<Elapsed>, open: bool, so_far: i64, target: i64) -> (SlaOutcome, i64) {
        match milestone {
            Some(elapsed) if elapsed.business <= target => (SlaOutcome::Met, elapsed.business),
            Some(elapsed) => (SlaOutcome::Breached, elapsed.business),
            None if !open => (SlaOutcome::NotApplicable, so_far),
            None if so_far > target => (SlaOutcome::Breached, so_far),
            None => (SlaOutcome::Pending, so_far),
        }
    }

    /// From receipt to `until`, less the waits on the user before `until`.
    fn elapsed(&self, ticket: &TicketFacts, until: DateTime<Utc>) -> Elapsed {
        let waited = self.waited(ticket, until);
        Elapsed {
            business: self.timeline.business_seconds(ticket.received_at, until) - waited.business,
            calendar: (until - ticket.received_at).num_seconds().max(0) - waited.calendar,
        }
    }

    fn waited(&self, ticket: &TicketFacts, until: DateTime<Utc>) -> Elapsed {
        let mut waited = Elapsed { business: 0, calendar: 0 };
        for Span { start, end } in &ticket.waits {
            let (start, end) = ((*start).max(ticket.received_at), end.unwrap_or(self.as_of).min(until));
            if end > start {
                waited.business += self.timeline.business_seconds(start, end);
                waited.calendar += (end - start).num_seconds();
            }
        }
        waited
    }
}
