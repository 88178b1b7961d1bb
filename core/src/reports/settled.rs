//! Settled tickets: a resolved ticket's row, measured once and kept, so a long report folds
//! kept rows instead of reading and measuring every ticket again (the app keeps each local
//! day's in `report_days`).
//!
//! Why a kept row stays right:
//! - A resolved ticket's row depends only on its history, the calendar and the targets, not
//!   on the window that measures it: business time between two instants is the calendar's,
//!   whatever the window around them. (The one figure that does — a resolved ticket's time
//!   "so far" against a target it never reached — is not kept: no report figure reads it.)
//! - So a row is used only by a report whose `as_of` is after every event the row was
//!   measured from (`latest_at` of its day), and only with the rules it was measured by
//!   ([`rules_key`]).
//! - The app drops a day's rows in the same transaction that changes any of its tickets.
//!
//! Open tickets are never settled: their figures grow with the report's `as_of`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use super::history::{Span, TicketFacts};
use super::measure::{SlaOutcome, SlaTargets, TicketRow};
use crate::verification::VerificationMethod;
use crate::{BusinessCalendar, TicketStatus};

/// Bumped whenever what a row holds, or a rule that measures it, changes: rows kept by an
/// older build are then measured again.
const FORMAT: u32 = 1;

/// What rows measured by these rules are kept with; rows kept with another key are not used.
pub fn rules_key(calendar: &BusinessCalendar, targets: SlaTargets) -> String {
    format!(
        "v{FORMAT};{};first_response={};unlock={}",
        calendar.rules_fingerprint(),
        targets.first_response_seconds,
        targets.unlock_seconds
    )
}

/// A milestone as measured: when, by whom, and the business and calendar seconds to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Reached {
    at: i64,
    by: Option<i64>,
    business: i64,
    calendar: i64,
}

/// A resolved ticket's row, as kept (instants in epoch seconds, enums by position).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettledTicket {
    ticket_id: i64,
    received_at: i64,
    received_in_hours: bool,
    organisation_id: Option<i64>,
    first_response: Option<Reached>,
    unlocked: Option<Reached>,
    resolved: Reached,
    waiting_business_seconds: i64,
    first_response_sla: u8,
    first_response_sla_seconds: i64,
    unlock_sla: u8,
    unlock_sla_seconds: i64,
    verification: Option<u8>,
    spoof_suspected: bool,
    reopened: u32,
    handled_by: SmallVec<[i64; 2]>,
    /// When it was open, `[start, end)`: every span has ended.
    open: SmallVec<[(i64, i64); 1]>,
}

