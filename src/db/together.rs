//! Several writes sent as one statement: on PostgreSQL every statement is a round trip to
//! the server (0.1–0.7 ms on a login's path, where Argon2 has just emptied the processor's
//! caches), so writes that always go together are sent together, as data-modifying `WITH`
//! clauses of one statement. On SQLite a statement costs no round trip, so there they simply
//! run one after the other.
//!
//! The statements are Diesel's own (`diesel::update`, `diesel::insert_into`), built by the
//! store's functions, so each is written once whichever way it is sent.

use super::DbConnection;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sqlite::Sqlite;
use diesel::{QueryResult, RunQueryDsl};

/// A write statement either database can run: what the store's statement builders return.
pub trait Write {
    fn postgres(&self) -> &dyn QueryFragment<Pg>;
    fn sqlite(&self) -> &dyn QueryFragment<Sqlite>;
}

impl<T: QueryFragment<Pg> + QueryFragment<Sqlite>> Write for T {
    fn postgres(&self) -> &dyn QueryFragment<Pg> {
        self
    }

    fn sqlite(&self) -> &dyn QueryFragment<Sqlite> {
        self
    }
}

/// A boxed write, for lists of writes of different kinds.
pub type AnyWrite<'a> = Box<dyn Write + 'a>;

/// Runs one write; how many rows it changed.
pub fn execute(conn: &mut DbConnection, write: &dyn Write) -> QueryResult<usize> {
    match conn {
        DbConnection::Postgres(pg) => Sent(write.postgres()).execute(pg),
        DbConnection::Sqlite(sqlite) => Sent(write.sqlite()).execute(sqlite),
    }
}

/// Runs `guard` (an `UPDATE` with no `RETURNING` of its own) and, when it changes a row, the
/// `rest`; whether it changed one. On PostgreSQL all of it is one statement, so the rest is
/// written whether or not the guard matched: on `false` the caller must roll its transaction
/// back (it is the rare path: the guard is there for a race). Call inside a transaction.
pub fn execute_guarded(conn: &mut DbConnection, guard: &dyn Write, rest: &[AnyWrite<'_>]) -> QueryResult<bool> {
    match conn {
        DbConnection::Postgres(pg) => {
            let together = Together { guard: guard.postgres(), rest: rest.iter().map(|w| w.postgres()).collect() };
            // One row per row the guard changed.
            Ok(together.execute(pg)? > 0)
        }
        DbConnection::Sqlite(_) => {
            if execute(conn, guard)? == 0 {
                return Ok(false);
            }
            for write in rest {
                execute(conn, write.as_ref())?;
            }
            Ok(true)
        }
    }
}

/// One statement as Diesel runs it (its SQL text is its key in the prepared-statement cache).
struct Sent<'a, DB>(&'a dyn QueryFragment<DB>);

impl<DB> QueryId for Sent<'_, DB> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB: diesel::backend::Backend> QueryFragment<DB> for Sent<'_, DB> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(out)
    }
}

impl<DB, Conn> RunQueryDsl<Conn> for Sent<'_, DB> {}

/// `WITH guard AS (… RETURNING 1), w0 AS (…), … SELECT 1 FROM guard`: PostgreSQL runs every
/// data-modifying `WITH` clause exactly once, read or not, all in one snapshot (so the writes
/// must not depend on each other), and the statement's row count is the guard's.
struct Together<'a> {
    guard: &'a dyn QueryFragment<Pg>,
    rest: Vec<&'a dyn QueryFragment<Pg>>,
}

impl QueryId for Together<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for Together<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH guard AS (");
        self.guard.walk_ast(out.reborrow())?;
        out.push_sql(" RETURNING 1)");
        for (number, write) in self.rest.iter().enumerate() {
            out.push_sql(&format!(", w{number} AS ("));
            write.walk_ast(out.reborrow())?;
            out.push_sql(")");
        }
        out.push_sql(" SELECT 1 FROM guard");
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for Together<'_> {}
