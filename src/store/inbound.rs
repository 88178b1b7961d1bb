//! The intake ledger: one row per message taken in, whatever became of it. Its unique
//! (source, source_key) and its content hash make intake exactly-once; its raw bytes make
//! quarantine lossless; its header columns let pages list it without reading the bytes.

use crate::db::schema::{inbound_messages, intake_health};
use crate::db::DbConnection;
use crate::ids::{LedgerId, TicketNumber};
use crate::store::dialect::on_backend;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::Error::NotFound;
use diesel::sql_types::{BigInt, Text};
use keydesk_core::intake::source_key::{Arriving, StoredUnderKey};
use keydesk_core::intake::LedgerOutcome;
use std::collections::{HashMap, HashSet};

/// One ledger row as pages and the API show it: everything but the raw bytes, which are read
/// only to take a message in again or to download it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = inbound_messages)]
pub struct LedgerEntry {
    pub id: LedgerId,
    pub source: String,
    pub source_key: String,
    pub message_id: Option<String>,
    pub content_hash: String,
    pub received_at: NaiveDateTime,
    #[diesel(deserialize_as = String)]
    pub outcome: LedgerOutcome,
    pub reason: String,
    pub ticket_id: Option<TicketNumber>,
    pub size_bytes: i64,
    pub from_header: String,
    pub subject: String,
    pub machine_class: Option<String>,
    pub raw_complete: bool,
    /// When retention cleared the raw bytes (`retention.raw_mail`); `None` while kept.
    pub raw_cleared_at: Option<NaiveDateTime>,
}

pub struct NewInbound<'a> {
    pub source: &'a str,
    pub source_key: &'a str,
    pub message_id: Option<&'a str>,
    pub content_hash: &'a str,
    pub received_at: NaiveDateTime,
    /// The whole message, or only its headers when `raw_complete` is false.
    pub raw: &'a [u8],
    pub raw_complete: bool,
    /// The size at the source, whether or not it was read whole.
    pub size_bytes: usize,
    pub from_header: &'a str,
    pub subject: &'a str,
    pub machine_class: Option<&'a str>,
    /// Topmost first, one per line.
    pub authentication_results: &'a str,
    pub outcome: LedgerOutcome,
    pub reason: &'a str,
    pub ticket_id: Option<TicketNumber>,
}

pub fn insert(conn: &mut DbConnection, new: NewInbound<'_>) -> QueryResult<LedgerId> {
    insert_many(conn, &[new])?.pop().ok_or(NotFound)
}

