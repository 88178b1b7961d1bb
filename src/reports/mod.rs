//! Service-hours reports: reads a range's tickets with their stored history
//! (store::reports), rebuilds each ticket's facts with the core's rules, and names the
//! agents and organisations in it. Days whose rows were kept (`keep`) are folded as kept.
//! The arithmetic is `keydesk_core::reports`; the pages and the API are in `web`.

pub mod charts;
pub mod export;
pub mod keep;
pub mod page;
pub mod view;

use keydesk_core::reports::{
    read_stored_history, ReportInput, ReportScope, ReportWindow, SlaTargets, TicketFacts, TicketHistory,
};
use keydesk_core::verification::VerificationMethod;
use keydesk_core::BusinessCalendar;

use crate::db::DbConnection;
use crate::store::reports::{self as reads, epoch_seconds, TicketRead};

/// Whether a report may fold kept rows (`keep`) or must measure every ticket itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// The figures only: kept rows stand in for the tickets they were measured from.
    Figures,
    /// Every ticket's row too (the CSV export): each ticket is read and measured.
    EveryTicket,
}

/// Reads everything a report over `window` needs, for `scope`: the rows kept for its days,
/// and one row per other ticket, each with its stored history.
/// With a `second` connection, the tickets are read and worked out in two halves of the
/// range at once (the biggest part, and the machine has cores to spare).
#[allow(clippy::too_many_arguments)]
pub fn load<'a>(
    conn: &mut DbConnection,
    second: Option<&mut DbConnection>,
    calendar: &'a BusinessCalendar,
    targets: SlaTargets,
    window: ReportWindow,
    scope: ReportScope,
    reading: Reading,
) -> diesel::QueryResult<ReportInput<'a>> {
    let (start, end, as_of) = (window.start, window.end, window.as_of);
    // The tickets received in `[from, until)`: the kept days' rows as kept, and the other
    // tickets (those of days not kept, and those the kept days left open) each measured.
    let received = |conn: &mut DbConnection, from, until| {
        let kept = match reading {
            Reading::Figures => {
                let part = ReportWindow { start: from, end: until, ..window };
                keep::usable(conn, calendar, targets, &part, scope.organisation)?
            }
            Reading::EveryTicket => keep::Kept::default(),
        };
        let mut facts = Vec::new();
        for (from, until) in kept.gaps(from, until) {
            let each = |ticket| ticket_facts(ticket, as_of);
            facts.extend(reads::tickets_received(conn, from, until, scope.organisation, each)?);
        }
        let open_then = reads::tickets_by_id(conn, &kept.open_ticket_ids, scope.organisation)?;
        facts.extend(self::facts(open_then, as_of)?);
        Ok::<_, diesel::result::Error>((facts, kept.settled))
    };
    let unlock_sources =
        |conn: &mut DbConnection| reads::unlocks_by_source(conn, start, as_of, scope.organisation, scope.agent);
    // Older tickets count in the backlog while they were open in the range.
    let carried_over = |conn: &mut DbConnection| {
        let older = facts(reads::tickets_open_during(conn, start, scope.organisation)?, as_of)?;
        Ok::<_, diesel::result::Error>(
            older.into_iter().filter(|t| t.open.iter().any(|span| span.end.is_none_or(|end| end > start))).collect(),
        )
    };
    let ((mut received, settled), mut carried_over, unlock_sources): ((Vec<TicketFacts>, _), Vec<TicketFacts>, _) =
        match second {
            None => (received(conn, start, end)?, carried_over(conn)?, unlock_sources(conn)?),
            Some(second) => {
                // Each connection reads half the range (split at a local midnight, so no kept
                // day is cut in two), then one the older tickets and the other the unlocks.
                let middle = calendar.start_of_day(calendar.local_date(start + (end - start) / 2)).clamp(start, end);
                std::thread::scope(|threads| {
                    let early = threads.spawn(|| {
                        Ok::<_, diesel::result::Error>((received(second, start, middle)?, unlock_sources(second)?))
                    });
                    let late = received(conn, middle, end).and_then(|late| Ok((late, carried_over(conn)?)));
                    let ((mut received, mut settled), unlocks) =
                        early.join().expect("the reading thread does not panic")?;
                    let ((late, mut late_settled), older) = late?;
                    received.extend(late);
                    settled.append(&mut late_settled);
                    Ok::<_, diesel::result::Error>(((received, settled), older, unlocks))
                })?
            }
        };
    if !received.is_sorted_by_key(|t| t.ticket_id) {
        received.sort_unstable_by_key(|t| t.ticket_id);
    }
    carried_over.sort_unstable_by_key(|t| t.ticket_id);

    Ok(ReportInput { window, calendar, targets, agent: scope.agent, received, settled, carried_over, unlock_sources })
}

/// The facts of a few tickets as they stand at `now` (for the queue's SLA markers and the
/// alerts), read with the same rules as a report's.
pub fn current_facts(
    conn: &mut DbConnection,
    tickets: &[(i64, chrono::DateTime<chrono::Utc>)],
    now: chrono::DateTime<chrono::Utc>,
) -> diesel::QueryResult<Vec<TicketFacts>> {
    let ids: Vec<i64> = tickets.iter().map(|(id, _)| *id).collect();
    let stored: std::collections::HashMap<i64, String> =
        reads::histories_of(conn, &ids)?.into_iter().map(|read| (read.ticket_id, read.history)).collect();
    let mut list: Vec<(i64, chrono::DateTime<chrono::Utc>)> = tickets.to_vec();
    list.sort_unstable_by_key(|(id, _)| *id);
    list.dedup_by_key(|(id, _)| *id);
    // Events in the same second as `now` count too.
    let as_of = now + chrono::Duration::seconds(1);
    list.into_iter()
        .map(|(ticket_id, received_at)| {
            let stored = stored.get(&ticket_id).map_or("", String::as_str);
            let history = TicketHistory {
                ticket_id,
                received_at,
                organisation_id: None,
                verification_method: None,
                events: read_stored_history(ticket_id, stored).map_err(unreadable)?,
            };
            Ok(TicketFacts::from_history(&history, as_of))
        })
        .collect()
}

/// Each ticket's facts as of `as_of`, from its row and stored history.
fn facts(tickets: Vec<TicketRead>, as_of: chrono::DateTime<chrono::Utc>) -> diesel::QueryResult<Vec<TicketFacts>> {
    tickets.into_iter().map(|ticket| ticket_facts(ticket, as_of)).collect()
}

fn ticket_facts(t: TicketRead, as_of: chrono::DateTime<chrono::Utc>) -> diesel::QueryResult<TicketFacts> {
    Ok(TicketFacts::from_history(&ticket_history(t)?, as_of))
}

/// A ticket's history from its report row.
fn ticket_history(t: TicketRead) -> diesel::QueryResult<TicketHistory> {
    Ok(TicketHistory {
        ticket_id: t.ticket_id,
        received_at: epoch_seconds(t.received_at),
        organisation_id: t.organisation_id,
        verification_method: t.verification_method.and_then(|m| m.parse::<VerificationMethod>().ok()),
        events: read_stored_history(t.ticket_id, &t.history).map_err(unreadable)?,
    })
}

/// A stored history that does not read back fails the report, naming the ticket and the fix.
fn unreadable(error: keydesk_core::reports::StoredHistoryError) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(Box::new(error))
}
