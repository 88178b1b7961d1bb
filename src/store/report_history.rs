//! Each ticket's stored report history (keydesk_core::reports::stored_history): the database
//! keeps it with a trigger on `ticket_events` (migration `report_history`); this rewrites it
//! from the history rows, for `keydesk reports rebuild`.

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::dialect::{on_backend, Dialect};
use crate::db::{self, DbConnection};

/// Tickets rewritten per transaction: each holds back new history rows (PostgreSQL) or all
/// writes (SQLite) while it runs, so it stays short.
const TICKETS_PER_TRANSACTION: i64 = 20_000;

/// The migration's statement, for the tickets numbered `[$1, $2)`.
fn rebuild_statement(dialect: Dialect) -> String {
    let (aggregate, epoch) = match dialect {
        Dialect::Postgres => ("string_agg", dialect.epoch("e.at")),
        Dialect::Sqlite => ("group_concat", dialect.epoch("e.at")),
    };
    let kinds = keydesk_core::reports::kinds_counted().iter().map(|k| format!("'{}'", k.as_str())).collect::<Vec<_>>();
    dialect.statement(&format!(
        "UPDATE tickets SET (report_history, report_latest_at) = (\
         SELECT coalesce({aggregate}(e.kind || '@' || {epoch} || coalesce('/' || e.actor_id, '') || ';', '' ORDER BY e.at, e.id), ''), max(e.at) \
         FROM ticket_events e WHERE e.ticket_id = tickets.id AND e.kind IN ({})) \
         WHERE id >= $1 AND id < $2",
        kinds.join(", ")
    ))
}

#[derive(QueryableByName)]
struct IdRange {
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    first: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    last: Option<i64>,
}

/// Rewrites every ticket's stored history from its history rows, a slice of tickets per
/// transaction; `progress` hears (done, total) after each. Returns how many tickets it
/// rewrote. Safe while Keydesk runs: each slice holds back new history rows until it commits,
/// so a row recorded meanwhile is either read here or appended by the trigger after.
pub fn rebuild(conn: &mut DbConnection, progress: &mut dyn FnMut(i64, i64)) -> QueryResult<i64> {
    const RANGE: &str = "SELECT MIN(id) AS first, MAX(id) AS last FROM tickets";
    let range: IdRange = on_backend!(&mut *conn, |c, _dialect| diesel::sql_query(RANGE).get_result(c))?;
    let (Some(first), Some(last)) = (range.first, range.last) else { return Ok(0) };
    let (total, mut done) = (last - first + 1, 0);
    let mut start = first;
    while start <= last {
        let end = start.saturating_add(TICKETS_PER_TRANSACTION);
        done += db::write_transaction(conn, |conn| {
            on_backend!(conn, |c, dialect| {
                if let Dialect::Postgres = dialect {
                    diesel::sql_query("LOCK TABLE ticket_events IN SHARE MODE").execute(c)?;
                }
                diesel::sql_query(rebuild_statement(dialect)).bind::<BigInt, _>(start).bind::<BigInt, _>(end).execute(c)
            })
        })? as i64;
        progress((end - first).min(total), total);
        start = end;
    }
    Ok(done)
}

#[derive(Debug, Clone, QueryableByName, PartialEq, Eq)]
pub struct StoredHistory {
    #[diesel(sql_type = BigInt)]
    pub ticket_id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub report_history: String,
}

/// Every ticket's stored history, by number (for tests and checks; small databases).
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<StoredHistory>> {
    const ALL: &str = "SELECT id AS ticket_id, report_history FROM tickets ORDER BY id";
    on_backend!(conn, |c, _dialect| diesel::sql_query(ALL).load(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The migration fills the column with the statement `rebuild` runs, so both write the
    /// same thing (the migration is frozen SQL; this holds the two together).
    #[test]
    fn the_migration_writes_what_rebuild_writes() {
        let squash =
            |sql: &str| sql.split_whitespace().collect::<Vec<_>>().join(" ").replace("( ", "(").replace(" )", ")");
        for (dialect, migration) in [
            (Dialect::Postgres, include_str!("../../migrations/postgres/2026-12-05-000011_report_history/up.sql")),
            (Dialect::Sqlite, include_str!("../../migrations/sqlite/2026-12-05-000011_report_history/up.sql")),
        ] {
            let rebuild = squash(&rebuild_statement(dialect));
            let whole_table = rebuild.split(" WHERE id >=").next().unwrap();
            assert!(squash(migration).contains(whole_table), "{dialect:?}: {whole_table}");
        }
    }
}
