//! Many rows at once, for seeding. Call inside a transaction.
//!
//! On PostgreSQL the rows go in with COPY (binary), which has no bind-parameter limit and no
//! SQL to parse; rows that need their ids get them reserved from the table's sequence first.
//! On SQLite they go in as multi-row INSERTs in batches under its 32,766 bind parameters,
//! and ids come back with RETURNING: each batch is one statement, and SQLite numbers the rows
//! of one INSERT in the order they are listed, so sorting the returned ids restores that
//! order whatever order RETURNING gives them in.

use crate::db::schema::{events, inbound_messages, ticket_events, ticket_messages, tickets, users};
use crate::db::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use keydesk_core::intake::LedgerOutcome;
use keydesk_core::verification::VerificationMethod;
use keydesk_core::{EventKind, TicketEventKind, TicketStatus};

/// Bind parameters per SQLite statement: under its limit of 32,766, with room to spare.
const MAX_BINDS: usize = 30_000;

fn rows_per_statement(columns: usize) -> usize {
    MAX_BINDS / columns
}

/// Inserts every row of `$rows`, each as the column values listed for `$row`. Each
/// backend's own connection runs the statement: COPY is PostgreSQL's alone, and diesel
/// writes SQLite's multi-row INSERT in a way of its own (SQLite has no DEFAULT in VALUES)
/// that the MultiConnection does not forward.
macro_rules! insert_all {
    ($conn:expr, $table:expr, $rows:expr, |$row:ident| ($($value:expr),+ $(,)?)) => {
        match $conn {
            DbConnection::Postgres(pg) => {
                let values: Vec<_> = $rows.iter().map(|$row| ($($value),+)).collect();
                diesel::copy_from($table).from_insertable(values).execute(pg)?;
            }
            DbConnection::Sqlite(sqlite) => {
                for batch in $rows.chunks(rows_per_statement([$(stringify!($value)),+].len())) {
                    let values: Vec<_> = batch.iter().map(|$row| ($($value),+)).collect();
                    diesel::insert_into($table).values(values).execute(sqlite)?;
                }
            }
        }
    };
}

/// As `insert_all!`, for rows whose ids the caller needs: returns them in row order. `$id`
/// is the table's id column, `$table_name` its name. The values are a flat list (COPY takes
/// one flat tuple per row), to which the reserved id is added on PostgreSQL.
macro_rules! insert_all_returning_ids {
    ($conn:expr, $table:expr, $id:expr, $table_name:literal, $rows:expr, |$row:ident| ($($value:expr),+ $(,)?)) => {
        match $conn {
            DbConnection::Postgres(pg) => {
                let ids = reserve_ids(pg, $table_name, $rows.len())?;
                let values: Vec<_> = $rows.iter().zip(&ids).map(|($row, id)| ($id.eq(*id), $($value),+)).collect();
                diesel::copy_from($table).from_insertable(values).execute(pg)?;
                ids
            }
            DbConnection::Sqlite(sqlite) => {
                let mut ids = Vec::with_capacity($rows.len());
                for batch in $rows.chunks(rows_per_statement([$(stringify!($value)),+].len())) {
                    let values: Vec<_> = batch.iter().map(|$row| ($($value),+)).collect();
                    let mut batch_ids: Vec<i64> = diesel::insert_into($table).values(values).returning($id).get_results(sqlite)?;
                    batch_ids.sort_unstable();
                    ids.extend(batch_ids);
                }
                ids
            }
        }
    };
}

