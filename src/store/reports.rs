//! The reads behind a service-hours report: the tickets received in a range and the older
//! tickets open in it, each with its stored history (one row per ticket, never the history
//! rows themselves), and unlocks by who did them.
//!
//! These are the only statements here written as SQL text: they read up to millions of
//! rows, so instants come back as epoch seconds (cheap to decode on both backends, where a
//! SQLite timestamp is text) and each read is shaped to be answered from an index.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use keydesk_core::EventKind;

use super::dialect::{on_backend, Dialect};
use crate::db::DbConnection;
use crate::ids::UserId;

/// A ticket as the report needs it, with its stored history
/// (keydesk_core::reports::stored_history).
#[derive(Debug, Clone, QueryableByName)]
pub struct TicketRead {
    #[diesel(sql_type = BigInt)]
    pub ticket_id: i64,
    #[diesel(sql_type = BigInt)]
    pub received_at: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub organisation_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub verification_method: Option<String>,
    #[diesel(sql_type = Text)]
    pub history: String,
}

pub fn epoch_seconds(at: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(at, 0).unwrap_or_default()
}

fn naive(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc()
}

/// `'a', 'b'` for an `IN (…)` of fixed, known words (never user input).
fn sql_list(words: &[&str]) -> String {
    words.iter().map(|word| format!("'{word}'")).collect::<Vec<_>>().join(", ")
}

/// A ticket's report row (`ticket_report_rows`, one narrow row per ticket) with its
/// account's organisation; `index` names the index SQLite is to read the rows by, if any.
fn ticket_select(dialect: Dialect, index: Option<&str>) -> String {
    format!(
        "SELECT r.ticket_id AS ticket_id, {} AS received_at, u.organisation_id AS organisation_id, \
         r.verification_method AS verification_method, r.history AS history \
         FROM ticket_report_rows r {} LEFT JOIN users u ON u.id = r.account_user_id",
        dialect.epoch("r.received_at"),
        index.map(|index| dialect.index_hint(index)).unwrap_or_default(),
    )
}

/// Tickets received in `[start, end)`, optionally of one organisation, in no set order, each
/// handed to `each` as it is read. The biggest read, so its columns are decoded by position
/// (`sql` with tuples), which costs a fraction of decoding by name.
pub fn tickets_received<T>(
    conn: &mut DbConnection,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    organisation: Option<i64>,
    each: impl FnMut(TicketRead) -> QueryResult<T>,
) -> QueryResult<Vec<T>> {
    type Row = (i64, i64, Option<i64>, Option<String>, String);
    let mut each = each;
    // Each row is handed on as it is read (a year is a million of them), not kept.
    let mut handle = |row: QueryResult<Row>| {
        let (ticket_id, received_at, organisation_id, verification_method, history) = row?;
        each(TicketRead { ticket_id, received_at, organisation_id, verification_method, history })
    };
    on_backend!(conn, |c, dialect| {
        let select = format!(
            "SELECT r.ticket_id, {}, u.organisation_id, r.verification_method, r.history FROM ticket_report_rows r \
             LEFT JOIN users u ON u.id = r.account_user_id WHERE r.received_at >= ",
            dialect.epoch("r.received_at"),
        );
        diesel::dsl::sql::<(BigInt, BigInt, Nullable<BigInt>, Nullable<Text>, Text)>(&select)
            .bind::<Timestamp, _>(naive(start))
            .sql(" AND r.received_at < ")
            .bind::<Timestamp, _>(naive(end))
            .sql(" AND (")
            .bind::<Nullable<BigInt>, _>(organisation)
            .sql(" IS NULL OR u.organisation_id = ")
            .bind::<Nullable<BigInt>, _>(organisation)
            .sql(")")
            .load_iter::<Row, diesel::connection::DefaultLoadingMode>(c)?
            .map(&mut handle)
            .collect()
    })
}

/// Tickets received before `start` that may have been open after it: those open now, and
/// those with a counted history row at or after `start` (a resolution or reopening there,
/// or anything while they were still open). Each half is answered from its own index; the
/// second reads the tickets touched since `start` (SQLite is told to: it cannot tell which
/// of the two ranges is the smaller).
pub fn tickets_open_during(
    conn: &mut DbConnection,
    start: DateTime<Utc>,
    organisation: Option<i64>,
) -> QueryResult<Vec<TicketRead>> {
    on_backend!(conn, |c, dialect| {
        let open_now = ticket_select(dialect, None);
        let touched_since = ticket_select(dialect, Some("ticket_report_rows_touched"));
        let open = sql_list(&["new", "open", "waiting_on_user"]);
        let sql = format!(
            "{open_now} WHERE r.ticket_id IN (SELECT t.id FROM tickets t WHERE t.status IN ({open}) AND t.received_at < $1) \
             AND ($2 IS NULL OR u.organisation_id = $2) \
             UNION \
             {touched_since} WHERE r.latest_at >= $1 AND r.received_at < $1 AND ($2 IS NULL OR u.organisation_id = $2)"
        );
        diesel::sql_query(dialect.statement(&sql))
            .bind::<Timestamp, _>(naive(start))
            .bind::<Nullable<BigInt>, _>(organisation)
            .load(c)
    })
}

#[derive(QueryableByName)]
struct Oldest {
    #[diesel(sql_type = Nullable<BigInt>)]
    received_at: Option<i64>,
}

