//! Each ticket's report row (`ticket_report_rows`, with its stored history:
//! keydesk_core::reports::stored_history): the database keeps it with triggers on `tickets`
//! and `ticket_events` (migration `report_history`); this rewrites it from the tickets and
//! their history rows, for `keydesk reports rebuild`.

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::dialect::{on_backend, Dialect};
use super::reports::HistoryRead;
use crate::db::{self, DbConnection};

/// Tickets rewritten per transaction: each holds back writes to tickets and their history
/// while it runs, so it stays short.
const TICKETS_PER_TRANSACTION: i64 = 20_000;

/// An arbitrary constant (beside `db::MIGRATION_LOCK`): the advisory lock a rebuild's slice
/// holds on PostgreSQL.
const REBUILD_LOCK: i64 = 0x6b65_7964_6573_6b02;

/// The migration's statement, for the tickets numbered `[$1, $2)`.
fn rebuild_statement(dialect: Dialect) -> String {
    let aggregate = match dialect {
        Dialect::Postgres => "string_agg",
        Dialect::Sqlite => "group_concat",
    };
    let epoch = dialect.epoch("e.at");
    let kinds = keydesk_core::reports::kinds_counted().iter().map(|k| format!("'{}'", k.as_str())).collect::<Vec<_>>();
    let counted = format!("FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind IN ({})", kinds.join(", "));
    dialect.statement(&format!(
        "INSERT INTO ticket_report_rows (ticket_id, received_at, account_user_id, verification_method, history, latest_at) \
         SELECT t.id, t.received_at, t.account_user_id, t.verification_method, \
         (SELECT coalesce({aggregate}(e.kind || '@' || {epoch} || coalesce('/' || e.actor_id, '') || ';', '' ORDER BY e.at, e.id), '') {counted}), \
         (SELECT max(e.at) {counted}) \
         FROM tickets t WHERE t.id >= $1 AND t.id < $2 \
         ON CONFLICT (ticket_id) DO UPDATE SET received_at = excluded.received_at, account_user_id = excluded.account_user_id, \
         verification_method = excluded.verification_method, history = excluded.history, latest_at = excluded.latest_at"
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
/// rewrote. Safe while Keydesk runs: each slice holds back writes to tickets and history
/// until it commits, so a row recorded meanwhile is either read here or added by the
/// triggers after.
pub fn rebuild(conn: &mut DbConnection, progress: &mut dyn FnMut(i64, i64)) -> QueryResult<i64> {
    const RANGE: &str = "SELECT MIN(id) AS first, MAX(id) AS last FROM tickets";
    let range: IdRange = on_backend!(&mut *conn, |c, _dialect| diesel::sql_query(RANGE).get_result(c))?;
    let (Some(first), Some(last)) = (range.first, range.last) else { return Ok(0) };
    let (total, mut done) = (last - first + 1, 0);
    let mut start = first;
    while start <= last {
        let end = start.saturating_add(TICKETS_PER_TRANSACTION);
        done += rebuild_slice(conn, start, end)? as i64;
        progress((end - first).min(total), total);
        start = end;
    }
    Ok(done)
}

/// How long a slice waits for its SHARE locks before it gives way (PostgreSQL's deadlock
/// check starts at 1 s: giving way sooner means no writer is ever the one aborted).
const LOCK_WAIT: &str = "250ms";
/// How long a slice keeps trying before the rebuild gives up with the lock error.
const GIVE_WAY_FOR: std::time::Duration = std::time::Duration::from_secs(120);

/// Rewrites the tickets `start..end` in one transaction. On PostgreSQL it takes its locks
/// table after table, and a writer can hold the second while waiting for the first (intake
/// threads a reply: history row first, then the ticket's status): neither would move. So the
/// slice waits at most [`LOCK_WAIT`] for them, then gives way — its transaction ends, the
/// writer goes on — and tries again.
fn rebuild_slice(conn: &mut DbConnection, start: i64, end: i64) -> QueryResult<usize> {
    let began = std::time::Instant::now();
    loop {
        let slice = db::write_transaction(conn, |conn| {
            on_backend!(conn, |c, dialect| {
                if let Dialect::Postgres = dialect {
                    // Two rebuilds at once take their slices in turn: both hold the SHARE
                    // lock, and their upserts of the same rows could otherwise deadlock.
                    diesel::sql_query(format!("SELECT pg_advisory_xact_lock({REBUILD_LOCK})")).execute(c)?;
                    diesel::sql_query(format!("SET LOCAL lock_timeout = '{LOCK_WAIT}'")).execute(c)?;
                    diesel::sql_query("LOCK TABLE tickets, ticket_events IN SHARE MODE").execute(c)?;
                    diesel::sql_query("SET LOCAL lock_timeout = DEFAULT").execute(c)?;
                }
                diesel::sql_query(rebuild_statement(dialect)).bind::<BigInt, _>(start).bind::<BigInt, _>(end).execute(c)
            })
        });
        match slice {
            Err(error) if gave_way(&error) && began.elapsed() < GIVE_WAY_FOR => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Whether PostgreSQL refused a lock for waiting longer than `lock_timeout` (SQLSTATE 55P03;
/// diesel passes on only its message).
fn gave_way(error: &diesel::result::Error) -> bool {
    matches!(error, diesel::result::Error::DatabaseError(_, info) if info.message().contains("lock timeout"))
}

/// Every ticket's stored history, by number (for tests and checks; small databases); `none`
/// for a ticket without its row.
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<HistoryRead>> {
    const ALL: &str = "SELECT t.id AS ticket_id, coalesce(r.history, 'none') AS history \
                       FROM tickets t LEFT JOIN ticket_report_rows r ON r.ticket_id = t.id ORDER BY t.id";
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
            let (select, rest) = rebuild.split_once(" WHERE t.id >=").unwrap();
            let on_conflict = &rest[rest.find(" ON CONFLICT").unwrap()..];
            let migration = squash(migration);
            assert!(migration.contains(&format!("{select} WHERE true{on_conflict};")), "{dialect:?}: {select}");
        }
    }
}