/// As [`insert`], several rows in one statement; their ids in the same order.
pub fn insert_many(conn: &mut DbConnection, rows: &[NewInbound<'_>]) -> QueryResult<Vec<LedgerId>> {
    let values: Vec<_> = rows
        .iter()
        .map(|new| {
            (
                inbound_messages::source.eq(new.source),
                inbound_messages::source_key.eq(new.source_key),
                inbound_messages::message_id.eq(new.message_id),
                inbound_messages::content_hash.eq(new.content_hash),
                inbound_messages::received_at.eq(new.received_at),
                inbound_messages::raw.eq(new.raw),
                inbound_messages::raw_complete.eq(new.raw_complete),
                inbound_messages::size_bytes.eq(i64::try_from(new.size_bytes).unwrap_or(i64::MAX)),
                inbound_messages::from_header.eq(new.from_header),
                inbound_messages::subject.eq(new.subject),
                inbound_messages::machine_class.eq(new.machine_class),
                inbound_messages::authentication_results.eq(new.authentication_results),
                inbound_messages::outcome.eq(new.outcome.as_str()),
                inbound_messages::reason.eq(new.reason),
                inbound_messages::ticket_id.eq(new.ticket_id),
            )
        })
        .collect();
    if values.is_empty() {
        return Ok(Vec::new());
    }
    // Matched back by their unique key: neither database promises RETURNING's order.
    let inserted: Vec<(LedgerId, String, String)> = on_backend!(conn, |c, _dialect| {
        diesel::insert_into(inbound_messages::table)
            .values(values)
            .returning((inbound_messages::id, inbound_messages::source, inbound_messages::source_key))
            .get_results(c)
    })?;
    let ids: HashMap<(&str, &str), LedgerId> =
        inserted.iter().map(|(id, source, key)| ((source.as_str(), key.as_str()), *id)).collect();
    rows.iter().map(|row| ids.get(&(row.source, row.source_key)).copied().ok_or(NotFound)).collect()
}

/// Of a batch's messages from one source: the keys already taken in there, and the content
/// hashes already taken in from anywhere (as [`taken_in_before`] counts them). Two queries
/// for the whole batch.
pub fn taken_in_before_many(
    conn: &mut DbConnection,
    source: &str,
    source_keys: &[&str],
    content_hashes: &[&str],
) -> QueryResult<(HashSet<String>, HashSet<String>)> {
    let passed_on = [LedgerOutcome::Duplicate.as_str(), LedgerOutcome::Reprocessed.as_str()];
    let keys = inbound_messages::table
        .filter(inbound_messages::source.eq(source))
        .filter(inbound_messages::source_key.eq_any(source_keys))
        .select(inbound_messages::source_key)
        .load::<String>(conn)?;
    let hashes = inbound_messages::table
        .filter(inbound_messages::content_hash.eq_any(content_hashes))
        .filter(inbound_messages::outcome.ne_all(passed_on))
        .select(inbound_messages::content_hash)
        .distinct()
        .load::<String>(conn)?;
    Ok((keys.into_iter().collect(), hashes.into_iter().collect()))
}

/// Settles several rows at once as filed onto their tickets (`outcome`, no reason).
pub fn set_ticket_outcomes(
    conn: &mut DbConnection,
    outcome: LedgerOutcome,
    filed: &[(LedgerId, TicketNumber)],
) -> QueryResult<()> {
    if filed.is_empty() {
        return Ok(());
    }
    let cases: String = (0..filed.len()).map(|n| format!(" WHEN ${} THEN ${}", 2 * n + 2, 2 * n + 3)).collect();
    let ids: Vec<String> = (0..filed.len()).map(|n| format!("${}", 2 * n + 2)).collect();
    let update = format!(
        "UPDATE inbound_messages SET outcome = $1, reason = '', ticket_id = CASE id{cases} END WHERE id IN ({})",
        ids.join(", ")
    );
    on_backend!(conn, |c, dialect| {
        let mut query = diesel::sql_query(dialect.statement(&update)).into_boxed().bind::<Text, _>(outcome.as_str());
        for (ledger, ticket) in filed {
            query = query.bind::<BigInt, _>(ledger.0).bind::<BigInt, _>(ticket.0);
        }
        query.execute(c).map(drop)
    })
}

/// What the ledger holds under an arriving message's keys at its source (the rule that reads
/// it: `source_key`).
pub struct UnderKeys {
    /// The content hash and Message-ID of the row under its own key, when there is one.
    under_key: Option<(String, Option<String>)>,
    reused_key_taken: bool,
}

impl UnderKeys {
    /// The key to record `arriving` under; None when it was taken in before.
    pub fn ledger_key(&self, arriving: &Arriving) -> Option<String> {
        let under_key = self
            .under_key
            .as_ref()
            .map(|(content_hash, message_id)| StoredUnderKey { content_hash, message_id: message_id.as_deref() });
        arriving.ledger_key(under_key, self.reused_key_taken)
    }
}

/// What the ledger holds under `arriving`'s keys at `source`, and (the second) whether the
/// same bytes were taken in from any source under any key (a redelivery, a mailbox whose
/// UIDVALIDITY changed). For the bytes, rows that were themselves duplicates, or that were
/// handed back to intake ("reprocessed"), do not count. One query, one round trip.
pub fn taken_in_before(conn: &mut DbConnection, source: &str, arriving: &Arriving) -> QueryResult<(UnderKeys, bool)> {
    let passed_on = [LedgerOutcome::Duplicate.as_str(), LedgerOutcome::Reprocessed.as_str()];
    let at_source = |key: String| {
        inbound_messages::table
            .filter(inbound_messages::source.eq(source.to_owned()))
            .filter(inbound_messages::source_key.eq(key))
    };
    let same_bytes = inbound_messages::table
        .filter(inbound_messages::content_hash.eq(arriving.content_hash))
        .filter(inbound_messages::outcome.ne_all(passed_on));
    let key = arriving.source_key.to_owned();
    let (hash, message_id, reused_key_taken, same_bytes): (Option<String>, Option<String>, bool, bool) =
        diesel::select((
            at_source(key.clone()).select(inbound_messages::content_hash).single_value(),
            at_source(key).select(inbound_messages::message_id).single_value(),
            diesel::dsl::exists(at_source(arriving.reused_key())),
            diesel::dsl::exists(same_bytes),
        ))
        .get_result(conn)?;
    Ok((UnderKeys { under_key: hash.map(|hash| (hash, message_id)), reused_key_taken }, same_bytes))
}

/// The raw bytes of one row (whole, or its headers when it was not read whole); `None`
/// once retention has cleared them.
pub fn raw(conn: &mut DbConnection, id: LedgerId) -> QueryResult<Option<(Vec<u8>, bool)>> {
    inbound_messages::table
        .find(id)
        .filter(inbound_messages::raw_cleared_at.is_null())
        .select((inbound_messages::raw, inbound_messages::raw_complete))
        .first(conn)
        .optional()
}

/// The Authentication-Results recorded for a row, topmost first.
pub fn authentication_results(conn: &mut DbConnection, id: LedgerId) -> QueryResult<Vec<String>> {
    let stored: Option<Option<String>> =
        inbound_messages::table.find(id).select(inbound_messages::authentication_results).first(conn).optional()?;
    Ok(stored.flatten().map(|lines| lines.lines().map(str::to_owned).collect()).unwrap_or_default())
}

/// Fills the header columns of rows taken in before they existed (once, at start, a batch at
/// a time): from their header blocks alone, so it is quick whatever their bodies hold.
pub fn fill_header_columns(conn: &mut DbConnection) -> QueryResult<usize> {
    let mut filled = 0;
    loop {
        let batch = missing_header_columns(conn, 200)?;
        if batch.is_empty() {
            return Ok(filled);
        }
        for (id, raw) in batch {
            let summary = keydesk_core::intake::read_headers(&raw);
            let results = summary.authentication_results.join("\n");
            set_header_columns(conn, id, &summary.from_header, &summary.subject, &results)?;
            filled += 1;
        }
    }
}

/// Rows taken in before their headers were recorded in columns, a batch at a time.
fn missing_header_columns(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<(LedgerId, Vec<u8>)>> {
    inbound_messages::table
        .filter(inbound_messages::authentication_results.is_null())
        .order(inbound_messages::id.asc())
        .limit(limit)
        .select((inbound_messages::id, inbound_messages::raw))
        .load(conn)
}

fn set_header_columns(
    conn: &mut DbConnection,
    id: LedgerId,
    from_header: &str,
    subject: &str,
    authentication_results: &str,
) -> QueryResult<()> {
    diesel::update(inbound_messages::table.find(id))
        .set((
            inbound_messages::from_header.eq(from_header),
            inbound_messages::subject.eq(subject),
            inbound_messages::authentication_results.eq(authentication_results),
        ))
        .execute(conn)
        .map(drop)
}

/// Messages with one outcome, newest first.
pub fn with_outcome(conn: &mut DbConnection, outcome: LedgerOutcome, limit: i64) -> QueryResult<Vec<LedgerEntry>> {
    inbound_messages::table
        .filter(inbound_messages::outcome.eq(outcome.as_str()))
        .order(inbound_messages::id.desc())
        .limit(limit)
        .select(LedgerEntry::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConnection, id: LedgerId) -> QueryResult<Option<LedgerEntry>> {
    inbound_messages::table.find(id).select(LedgerEntry::as_select()).first(conn).optional()
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
    /// One line per entry the last pass skipped: "name: why".
    pub skipped: String,
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

/// What the last pass skipped (one "name: why" per line; empty when nothing).
pub fn record_skipped(conn: &mut DbConnection, source: &str, skipped: &str) -> QueryResult<()> {
    ensure_health_row(conn, source)?;
    diesel::update(intake_health::table.find(source)).set(intake_health::skipped.eq(skipped)).execute(conn).map(drop)
}
