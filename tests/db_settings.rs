//! What every pooled SQLite connection runs with: foreign keys enforced, and commits without
//! an fsync (WAL, synchronous = NORMAL) — all of its settings applied, not only the first.
//! And on PostgreSQL, which commits skip waiting for the disk: a count's own transaction, and
//! never one it is nested in.

mod common;

use common::{Backend, TestDatabase};
use diesel::result::{DatabaseErrorKind, Error::DatabaseError};
use diesel::sql_types::{Integer, Text};
use diesel::{QueryableByName, RunQueryDsl};
use keydesk::db::{connect, unflushed_transaction, write_transaction, DatabaseUrl, DbConnection};

#[derive(QueryableByName)]
struct ForeignKeys {
    #[diesel(sql_type = Integer)]
    foreign_keys: i32,
}

#[derive(QueryableByName)]
struct Synchronous {
    #[diesel(sql_type = Integer)]
    synchronous: i32,
}

#[test]
fn sqlite_connections_enforce_foreign_keys_and_commit_without_an_fsync() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(Backend::Sqlite, dir.path());
    let pool = connect(&DatabaseUrl::parse(&database.url), 2).unwrap();
    // Both connections, not only the first: the settings are the pool's, per connection.
    let (mut first, mut second) = (pool.get().unwrap(), pool.get().unwrap());
    for conn in [&mut *first, &mut *second] {
        let DbConnection::Sqlite(sqlite) = conn else { panic!("a SQLite connection") };
        let keys: ForeignKeys = diesel::sql_query("PRAGMA foreign_keys").get_result(sqlite).unwrap();
        assert_eq!(keys.foreign_keys, 1, "foreign keys enforced");
        let sync: Synchronous = diesel::sql_query("PRAGMA synchronous").get_result(sqlite).unwrap();
        assert_eq!(sync.synchronous, 1, "synchronous = NORMAL (1), not FULL (2)");
    }
    // And enforced indeed: a session for a user who does not exist is refused.
    let conn = &mut *first;
    let orphan = diesel::sql_query(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, stage) \
         VALUES ('x', 424242, '2026-12-05 10:00:00', '2026-12-06 10:00:00', 'signed_in')",
    )
    .execute(conn);
    assert!(
        matches!(orphan, Err(DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _))),
        "a row pointing at no user is refused: {orphan:?}"
    );
}

#[derive(QueryableByName)]
struct SynchronousCommit {
    #[diesel(sql_type = Text)]
    synchronous_commit: String,
}

fn synchronous_commit(conn: &mut DbConnection) -> String {
    let DbConnection::Postgres(pg) = conn else { panic!("a PostgreSQL connection") };
    let setting: SynchronousCommit = diesel::sql_query("SHOW synchronous_commit").get_result(pg).unwrap();
    setting.synchronous_commit
}

#[test]
fn on_postgresql_only_a_counts_own_transaction_commits_without_waiting_for_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(Backend::Postgres, dir.path());
    let pool = connect(&DatabaseUrl::parse(&database.url), 1).unwrap();
    let conn = &mut *pool.get().unwrap();
    let seen = |conn: &mut DbConnection| Ok::<_, diesel::result::Error>(synchronous_commit(conn));
    assert_eq!(write_transaction(conn, seen).unwrap(), "on", "an ordinary transaction waits for the disk");
    assert_eq!(unflushed_transaction(conn, seen).unwrap(), "off", "a count's own does not");
    assert_eq!(synchronous_commit(conn), "on", "and only for itself (SET LOCAL)");
    // A count that turns into more (a lock) waits for the disk after all.
    let flipped = unflushed_transaction(conn, |conn| {
        keydesk::db::commit_waiting_for_disk(conn)?;
        Ok::<_, diesel::result::Error>(synchronous_commit(conn))
    });
    assert_eq!(flipped.unwrap(), "on");
    // A count inside another transaction (a savepoint) leaves that transaction's commit alone.
    let (inner, outer) = write_transaction(conn, |conn| {
        let inner = unflushed_transaction(conn, seen)?;
        Ok::<_, diesel::result::Error>((inner, synchronous_commit(conn)))
    })
    .unwrap();
    assert_eq!((inner.as_str(), outer.as_str()), ("on", "on"), "the enclosing commit stays ordinary");
}
