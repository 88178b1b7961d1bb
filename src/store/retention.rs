//! Retention's statements: each removes one batch, oldest first, and commits on its own, so
//! a first run over years of data never holds the write lock for long. A batch is its ids
//! read first, then one statement over them (at most 5,000 parameters: within both
//! databases' limits).

use crate::db::schema::{events, inbound_messages};
use crate::db::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use keydesk_core::intake::LedgerOutcome;

/// Deletes up to `limit` activity-log entries from before `before`; how many went.
pub fn delete_events_before(conn: &mut DbConnection, before: NaiveDateTime, limit: i64) -> QueryResult<usize> {
    let ids: Vec<i64> = events::table
        .filter(events::at.lt(before))
        .order(events::id.asc())
        .select(events::id)
        .limit(limit)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::delete(events::table.filter(events::id.eq_any(ids))).execute(conn)
}

/// Clears the raw bytes of up to `limit` ledger rows received before `before` (still
/// holding them), marking when; how many were cleared. Everything else in the row stays,
/// its content hash included. A message still in quarantine keeps its bytes, however old:
/// nobody has handled it yet, and they are all there is of it (a mailbox restored from a
/// backup, or intake down for months, brings in mail received long ago; cleared the day it
/// is quarantined, it could never be taken in).
pub fn clear_raw_before(
    conn: &mut DbConnection,
    before: NaiveDateTime,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let ids: Vec<i64> = inbound_messages::table
        .filter(inbound_messages::raw_cleared_at.is_null())
        .filter(inbound_messages::received_at.lt(before))
        .filter(inbound_messages::outcome.ne(LedgerOutcome::Quarantined.as_str()))
        .order(inbound_messages::id.asc())
        .select(inbound_messages::id)
        .limit(limit)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::update(inbound_messages::table.filter(inbound_messages::id.eq_any(ids)))
        .set((inbound_messages::raw.eq(Vec::<u8>::new()), inbound_messages::raw_cleared_at.eq(now)))
        .execute(conn)
}
