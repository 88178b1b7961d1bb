//! Where each of a page of tickets stands: its next step (from the one unlock rule) and its
//! first-response and unlock targets (from the reports' own measure), read in a few queries
//! for the whole page. The queue, the ticket page, the API and the SLA alerts all ask here.

use super::unlock::{facts_of, repeat_window_start};
use crate::app::{AppError, Services};
use crate::db::DbConnection;
use crate::ids::{TicketNumber, UserId};
use crate::store::{self, tickets::Ticket, users::User};
use chrono::{DateTime, Utc};
use keydesk_core::reports::{SlaClock, SlaLevel, TargetStanding};
use keydesk_core::tickets::{next_step, NextStep, NextStepView, Progress};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// One ticket's standing.
#[derive(Debug, Clone)]
pub struct Standing {
    pub next: NextStep,
    /// First response, then unlock.
    pub targets: [TargetStanding; 2],
}

/// A target's marker as the pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct TargetMarker {
    pub target: &'static str,
    /// "on_track", "due_soon" or "breached" (a CSS class too).
    pub level: &'static str,
    pub words: String,
}

/// The markers worth showing: the open targets (met and not-applicable ones say nothing).
pub fn markers(targets: &[TargetStanding; 2]) -> Vec<TargetMarker> {
    targets
        .iter()
        .filter(|t| matches!(t.level, SlaLevel::OnTrack | SlaLevel::DueSoon | SlaLevel::Breached))
        .map(|t| TargetMarker { target: t.target.as_str(), level: t.level.as_str(), words: t.words() })
        .collect()
}

pub fn next_step_view(services: &Services, step: NextStep) -> NextStepView {
    NextStepView::of(step, &services.calendar)
}

/// The standing of each ticket, by number. `people` must hold the tickets' linked accounts.
pub fn standings(
    conn: &mut DbConnection,
    services: &Services,
    tickets: &[Ticket],
    people: &HashMap<UserId, User>,
    now: DateTime<Utc>,
) -> Result<HashMap<TicketNumber, Standing>, AppError> {
    if tickets.is_empty() {
        return Ok(HashMap::new());
    }
    let calendar = &services.calendar;
    let accounts: Vec<UserId> = tickets.iter().filter_map(|t| t.account_user_id).collect();
    let recent_unlocks = store::events::support_unlocks_of(conn, &accounts, repeat_window_start(now))?;
    let numbers: Vec<TicketNumber> = tickets.iter().map(|t| t.id).collect();
    let challenged: HashSet<TicketNumber> =
        store::challenges::pending_for(conn, &numbers, now.naive_utc())?.into_iter().collect();
    let mut targets = target_standings(conn, services, tickets, now)?;
    Ok(tickets
        .iter()
        .filter_map(|t| {
            let account = t.account_user_id.and_then(|id| people.get(&id));
            let recent = t.account_user_id.and_then(|id| recent_unlocks.get(&id)).copied().unwrap_or(0);
            let unlock = facts_of(services, t, account, recent, now);
            let progress = Progress { challenge_pending: challenged.contains(&t.id) };
            let targets = targets.remove(&t.id)?;
            Some((t.id, Standing { next: next_step(&unlock, progress, calendar, now), targets }))
        })
        .collect())
}

/// Each ticket's standing against the first-response and unlock targets at `now`, read from
/// its history with the reports' rules.
pub fn target_standings(
    conn: &mut DbConnection,
    services: &Services,
    tickets: &[Ticket],
    now: DateTime<Utc>,
) -> Result<HashMap<TicketNumber, [TargetStanding; 2]>, AppError> {
    let received: Vec<(i64, DateTime<Utc>)> = tickets.iter().map(|t| (t.id.0, t.received_at.and_utc())).collect();
    let earliest = received.iter().map(|(_, at)| *at).min().unwrap_or(now);
    let clock = SlaClock::new(&services.calendar, earliest, now, services.config.sla.targets());
    Ok(crate::reports::current_facts(conn, &received, now)?
        .iter()
        .map(|facts| (TicketNumber(facts.ticket_id), clock.standings(facts)))
        .collect())
}
