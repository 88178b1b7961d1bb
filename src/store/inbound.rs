//! The intake ledger: one row per message taken in, whatever became of it. Its unique
//! (source, source_key) makes intake exactly-once; its raw bytes make quarantine lossless.

use crate::db::schema::{inbound_messages, intake_health};
use crate::db::DbConnection;
use crate::ids::{LedgerId, TicketNumber};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use keydesk_core::intake::LedgerOutcome;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = inbound_messages)]
pub struct InboundMessage {
    pub id: LedgerId,
    pub source: String,
    pub source_key: String,
    pub message_id: Option<String>,
    pub content_hash: String,
    pub received_at: NaiveDateTime,
    pub raw: Vec<u8>,
    #[diesel(deserialize_as = String)]
    pub outcome: LedgerOutcome,
    pub reason: String,
    pub ticket_id: Option<TicketNumber>,
}

pub struct NewInbound<'a> {
    pub source: &'a str,
    pub source_key: &'a str,
    pub message_id: Option<&'a str>,
    pub content_hash: &'a str,
    pub received_at: NaiveDateTime,
    pub raw: &'a [u8],
    pub outcome: LedgerOutcome,
    pub reason: &'a str,
    pub ticket_id: Option<TicketNumber>,
}

pub fn insert(conn: &mut DbConnection, new: NewInbound<'_>) -> QueryResult<LedgerId> {
    diesel::insert_into(inbound_messages::table)
        .values((
            inbound_messages::source.eq(new.source),
            inbound_messages::source_key.eq(new.source_key),
            inbound_messages::message_id.eq(new.message_id),
            inbound_messages::content_hash.eq(new.content_hash),
            inbound_messages::received_at.eq(new.received_at),
            inbound_messages::raw.eq(new.raw),
            inbound_messages::outcome.eq(new.outcome.as_str()),
            inbound_messages::reason.eq(new.reason),
            inbound_messages::ticket_id.eq(new.ticket_id),
        ))
        .returning(inbound_messages::id)
        .get_result(conn)
}

pub fn seen_at_source(conn: &mut DbConnection, source: &str, source_key: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        inbound_messages::table
            .filter(inbound_messages::source.eq(source))
            .filter(inbound_messages::source_key.eq(source_key)),
    ))
    .get_result(conn)
}

/// The same message (same Message-ID and the same bytes) taken in before, from any source.
pub fn same_message_taken_in(conn: &mut DbConnection, message_id: &str, content_hash: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        inbound_messages::table
            .filter(inbound_messages::message_id.eq(message_id))
            .filter(inbound_messages::content_hash.eq(content_hash))
            .filter(inbound_messages::outcome.ne(LedgerOutcome::Duplicate.as_str())),
    ))
    .get_result(conn)
}

/// Messages with one outcome, newest first.
pub fn with_outcome(conn: &mut DbConnection, outcome: LedgerOutcome, limit: i64) -> QueryResult<Vec<InboundMessage>> {
    inbound_messages::table
        .filter(inbound_messages::outcome.eq(outcome.as_str()))
        .order(inbound_messages::id.desc())
        .limit(limit)
        .select(InboundMessage::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConnection, id: LedgerId) -> QueryResult<Option<InboundMessage>> {
    inbound_messages::table.find(id).select(InboundMessage::as_select()).first(conn).optional()
}

pub fn set_outcome(
    conn: &mut DbConnection,
    id: LedgerId,
    outcome: LedgerOutcome,
    reason: &str,
    ticket_id: Option<TicketNumber>,
) -> QueryResult<()> {
    diesel::update(inbound_messages::table.find(id))
        .set((
            inbound_messages::outcome.eq(outcome.as_str()),
            inbound_messages::reason.eq(reason),
            inbound_messages::ticket_id.eq(ticket_id),
        ))
        .execute(conn)
        .map(drop)
}

/// Moves a row from one outcome to another in one conditional UPDATE (check and set at
/// once); false when it no longer has the outcome `from`, e.g. another request discarded it.
pub fn change_outcome(
    conn: &mut DbConnection,
    id: LedgerId,
    from: LedgerOutcome,
    to: LedgerOutcome,
    reason: &str,
) -> QueryResult<bool> {
    diesel::update(inbound_messages::table.find(id).filter(inbound_messages::outcome.eq(from.as_str())))
        .set((inbound_messages::outcome.eq(to.as_str()), inbound_messages::reason.eq(reason)))
        .execute(conn)
        .map(|rows| rows == 1)
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = intake_health)]
pub struct IntakeHealth {
    pub source: String,
    pub last_success_at: Option<NaiveDateTime>,
    pub consecutive_errors: i32,
    pub last_error: Option<String>,
    pub last_error_at: Option<NaiveDateTime>,
}

fn ensure_health_row(conn: &mut DbConnection, source: &str) -> QueryResult<()> {
    let exists: bool = diesel::select(diesel::dsl::exists(intake_health::table.find(source))).get_result(conn)?;
    if !exists {
        diesel::insert_into(intake_health::table).values(intake_health::source.eq(source)).execute(conn)?;
    }
    Ok(())
}

pub fn record_success(conn: &mut DbConnection, source: &str, at: NaiveDateTime) -> QueryResult<()> {
    ensure_health_row(conn, source)?;
    diesel::update(intake_health::table.find(source))
        .set((intake_health::last_success_at.eq(at), intake_health::consecutive_errors.eq(0)))
        .execute(conn)
        .map(drop)
}

pub fn record_error(conn: &mut DbConnection, source: &str, at: NaiveDateTime, error: &str) -> QueryResult<()> {
    ensure_health_row(conn, source)?;
    diesel::update(intake_health::table.find(source))
        .set((
            intake_health::consecutive_errors.eq(intake_health::consecutive_errors + 1),
            intake_health::last_error.eq(error),
            intake_health::last_error_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

pub fn health(conn: &mut DbConnection) -> QueryResult<Vec<IntakeHealth>> {
    intake_health::table.order(intake_health::source.asc()).select(IntakeHealth::as_select()).load(conn)
}
