//! The reads behind a service-hours report: the tickets received in a range, the history
//! rows of the range, the older tickets still open in it, and unlocks by who did them.
//!
//! These are the only statements here written as SQL text: they read up to millions of
//! rows, so instants come back as epoch seconds (cheap to decode on both backends, where a
//! SQLite timestamp is text) and each read is shaped to be answered from an index.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use keydesk_core::{EventKind, TicketEventKind};

use super::dialect::{on_backend, Dialect};
use crate::db::DbConnection;
use crate::ids::UserId;

/// A ticket as the report needs it.
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
}

/// One history row as the report needs it.
#[derive(Debug, Clone, QueryableByName)]
pub struct EventRead {
    #[diesel(sql_type = BigInt)]
    pub ticket_id: i64,
    #[diesel(sql_type = BigInt)]
    pub at: i64,
    /// One of the kinds the query asked for (`TicketEventKind::as_str`).
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub actor_id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    pub id: i64,
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

const TICKET_COLUMNS: &str = "t.id AS ticket_id, {received} AS received_at, u.organisation_id AS organisation_id, t.verification_method AS verification_method";

fn ticket_select(dialect: Dialect) -> String {
    format!(
        "SELECT {} FROM tickets t LEFT JOIN users u ON u.id = t.account_user_id",
        TICKET_COLUMNS.replace("{received}", &dialect.epoch("t.received_at"))
    )
}

/// Tickets received in `[start, end)`, optionally of one organisation, in no set order.
/// The two big reads decode columns by position (`sql` with tuples), which costs a
/// fraction of decoding by name.
pub fn tickets_received(
    conn: &mut DbConnection,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    organisation: Option<i64>,
) -> QueryResult<Vec<TicketRead>> {
    type Row = (i64, i64, Option<i64>, Option<String>);
    let rows: Vec<Row> = on_backend!(conn, |c, dialect| {
        let select = format!(
            "SELECT t.id, {}, u.organisation_id, t.verification_method FROM tickets t {} LEFT JOIN users u ON u.id = t.account_user_id WHERE t.received_at >= ",
            dialect.epoch("t.received_at"),
            dialect.index_hint("tickets_received"),
        );
        diesel::dsl::sql::<(BigInt, BigInt, Nullable<BigInt>, Nullable<Text>)>(&select)
            .bind::<Timestamp, _>(naive(start))
            .sql(" AND t.received_at < ")
            .bind::<Timestamp, _>(naive(end))
            .sql(" AND (")
            .bind::<Nullable<BigInt>, _>(organisation)
            .sql(" IS NULL OR u.organisation_id = ")
            .bind::<Nullable<BigInt>, _>(organisation)
            .sql(")")
            .load(c)
    })?;
    Ok(rows
        .into_iter()
        .map(|(ticket_id, received_at, organisation_id, verification_method)| TicketRead {
            ticket_id,
            received_at,
            organisation_id,
            verification_method,
        })
        .collect())
}

/// The history rows in `[start, until)` of the kinds in `kinds`, in index order (by time).
pub fn events_between(
    conn: &mut DbConnection,
    start: DateTime<Utc>,
    until: DateTime<Utc>,
    kinds: &[&str],
) -> QueryResult<Vec<EventRead>> {
    type Row = (i64, i64, String, Option<i64>, i64);
    let kinds = sql_list(kinds);
    let rows: Vec<Row> = on_backend!(conn, |c, dialect| {
        let select = format!(
            "SELECT e.ticket_id, {}, e.kind, e.actor_id, e.id FROM ticket_events e {} WHERE e.kind IN ({kinds}) AND e.at >= ",
            dialect.epoch("e.at"),
            dialect.index_hint("ticket_events_by_time"),
        );
        diesel::dsl::sql::<(BigInt, BigInt, Text, Nullable<BigInt>, BigInt)>(&select)
            .bind::<Timestamp, _>(naive(start))
            .sql(" AND e.at < ")
            .bind::<Timestamp, _>(naive(until))
            .load(c)
    })?;
    Ok(rows
        .into_iter()
        .map(|(ticket_id, at, kind, actor_id, id)| EventRead { ticket_id, at, kind, actor_id, id })
        .collect())
}

/// The ids of tickets received before `start` that are not resolved now (their rows are
/// read once, with the others, by `tickets_by_id_before`).
pub fn tickets_unresolved_before(
    conn: &mut DbConnection,
    start: DateTime<Utc>,
    organisation: Option<i64>,
) -> QueryResult<Vec<i64>> {
    let rows: Vec<TicketId> = on_backend!(conn, |c, dialect| {
        let sql = "SELECT t.id AS ticket_id FROM tickets t LEFT JOIN users u ON u.id = t.account_user_id \
                   WHERE t.status IN ('new', 'open', 'waiting_on_user') AND t.received_at < $1 AND ($2 IS NULL OR u.organisation_id = $2)";
        diesel::sql_query(dialect.statement(sql))
            .bind::<Timestamp, _>(naive(start))
            .bind::<Nullable<BigInt>, _>(organisation)
            .load(c)
    })?;
    Ok(rows.into_iter().map(|row| row.ticket_id).collect())
}

/// Tickets by id, of those received before `start`.
pub fn tickets_by_id_before(
    conn: &mut DbConnection,
    ids: &[i64],
    start: DateTime<Utc>,
    organisation: Option<i64>,
) -> QueryResult<Vec<TicketRead>> {
    let mut rows = Vec::new();
    for chunk in ids.chunks(500) {
        let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let mut read: Vec<TicketRead> = on_backend!(&mut *conn, |c, dialect| {
            let sql = format!(
                "{} WHERE t.id IN ({list}) AND t.received_at < $1 AND ($2 IS NULL OR u.organisation_id = $2)",
                ticket_select(dialect)
            );
            diesel::sql_query(dialect.statement(&sql))
                .bind::<Timestamp, _>(naive(start))
                .bind::<Nullable<BigInt>, _>(organisation)
                .load(c)
        })?;
        rows.append(&mut read);
    }
    Ok(rows)
}

#[derive(Debug, Clone, QueryableByName)]
struct TicketId {
    #[diesel(sql_type = BigInt)]
    ticket_id: i64,
}

/// Tickets resolved or reopened at or after `after` (few, for a range that ends about now).
pub fn tickets_closed_or_reopened_after(conn: &mut DbConnection, after: DateTime<Utc>) -> QueryResult<Vec<i64>> {
    let rows: Vec<TicketId> = on_backend!(conn, |c, dialect| {
        let sql = format!(
            "SELECT DISTINCT e.ticket_id AS ticket_id FROM ticket_events e {} WHERE e.at >= $1 AND e.kind IN ({})",
            dialect.index_hint("ticket_events_by_time"),
            sql_list(&[TicketEventKind::Resolved.as_str(), TicketEventKind::Reopened.as_str()])
        );
        diesel::sql_query(dialect.statement(&sql)).bind::<Timestamp, _>(naive(after)).load(c)
    })?;
    Ok(rows.into_iter().map(|row| row.ticket_id).collect())
}

/// The whole history (of `kinds`, before `until`) of a few tickets, in chunks.
pub fn events_of_tickets(
    conn: &mut DbConnection,
    ticket_ids: &[i64],
    until: DateTime<Utc>,
    kinds: &[&str],
) -> QueryResult<Vec<EventRead>> {
    let kinds = sql_list(kinds);
    let mut rows = Vec::new();
    for chunk in ticket_ids.chunks(500) {
        let ids = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let mut read: Vec<EventRead> = on_backend!(&mut *conn, |c, dialect| {
            let sql = format!(
                "SELECT e.ticket_id AS ticket_id, {} AS at, e.kind AS kind, e.actor_id AS actor_id, e.id AS id \
                 FROM ticket_events e WHERE e.ticket_id IN ({ids}) AND e.at < $1 AND e.kind IN ({kinds})",
                dialect.epoch("e.at")
            );
            diesel::sql_query(dialect.statement(&sql)).bind::<Timestamp, _>(naive(until)).load(c)
        })?;
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
/// else signed in (self-serve: owners and admins), or nobody (a lock that expired). Counted
/// per actor from the index, then each actor's role is looked up once.
pub fn unlocks_by_source(
    conn: &mut DbConnection,
    start: DateTime<Utc>,
    until: DateTime<Utc>,
    organisation: Option<i64>,
    actor: Option<i64>,
) -> QueryResult<keydesk_core::reports::UnlockSources> {
    let sql: &str = "SELECT e.actor_id AS actor_id, COUNT(*) AS unlocks FROM events e \
               WHERE e.action = $1 AND e.at >= $2 AND e.at < $3 AND ($4 IS NULL OR e.organisation_id = $4) AND ($5 IS NULL OR e.actor_id = $5) \
               GROUP BY e.actor_id";
    let counts: Vec<UnlockCount> = on_backend!(&mut *conn, |c, dialect| {
        diesel::sql_query(dialect.statement(sql))
            .bind::<Text, _>(EventKind::AccountUnlocked.label())
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