/// A kept day that does not read back: written by another build, or damaged.
#[derive(Debug, thiserror::Error)]
#[error("a report's kept rows do not read back ({0}); they are measured again")]
pub struct UnreadableRows(#[from] postcard::Error);

fn instant(at: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(at, 0).unwrap_or_default()
}

fn outcome_index(outcome: SlaOutcome) -> u8 {
    SlaOutcome::ALL.iter().position(|o| *o == outcome).unwrap_or(0) as u8
}

fn outcome_at(index: u8) -> SlaOutcome {
    SlaOutcome::ALL.get(usize::from(index)).copied().unwrap_or(SlaOutcome::NotApplicable)
}

/// A target's seconds, unless it never applied: then they are the time "so far", which grows
/// with the report's `as_of` (kept as 0; no report figure reads them).
fn kept_seconds(outcome: SlaOutcome, seconds: i64) -> i64 {
    if outcome == SlaOutcome::NotApplicable {
        0
    } else {
        seconds
    }
}

impl SettledTicket {
    /// The row to keep for `facts`, measured as `row`; `None` while the ticket is open.
    pub fn of(facts: &TicketFacts, row: &TicketRow) -> Option<SettledTicket> {
        let resolved = facts.resolved?;
        if facts.open.iter().any(|span| span.end.is_none()) {
            return None;
        }
        let reached = |at: Option<DateTime<Utc>>, by, business: Option<i64>, calendar: Option<i64>| {
            Some(Reached { at: at?.timestamp(), by, business: business?, calendar: calendar? })
        };
        Some(SettledTicket {
            ticket_id: row.ticket_id,
            received_at: row.received_at.timestamp(),
            received_in_hours: row.received_in_hours,
            organisation_id: row.organisation_id,
            first_response: reached(
                row.first_response_at,
                row.first_response_by,
                row.first_response_business_seconds,
                row.first_response_calendar_seconds,
            ),
            unlocked: reached(
                row.unlocked_at,
                row.unlocked_by,
                row.unlock_business_seconds,
                row.unlock_calendar_seconds,
            ),
            resolved: reached(
                row.resolved_at,
                resolved.by,
                row.resolve_business_seconds,
                row.resolve_calendar_seconds,
            )?,
            waiting_business_seconds: row.waiting_business_seconds,
            first_response_sla: outcome_index(row.first_response_sla),
            first_response_sla_seconds: kept_seconds(row.first_response_sla, row.first_response_sla_seconds),
            unlock_sla: outcome_index(row.unlock_sla),
            unlock_sla_seconds: kept_seconds(row.unlock_sla, row.unlock_sla_seconds),
            verification: row
                .verification
                .and_then(|method| VerificationMethod::ALL.iter().position(|m| *m == method))
                .map(|index| index as u8),
            spoof_suspected: row.spoof_suspected,
            reopened: row.reopened,
            handled_by: facts.handled_by.iter().copied().collect(),
            open: facts.open.iter().filter_map(|span| Some((span.start.timestamp(), span.end?.timestamp()))).collect(),
        })
    }

    pub fn organisation_id(&self) -> Option<i64> {
        self.organisation_id
    }

    pub fn handled_by(&self) -> &[i64] {
        &self.handled_by
    }

    /// When it was open, for the backlog.
    pub fn open(&self) -> impl Iterator<Item = Span> + '_ {
        self.open.iter().map(|(start, end)| Span { start: instant(*start), end: Some(instant(*end)) })
    }

    /// Its row, as the report's own measuring gives it (the kept figures read back).
    pub fn row(&self) -> TicketRow<'_> {
        let at = |reached: Option<Reached>| reached.map(|r| instant(r.at));
        TicketRow {
            ticket_id: self.ticket_id,
            received_at: instant(self.received_at),
            received_in_hours: self.received_in_hours,
            organisation_id: self.organisation_id,
            status: TicketStatus::Resolved,
            first_response_at: at(self.first_response),
            first_response_by: self.first_response.and_then(|r| r.by),
            first_response_business_seconds: self.first_response.map(|r| r.business),
            first_response_calendar_seconds: self.first_response.map(|r| r.calendar),
            unlocked_at: at(self.unlocked),
            unlocked_by: self.unlocked.and_then(|r| r.by),
            unlock_business_seconds: self.unlocked.map(|r| r.business),
            unlock_calendar_seconds: self.unlocked.map(|r| r.calendar),
            resolved_at: Some(instant(self.resolved.at)),
            resolve_business_seconds: Some(self.resolved.business),
            resolve_calendar_seconds: Some(self.resolved.calendar),
            waiting_business_seconds: self.waiting_business_seconds,
            first_response_sla: outcome_at(self.first_response_sla),
            first_response_sla_seconds: self.first_response_sla_seconds,
            unlock_sla: outcome_at(self.unlock_sla),
            unlock_sla_seconds: self.unlock_sla_seconds,
            verification: self.verification.and_then(|index| VerificationMethod::ALL.get(usize::from(index)).copied()),
            spoof_suspected: self.spoof_suspected,
            reopened: self.reopened,
            handled_by: &self.handled_by,
        }
    }
}

/// A day's rows as kept.
pub fn encode_settled(tickets: &[SettledTicket]) -> Vec<u8> {
    postcard::to_allocvec(tickets).expect("settled rows always encode")
}

pub fn decode_settled(bytes: &[u8]) -> Result<Vec<SettledTicket>, UnreadableRows> {
    Ok(postcard::from_bytes(bytes)?)
}
