//! A ticket's counted history kept in its report row (`ticket_report_rows`), so a report
//! reads one row per ticket instead of every history row (a year of a million tickets is ~4
//! million counted rows).
//!
//! The database keeps it: a trigger on the history table appends each counted row in the
//! same transaction that records it, and the migration and `keydesk reports rebuild` write
//! it from the history rows (see the migration `report_history`). This module reads it back.
//!
//! Each row is `kind@epoch-seconds;`, with `/actor-id` before the `;` when a staff member
//! did it: `verified@1764928800/7;resolved@1764932400/7;`. Rows are in the order they were
//! recorded (the history's own order for rows in the same second).

use chrono::DateTime;

use super::history::HistoryEvent;
use crate::TicketEventKind;

/// A stored history that does not read back: written by something other than Keydesk's
/// trigger, or by a kind this build no longer knows. `keydesk reports rebuild` rewrites it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ticket {ticket_id}'s stored report history does not read back at {entry:?}; run `keydesk reports rebuild`")]
pub struct StoredHistoryError {
    pub ticket_id: i64,
    pub entry: String,
}

/// The rows of one ticket's stored history, oldest first (by time, then as recorded).
pub fn read_stored_history(ticket_id: i64, stored: &str) -> Result<Vec<HistoryEvent>, StoredHistoryError> {
    let mut events = Vec::with_capacity(stored.len() / 24 + 1);
    for (entry, sequence) in stored.split_terminator(';').zip(0..) {
        let refused = || StoredHistoryError { ticket_id, entry: entry.to_owned() };
        let (kind, rest) = entry.split_once('@').ok_or_else(refused)?;
        let (at, actor) = match rest.split_once('/') {
            Some((at, actor)) => (at, Some(actor.parse::<i64>().map_err(|_| refused())?)),
            None => (rest, None),
        };
        let at = at.parse::<i64>().ok().and_then(|at| DateTime::from_timestamp(at, 0)).ok_or_else(refused)?;
        let kind = kind.parse::<TicketEventKind>().map_err(|_| refused())?;
        events.push(HistoryEvent { at, sequence, kind, actor_id: actor });
    }
    if !events.is_sorted_by_key(|e| (e.at, e.sequence)) {
        events.sort_unstable_by_key(|e| (e.at, e.sequence));
    }
    Ok(events)
}

/// The stored form of these rows (what the trigger would have written, in this order).
pub fn write_stored_history(events: &[HistoryEvent]) -> String {
    let mut stored = String::with_capacity(events.len() * 24);
    for event in events {
        stored.push_str(event.kind.as_str());
        stored.push('@');
        stored.push_str(&event.at.timestamp().to_string());
        if let Some(actor) = event.actor_id {
            stored.push('/');
            stored.push_str(&actor.to_string());
        }
        stored.push(';');
    }
    stored
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TicketEventKind::*;

    fn event(at: i64, sequence: i64, kind: TicketEventKind, actor_id: Option<i64>) -> HistoryEvent {
        HistoryEvent { at: DateTime::from_timestamp(at, 0).unwrap(), sequence, kind, actor_id }
    }

    #[test]
    fn rows_read_back_as_written() {
        let events = vec![
            event(1_764_928_800, 0, UserReplied, None),
            event(1_764_928_800, 1, Verified, Some(7)),
            event(1_764_932_400, 2, Resolved, Some(12_345_678_901)),
        ];
        let stored = write_stored_history(&events);
        assert_eq!(stored, "user_replied@1764928800;verified@1764928800/7;resolved@1764932400/12345678901;");
        assert_eq!(read_stored_history(1, &stored), Ok(events));
        assert_eq!(read_stored_history(1, ""), Ok(vec![]));
    }

    #[test]
    fn rows_recorded_out_of_time_order_are_put_in_order_keeping_ties_as_recorded() {
        let read = read_stored_history(1, "resolved@20;verified@10/7;unlocked@10/7;").unwrap();
        let kinds: Vec<_> = read.iter().map(|e| (e.kind, e.sequence)).collect();
        assert_eq!(kinds, vec![(Verified, 1), (Unlocked, 2), (Resolved, 0)]);
    }

    #[test]
    fn anything_else_is_refused_naming_the_ticket_and_the_entry() {
        for bad in ["verified", "verified@", "verified@x", "verified@10/", "verified@10/x", "unlock@10", "@10"] {
            let refused = read_stored_history(9, &format!("resolved@5;{bad};")).unwrap_err();
            assert_eq!(refused, StoredHistoryError { ticket_id: 9, entry: bad.to_owned() }, "{bad}");
            assert!(refused.to_string().contains("keydesk reports rebuild"));
        }
    }
}
