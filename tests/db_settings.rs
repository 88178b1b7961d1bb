//! What every pooled SQLite connection runs with: foreign keys enforced, and commits without
//! an fsync (WAL, synchronous = NORMAL) — all of its settings applied, not only the first.

mod common;

use common::{Backend, TestDatabase};
use diesel::result::{DatabaseErrorKind, Error::DatabaseError};
use diesel::sql_types::Integer;
use diesel::{QueryableByName, RunQueryDsl};
use keydesk::db::{connect, DatabaseUrl, DbConnection};

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
