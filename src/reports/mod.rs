//! Service-hours reports: reads a range's ticket history (store::reports), rebuilds each
//! ticket's facts with the core's rules, and names the agents and organisations in it.
//! The arithmetic is `keydesk_core::reports`; the pages and the API are in `web`.

pub mod charts;
pub mod export;
pub mod page;
pub mod view;

use keydesk_core::reports::{
    kinds_counted, HistoryEvent, ReportInput, ReportScope, ReportWindow, SlaTargets, TicketFacts, TicketHistory,
};
use keydesk_core::verification::VerificationMethod;
use keydesk_core::{BusinessCalendar, TicketEventKind};

use crate::db::DbConnection;
use crate::store::reports::{self as reads, epoch_seconds, EventRead, TicketRead};

/// Reads everything a report over `window` needs, for `scope`.
/// With a `second` connection, the range's history is read in two halves at once (the
/// biggest read, and the machine has cores to spare).
pub fn load<'a>(
    conn: &mut DbConnection,
    second: Option<&mut DbConnection>,
    calendar: &'a BusinessCalendar,
    targets: SlaTargets,
    window: ReportWindow,
    scope: ReportScope,
) -> diesel::QueryResult<ReportInput<'a>> {
    let kinds: Vec<&str> = kinds_counted().iter().map(|kind| kind.as_str()).collect();
    let (start, as_of) = (window.start, window.as_of);

    let (received, events) = match second {
        None => (
            reads::tickets_received(conn, start, window.end, scope.organisation)?,
            reads::events_between(conn, start, as_of, &kinds)?,
        ),
        Some(second) => {
            // The tickets are about a third of the reading: the other connection takes the
            // first 60% of the range's history meanwhile.
            let middle = start + (as_of - start) * 3 / 5;
            std::thread::scope(|threads| {
                let early = threads.spawn(|| reads::events_between(second, start, middle, &kinds));
                let received = reads::tickets_received(conn, start, window.end, scope.organisation);
                let late = reads::events_between(conn, middle, as_of, &kinds);
                let mut events = early.join().expect("the reading thread does not panic")?;
                events.extend(late?);
                Ok::<_, diesel::result::Error>((received?, events))
            })?
        }
    };
    let mut received = histories(received);
    let touched_earlier_tickets = attach(&mut received, events);

    // Older tickets count in the backlog while they were open in the range: those open now,
    // and those resolved or reopened since the range began.
    let mut older_ids: Vec<i64> = reads::tickets_unresolved_before(conn, start, scope.organisation)?;
    older_ids.extend(touched_earlier_tickets);
    older_ids.extend(reads::tickets_closed_or_reopened_after(conn, as_of)?);
    older_ids.sort_unstable();
    older_ids.dedup();
    let mut carried_over = histories(reads::tickets_by_id_before(conn, &older_ids, start, scope.organisation)?);
    let older_ids: Vec<i64> = carried_over.iter().map(|t| t.ticket_id).collect();
    attach(&mut carried_over, reads::events_of_tickets(conn, &older_ids, as_of, &kinds)?);

    let unlock_sources = reads::unlocks_by_source(conn, start, as_of, scope.organisation, scope.agent)?;
    let facts = |list: Vec<TicketHistory>| {
        list.iter().map(|history| TicketFacts::from_history(history, as_of)).collect::<Vec<_>>()
    };
    let carried_over = facts(carried_over)
        .into_iter()
        .filter(|ticket: &TicketFacts| ticket.open.iter().any(|span| span.end.is_none_or(|end| end > start)))
        .collect();
    Ok(ReportInput {
        window,
        calendar,
        targets,
        agent: scope.agent,
        received: facts(received),
        carried_over,
        unlock_sources,
    })
}

/// The facts of a few tickets as they stand at `now` (for the queue's SLA markers and the
/// alerts), read with the same rules as a report's.
pub fn current_facts(
    conn: &mut DbConnection,
    tickets: &[(i64, chrono::DateTime<chrono::Utc>)],
    now: chrono::DateTime<chrono::Utc>,
) -> diesel::QueryResult<Vec<TicketFacts>> {
    let kinds: Vec<&str> = kinds_counted().iter().map(|kind| kind.as_str()).collect();
    let mut list: Vec<TicketHistory> = tickets
        .iter()
        .map(|(id, received_at)| TicketHistory {
            ticket_id: *id,
            received_at: *received_at,
            organisation_id: None,
            verification_method: None,
            events: Vec::new(),
        })
        .collect();
    list.sort_unstable_by_key(|t| t.ticket_id);
    list.dedup_by_key(|t| t.ticket_id);
    let ids: Vec<i64> = list.iter().map(|t| t.ticket_id).collect();
    // Events in the same second as `now` count too.
    attach(&mut list, reads::events_of_tickets(conn, &ids, now + chrono::Duration::seconds(1), &kinds)?);
    Ok(list.iter().map(|history| TicketFacts::from_history(history, now + chrono::Duration::seconds(1))).collect())
}

/// Empty histories of the tickets, in id order.
fn histories(mut tickets: Vec<TicketRead>) -> Vec<TicketHistory> {
    if !tickets.is_sorted_by_key(|t| t.ticket_id) {
        tickets.sort_unstable_by_key(|t| t.ticket_id);
    }
    tickets
        .into_iter()
        .map(|t| TicketHistory {
            ticket_id: t.ticket_id,
            received_at: epoch_seconds(t.received_at),
            organisation_id: t.organisation_id,
            verification_method: t.verification_method.and_then(|m| m.parse::<VerificationMethod>().ok()),
            events: Vec::new(),
        })
        .collect()
}

/// Files each row under its ticket and puts each ticket's rows in the order they happened.
/// Returns the other tickets whose rows resolve or reopen them: they were open in the range.
fn attach(histories: &mut [TicketHistory], events: Vec<EventRead>) -> Vec<i64> {
    let mut others = Vec::new();
    for event in events {
        // The query asked for known kinds only.
        let Ok(kind) = event.kind.parse::<TicketEventKind>() else { continue };
        let Ok(index) = histories.binary_search_by_key(&event.ticket_id, |h| h.ticket_id) else {
            if matches!(kind, TicketEventKind::Resolved | TicketEventKind::Reopened) {
                others.push(event.ticket_id);
            }
            continue;
        };
        histories[index].events.push(HistoryEvent {
            at: epoch_seconds(event.at),
            sequence: event.id,
            kind,
            actor_id: event.actor_id,
        });
    }
    for history in histories {
        if !history.events.is_sorted_by_key(|e| (e.at, e.sequence)) {
            history.events.sort_unstable_by_key(|e| (e.at, e.sequence));
        }
    }
    others
}