/// When the first ticket was received, if any.
pub fn oldest_received(conn: &mut DbConnection) -> QueryResult<Option<DateTime<Utc>>> {
    let oldest: Oldest = on_backend!(conn, |c, dialect| {
        let sql = format!("SELECT {} AS received_at FROM ticket_report_rows", dialect.epoch("MIN(received_at)"));
        diesel::sql_query(sql).get_result(c)
    })?;
    Ok(oldest.received_at.map(epoch_seconds))
}

/// These tickets (of `organisation` only, when given), in chunks.
pub fn tickets_by_id(
    conn: &mut DbConnection,
    ticket_ids: &[i64],
    organisation: Option<i64>,
) -> QueryResult<Vec<TicketRead>> {
    let mut rows = Vec::new();
    for chunk in ticket_ids.chunks(500) {
        let ids = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let mut read: Vec<TicketRead> = on_backend!(&mut *conn, |c, dialect| {
            let sql = format!(
                "{} WHERE r.ticket_id IN ({ids}) AND ($1 IS NULL OR u.organisation_id = $1)",
                ticket_select(dialect, None)
            );
            diesel::sql_query(dialect.statement(&sql)).bind::<Nullable<BigInt>, _>(organisation).load(c)
        })?;
        rows.append(&mut read);
    }
    Ok(rows)
}

/// A ticket's stored history.
#[derive(Debug, Clone, QueryableByName)]
pub struct HistoryRead {
    #[diesel(sql_type = BigInt)]
    pub ticket_id: i64,
    #[diesel(sql_type = Text)]
    pub history: String,
}

/// The stored histories of a few tickets, in chunks.
pub fn histories_of(conn: &mut DbConnection, ticket_ids: &[i64]) -> QueryResult<Vec<HistoryRead>> {
    let mut rows = Vec::new();
    for chunk in ticket_ids.chunks(500) {
        let ids = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT ticket_id, history FROM ticket_report_rows WHERE ticket_id IN ({ids})");
        let mut read: Vec<HistoryRead> = on_backend!(&mut *conn, |c, _dialect| diesel::sql_query(&sql).load(c))?;
        rows.append(&mut read);
    }
    Ok(rows)
}

#[derive(Debug, Clone, QueryableByName)]
struct UnlockCount {
    #[diesel(sql_type = Nullable<BigInt>)]
    actor_id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    unlocks: i64,
}

/// "Account unlocked" entries in `[start, until)` by who did them: support staff, anyone
/// else signed in (self-serve: owners and admins), or nobody (a lock that expired). The
/// actors are few, so each one's entries are counted from its own range of the index
/// `events_unlocks_by_actor` (found by stepping from one actor to the next), not by grouping
/// every entry of the range; then each actor's role is looked up once.
pub fn unlocks_by_source(
    conn: &mut DbConnection,
    start: DateTime<Utc>,
    until: DateTime<Utc>,
    organisation: Option<i64>,
    actor: Option<i64>,
) -> QueryResult<keydesk_core::reports::UnlockSources> {
    // The action is written out, not bound: the partial index is used only for a query
    // that names its condition. SQLite is told to use it: left alone, it would find the
    // first actor by reading every unlock in the older (action, at) index. Actors with no
    // unlock in the range count 0 (a filter on the count would have PostgreSQL count twice).
    let sql = |dialect: Dialect| {
        let events = format!("events e {}", dialect.index_hint("events_unlocks_by_actor"));
        let unlocked = format!("e.action = {}", sql_list(&[EventKind::AccountUnlocked.label()]));
        let in_range = format!("{unlocked} AND e.at >= $1 AND e.at < $2 AND ($3 IS NULL OR e.organisation_id = $3)");
        dialect.statement(&format!(
            "WITH RECURSIVE actors(id) AS ( \
               SELECT MIN(e.actor_id) FROM {events} WHERE {unlocked} \
               UNION ALL \
               SELECT (SELECT MIN(e.actor_id) FROM {events} WHERE {unlocked} AND e.actor_id > actors.id) \
               FROM actors WHERE actors.id IS NOT NULL), \
             counted(actor_id, unlocks) AS ( \
               SELECT a.id, (SELECT COUNT(*) FROM {events} WHERE {in_range} AND e.actor_id = a.id) \
               FROM actors a WHERE a.id IS NOT NULL AND ($4 IS NULL OR a.id = $4) \
               UNION ALL \
               SELECT NULL, (SELECT COUNT(*) FROM {events} WHERE {in_range} AND e.actor_id IS NULL) WHERE $4 IS NULL) \
             SELECT actor_id, unlocks FROM counted"
        ))
    };
    let counts: Vec<UnlockCount> = on_backend!(&mut *conn, |c, dialect| {
        diesel::sql_query(sql(dialect))
            .bind::<Timestamp, _>(naive(start))
            .bind::<Timestamp, _>(naive(until))
            .bind::<Nullable<BigInt>, _>(organisation)
            .bind::<Nullable<BigInt>, _>(actor)
            .load(c)
    })?;
    let actors: Vec<UserId> = counts.iter().filter_map(|c| c.actor_id).map(UserId).collect();
    let roles: std::collections::HashMap<i64, keydesk_core::Role> =
        super::queue::users_by_id(conn, &actors)?.iter().map(|user| (user.id.0, user.role)).collect();
    let mut sources = keydesk_core::reports::UnlockSources::default();
    for count in counts {
        let role = count.actor_id.and_then(|id| roles.get(&id).copied());
        sources.add(count.actor_id.is_some(), role, u64::try_from(count.unlocks).unwrap_or(0));
    }
    Ok(sources)
}