#[derive(QueryableByName)]
struct ReservedId {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Takes `count` ids from the sequence behind `table`'s id column, in increasing order.
fn reserve_ids(pg: &mut diesel::PgConnection, table: &str, count: usize) -> QueryResult<Vec<i64>> {
    let reserved: Vec<ReservedId> =
        diesel::sql_query("SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id FROM generate_series(1, $2)")
            .bind::<diesel::sql_types::Text, _>(table)
            .bind::<BigInt, _>(count as i64)
            .load(pg)?;
    let mut ids: Vec<i64> = reserved.into_iter().map(|r| r.id).collect();
    ids.sort_unstable();
    Ok(ids)
}

/// Runs `load` with SQLite's page cache raised from its default 2 MiB to 256 MiB, so that
/// the growing indexes need fewer page reads and writes; the default is back afterwards.
pub fn while_loading<T, E: From<diesel::result::Error>>(
    conn: &mut DbConnection,
    load: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    let set_cache = |conn: &mut DbConnection, kibibytes: i32| match conn {
        DbConnection::Sqlite(sqlite) => {
            diesel::sql_query(format!("PRAGMA cache_size = -{kibibytes}")).execute(sqlite).map(drop)
        }
        DbConnection::Postgres(_) => Ok(()),
    };
    set_cache(conn, 256 * 1024)?;
    let loaded = load(conn);
    set_cache(conn, 2_000)?;
    loaded
}

/// All of a ticket's columns, for a ticket whose history is written with it.
pub struct TicketRow<'a> {
    pub status: TicketStatus,
    pub received_at: NaiveDateTime,
    pub sender: &'a str,
    pub sender_name: Option<&'a str>,
    pub subject: &'a str,
    /// Each field with where it was found.
    pub full_name: super::tickets::Sourced<'a>,
    pub registered_email: super::tickets::Sourced<'a>,
    pub description: super::tickets::Sourced<'a>,
    pub account_user_id: Option<i64>,
    pub requester_user_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub verified_at: Option<NaiveDateTime>,
    pub verified_by_id: Option<i64>,
    pub verification_method: Option<VerificationMethod>,
    pub verification_note: Option<&'a str>,
    pub mailbox_confirmed_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// Inserts the tickets; their ids, in the order given.
pub fn insert_tickets(conn: &mut DbConnection, rows: &[TicketRow<'_>]) -> QueryResult<Vec<i64>> {
    Ok(insert_all_returning_ids!(conn, tickets::table, tickets::id, "tickets", rows, |t| (
        tickets::status.eq(t.status.as_str()),
        tickets::received_at.eq(t.received_at),
        tickets::sender.eq(t.sender),
        tickets::sender_name.eq(t.sender_name),
        tickets::subject.eq(t.subject),
        tickets::full_name.eq(t.full_name.map(|f| f.0)),
        tickets::full_name_source.eq(t.full_name.map(|f| f.1.as_str())),
        tickets::registered_email.eq(t.registered_email.map(|f| f.0)),
        tickets::registered_email_source.eq(t.registered_email.map(|f| f.1.as_str())),
        tickets::description.eq(t.description.map(|f| f.0)),
        tickets::description_source.eq(t.description.map(|f| f.1.as_str())),
        tickets::account_user_id.eq(t.account_user_id),
        tickets::requester_user_id.eq(t.requester_user_id),
        tickets::assignee_id.eq(t.assignee_id),
        tickets::verified_at.eq(t.verified_at),
        tickets::verified_by_id.eq(t.verified_by_id),
        tickets::verification_method.eq(t.verification_method.map(VerificationMethod::as_str)),
        tickets::verification_note.eq(t.verification_note),
        tickets::mailbox_confirmed_at.eq(t.mailbox_confirmed_at),
        tickets::updated_at.eq(t.updated_at),
    )))
}

/// A message as taken in, for the intake ledger.
pub struct InboundRow<'a> {
    pub source: &'a str,
    pub source_key: &'a str,
    pub message_id: &'a str,
    pub content_hash: &'a str,
    pub received_at: NaiveDateTime,
    pub raw: &'a [u8],
    pub ticket_id: i64,
    /// What pages show and the checks read without parsing `raw` (see `HeaderSummary`).
    pub from_header: &'a str,
    pub subject: &'a str,
    pub authentication_results: &'a str,
}

/// Inserts ledger rows that each opened a ticket; their ids, in the order given.
pub fn insert_inbound(conn: &mut DbConnection, rows: &[InboundRow<'_>]) -> QueryResult<Vec<i64>> {
    Ok(insert_all_returning_ids!(conn, inbound_messages::table, inbound_messages::id, "inbound_messages", rows, |m| (
        inbound_messages::source.eq(m.source),
        inbound_messages::source_key.eq(m.source_key),
        inbound_messages::message_id.eq(m.message_id),
        inbound_messages::content_hash.eq(m.content_hash),
        inbound_messages::received_at.eq(m.received_at),
        inbound_messages::raw.eq(m.raw),
        inbound_messages::outcome.eq(LedgerOutcome::Ticket.as_str()),
        inbound_messages::reason.eq(""),
        inbound_messages::ticket_id.eq(m.ticket_id),
        inbound_messages::size_bytes.eq(m.raw.len() as i64),
        inbound_messages::from_header.eq(m.from_header),
        inbound_messages::subject.eq(m.subject),
        inbound_messages::authentication_results.eq(m.authentication_results),
    )))
}

pub fn insert_ticket_messages(
    conn: &mut DbConnection,
    rows: &[super::tickets::NewTicketMessage<'_>],
) -> QueryResult<()> {
    insert_all!(conn, ticket_messages::table, rows, |m| (
        ticket_messages::ticket_id.eq(m.ticket_id),
        ticket_messages::direction.eq(m.direction.as_str()),
        ticket_messages::message_id.eq(m.message_id),
        ticket_messages::at.eq(m.at),
        ticket_messages::sender.eq(m.sender),
        ticket_messages::subject.eq(m.subject),
        ticket_messages::body_text.eq(m.body_text),
        ticket_messages::inbound_message_id.eq(m.inbound_message_id),
    ));
    Ok(())
}

/// One row of a ticket's history with its own instant.
pub struct TicketEventRow<'a> {
    pub ticket_id: i64,
    pub at: NaiveDateTime,
    /// `None`: Keydesk itself.
    pub actor: Option<(i64, &'a str)>,
    pub kind: TicketEventKind,
    pub detail: &'a str,
}

/// Inserts in the order given, so rows at the same instant keep that order (by id).
pub fn insert_ticket_events(conn: &mut DbConnection, rows: &[TicketEventRow<'_>]) -> QueryResult<()> {
    insert_all!(conn, ticket_events::table, rows, |e| (
        ticket_events::ticket_id.eq(e.ticket_id),
        ticket_events::at.eq(e.at),
        ticket_events::actor_id.eq(e.actor.map(|a| a.0)),
        ticket_events::actor_label.eq(e.actor.map_or("Keydesk", |a| a.1)),
        ticket_events::kind.eq(e.kind.as_str()),
        ticket_events::detail.eq(e.detail),
    ));
    Ok(())
}

/// One activity-log entry with its own instant (labels as `store::events::record` writes them).
pub struct EventRow<'a> {
    pub at: NaiveDateTime,
    pub action: EventKind,
    pub actor_id: Option<i64>,
    pub actor_label: &'a str,
    pub target_user_id: i64,
    pub target_label: &'a str,
    pub organisation_id: Option<i64>,
    pub ip: Option<&'a str>,
    pub detail: &'a str,
}

pub fn insert_events(conn: &mut DbConnection, rows: &[EventRow<'_>]) -> QueryResult<()> {
    insert_all!(conn, events::table, rows, |e| (
        events::at.eq(e.at),
        events::action.eq(e.action.label()),
        events::actor_id.eq(e.actor_id),
        events::actor_label.eq(e.actor_label),
        events::target_user_id.eq(e.target_user_id),
        events::target_label.eq(e.target_label),
        events::organisation_id.eq(e.organisation_id),
        events::ip.eq(e.ip),
        events::detail.eq(e.detail),
    ));
    Ok(())
}

/// A user to create; `email` already canonical (lower case).
pub struct UserRow<'a> {
    pub organisation_id: Option<i64>,
    pub email: &'a str,
    pub full_name: &'a str,
    pub role: &'a str,
    pub password_hash: &'a str,
    pub created_at: NaiveDateTime,
}

pub fn insert_users(conn: &mut DbConnection, rows: &[UserRow<'_>]) -> QueryResult<()> {
    insert_all!(conn, users::table, rows, |u| (
        users::organisation_id.eq(u.organisation_id),
        users::email.eq(u.email),
        users::full_name.eq(u.full_name),
        users::role.eq(u.role),
        users::password_hash.eq(u.password_hash),
        users::created_at.eq(u.created_at),
        users::updated_at.eq(u.created_at),
    ));
    Ok(())
}

/// The ids of the users with these (canonical) addresses, as (email, id); unknown ones are left out.
pub fn user_ids_by_email(conn: &mut DbConnection, emails: &[&str]) -> QueryResult<Vec<(String, i64)>> {
    let mut found = Vec::with_capacity(emails.len());
    for batch in emails.chunks(rows_per_statement(1)) {
        found.extend(
            users::table
                .filter(users::email.eq_any(batch))
                .select((users::email, users::id))
                .load::<(String, i64)>(conn)?,
        );
    }
    Ok(found)
}

/// Sets the lock state of one user as the activity log last left it.
pub fn set_lock_state(
    conn: &mut DbConnection,
    user_id: i64,
    locked_at: Option<NaiveDateTime>,
    failed_attempts: i32,
) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set((users::locked_at.eq(locked_at), users::failed_attempts.eq(failed_attempts)))
        .execute(conn)
        .map(drop)
}

/// Gives every user whose address is under one of `domains` this password hash; how many.
pub fn set_password_hash_for_domains(
    conn: &mut DbConnection,
    domains: &[&str],
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut changed = 0;
    for domain in domains {
        changed += diesel::update(users::table.filter(users::email.like(format!("%@{domain}"))))
            .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
            .execute(conn)?;
    }
    Ok(changed)
}
