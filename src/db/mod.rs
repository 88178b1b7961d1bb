//! The database: one connection type over PostgreSQL and SQLite, a pool, the embedded
//! migrations, and the helpers that run blocking Diesel work off the async runtime.

pub mod schema;
mod stored_text;
mod together;

pub use stored_text::OptionalText;
pub use together::{execute, execute_guarded, AnyWrite, Write};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::time::Duration;

/// Postgres first: diesel's MultiConnection tries the variants in order when it parses a URL.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type DbPool = Pool<ConnectionManager<DbConnection>>;
pub type PooledDb = PooledConnection<ConnectionManager<DbConnection>>;

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// An arbitrary constant: the advisory lock that serialises migrations when several Keydesk
/// processes start against one PostgreSQL at once.
const MIGRATION_LOCK: i64 = 0x006b_6579_6465_736b;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database connection pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("database migrations: {0}")]
    Migration(String),
    #[error("database task failed: {0}")]
    Task(String),
}

/// Where the data lives, as written in `database_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(std::path::PathBuf),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> DatabaseUrl {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DatabaseUrl::Postgres(url.to_owned())
        } else {
            DatabaseUrl::Sqlite(url.strip_prefix("sqlite://").unwrap_or(url).into())
        }
    }

    fn connection_string(&self) -> String {
        match self {
            DatabaseUrl::Postgres(url) => url.clone(),
            DatabaseUrl::Sqlite(path) => path.display().to_string(),
        }
    }
}

/// Per-connection settings for SQLite: wait for a writer instead of failing at once, and
/// enforce foreign keys (off by default in SQLite).
#[derive(Debug)]
struct SqliteSettings;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for SqliteSettings {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        if let DbConnection::Sqlite(sqlite) = conn {
            // One batch: a prepared statement (`sql_query`) runs only the first of several, which
            // left synchronous at FULL, every commit waiting for an fsync. (Foreign keys were on
            // all the same: the bundled SQLite is built with them on by default.)
            sqlite
                .batch_execute("PRAGMA busy_timeout = 15000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// Opens the pool and brings the schema up to date.
pub fn connect(url: &DatabaseUrl, max_connections: u32) -> Result<DbPool, DbError> {
    if let DatabaseUrl::Sqlite(path) = url {
        create_private_database(path)?;
    }
    let manager = ConnectionManager::<DbConnection>::new(url.connection_string());
    let pool = Pool::builder()
        .max_size(max_connections)
        .connection_timeout(Duration::from_secs(15))
        // No `SELECT 1` round trip before every use: a connection that failed is marked
        // broken by Diesel and discarded when it returns to the pool.
        .test_on_check_out(false)
        .connection_customizer(Box::new(SqliteSettings))
        .build(manager)?;
    let mut conn = pool.get()?;
    if let DbConnection::Sqlite(sqlite) = &mut *conn {
        // WAL lets readers proceed while one writer commits; it persists in the file.
        diesel::sql_query("PRAGMA journal_mode = WAL").execute(sqlite)?;
    }
    migrate(&mut conn)?;
    Ok(pool)
}

/// A SQLite file that does not exist yet is created empty, 0600, in a 0700 folder, before
/// SQLite opens it: SQLite would make it 0644, and it gives the `-wal` and `-shm` files the
/// database's own mode, so the one file decides all three.
fn create_private_database(path: &std::path::Path) -> Result<(), DbError> {
    // SQLite's own names for what is not a plain file path.
    let name = path.to_string_lossy();
    if name == ":memory:" || name.starts_with("file:") {
        return Ok(());
    }
    let failed =
        |what: &std::path::Path, e: std::io::Error| DbError::Task(format!("cannot create {}: {e}", what.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::private_files::create_private_dir(dir).map_err(|e| failed(dir, e))?;
    }
    crate::private_files::ensure_private_file(path).map_err(|e| failed(path, e))
}

/// Applies pending migrations; returns how many ran.
pub fn migrate(conn: &mut DbConnection) -> Result<usize, DbError> {
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    match conn {
        DbConnection::Postgres(pg) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(pg)?;
            let ran = pg.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()).map_err(failed);
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(pg)?;
            ran
        }
        DbConnection::Sqlite(sqlite) => {
            sqlite.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()).map_err(failed)
        }
    }
}

/// The migrations this build has that the database at `url` has not applied, by name, read
/// over one connection of its own (for `keydesk doctor`). Read only: diesel's own
/// `pending_migrations` would first create its bookkeeping table where there is none.
pub fn pending_migrations(url: &DatabaseUrl) -> Result<Vec<String>, DbError> {
    use diesel::dsl::sql;
    use diesel::migration::MigrationSource;
    use diesel::sql_types::Bool;

    #[derive(QueryableByName)]
    struct Applied {
        #[diesel(sql_type = diesel::sql_types::Text)]
        version: String,
    }
    const APPLIED: &str = "SELECT version FROM __diesel_schema_migrations";
    fn not_in<DB: diesel::backend::Backend>(
        source: &EmbeddedMigrations,
        applied: Vec<Applied>,
    ) -> Result<Vec<String>, DbError>
    where
        EmbeddedMigrations: MigrationSource<DB>,
    {
        let applied: std::collections::HashSet<String> = applied.into_iter().map(|a| a.version).collect();
        let all = MigrationSource::<DB>::migrations(source).map_err(|e| DbError::Migration(e.to_string()))?;
        let pending = all.iter().filter(|m| !applied.contains(&m.name().version().to_string()));
        Ok(pending.map(|m| m.name().to_string()).collect())
    }
    let unreachable = |e: diesel::ConnectionError| DbError::Task(e.to_string());
    // A database without the bookkeeping table has applied nothing.
    match url {
        DatabaseUrl::Postgres(_) => {
            let mut pg = diesel::PgConnection::establish(&url.connection_string()).map_err(unreachable)?;
            let known = sql::<Bool>("to_regclass('__diesel_schema_migrations') IS NOT NULL");
            let applied = match diesel::select(known).get_result(&mut pg)? {
                true => diesel::sql_query(APPLIED).load(&mut pg)?,
                false => Vec::new(),
            };
            not_in::<diesel::pg::Pg>(&POSTGRES_MIGRATIONS, applied)
        }
        DatabaseUrl::Sqlite(_) => {
            let mut sqlite = diesel::SqliteConnection::establish(&url.connection_string()).map_err(unreachable)?;
            let known = sql::<Bool>(
                "EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__diesel_schema_migrations')",
            );
            let applied = match diesel::select(known).get_result(&mut sqlite)? {
                true => diesel::sql_query(APPLIED).load(&mut sqlite)?,
                false => Vec::new(),
            };
            not_in::<diesel::sqlite::Sqlite>(&SQLITE_MIGRATIONS, applied)
        }
    }
}

/// Runs `work` in one transaction that takes the write lock up front. On SQLite a plain
/// `BEGIN` that reads and then writes can fail with SQLITE_BUSY without waiting; `BEGIN
/// IMMEDIATE` waits its turn (busy_timeout) instead.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    // Nested calls become savepoints, which Diesel's own `begin_transaction` handles.
    let nested = in_transaction(conn);
    match conn {
        DbConnection::Sqlite(sqlite) if !nested => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?
        }
        _ => DbConnection::begin_transaction(conn)?,
    }
    finish_transaction(conn, work)
}

/// Runs `work` in the transaction just begun, and commits it or rolls it back.
fn finish_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match work(conn) {
        Ok(value) => {
            DbConnection::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            // The work's error is the one worth reporting; a failed rollback marks the
            // connection broken and r2d2 discards it.
            let _ = DbConnection::rollback_transaction(conn);
            Err(error)
        }
    }
}

/// Whether `conn` is inside a transaction already.
pub fn in_transaction(conn: &mut DbConnection) -> bool {
    matches!(DbConnection::transaction_manager_status_mut(conn).transaction_depth(), Ok(Some(_)))
}

/// Runs `work` in a write transaction (as [`write_transaction`]) whose commit need not wait
/// for the disk: a count (a throttle's, a login attempt's) or what a sign-in leaves behind
/// (its activity entry, its session). On PostgreSQL it begins with `SET LOCAL
/// synchronous_commit = off`, sent with `BEGIN` in one round trip, so a login never waits for
/// the disk unless it locks an account. A crash of Keydesk loses nothing: PostgreSQL has the
/// commit. Only a crash of PostgreSQL itself (or of its machine) can forget such commits from
/// its last fraction of a second — a count (one attempt given back), a sign-in's entry or
/// session (the person signs in again) — as SQLite here (WAL, `synchronous = NORMAL`) can for
/// any commit. PostgreSQL writes its log in order, so it forgets only the newest, and the
/// next ordinary commit flushes them all. Work that turns into more than a count (a lock)
/// calls [`commit_waiting_for_disk`]. Nested in another transaction it is a plain savepoint:
/// the enclosing commit is not its to change.
pub fn unflushed_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let outermost = !in_transaction(conn);
    match conn {
        DbConnection::Postgres(pg) if outermost => {
            AnsiTransactionManager::begin_transaction_sql(pg, "BEGIN; SET LOCAL synchronous_commit = off")?;
            finish_transaction(conn, work)
        }
        _ => write_transaction(conn, work),
    }
}

/// As [`unflushed_transaction`], for work that must first wait for `wait` (a password's
/// verification running on another thread): `work` gets what `wait` returned. On PostgreSQL
/// the transaction begins before the wait, so its round trip is not added to the wait's time;
/// a `BEGIN` holds no lock there. On SQLite it begins after, since it takes the database's
/// one write lock (and a round trip there costs next to nothing).
pub fn unflushed_transaction_after<W, T, E, F>(
    conn: &mut DbConnection,
    wait: impl FnOnce() -> W,
    work: F,
) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection, W) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Postgres(_) => unflushed_transaction(conn, |conn| {
            let waited = wait();
            work(conn, waited)
        }),
        DbConnection::Sqlite(_) => {
            let waited = wait();
            unflushed_transaction(conn, |conn| work(conn, waited))
        }
    }
}

/// Inside an [`unflushed_transaction`] that turned out to decide more than a count (the attempt
/// that locks an account): its commit waits for the disk after all.
pub fn commit_waiting_for_disk(conn: &mut DbConnection) -> QueryResult<()> {
    if let DbConnection::Postgres(pg) = conn {
        diesel::sql_query("SET LOCAL synchronous_commit = on").execute(pg)?;
    }
    Ok(())
}

/// The pool as Rocket state: runs blocking Diesel work on tokio's blocking threads.
#[derive(Clone)]
pub struct Db {
    pool: DbPool,
}

impl Db {
    pub fn new(pool: DbPool) -> Self {
        Db { pool }
    }

    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        // What the work logs belongs to the request (or task) that asked for it.
        let span = tracing::Span::current();
        rocket::tokio::task::spawn_blocking(move || {
            let _in_span = span.enter();
            let mut conn = pool.get().map_err(DbError::from)?;
            work(&mut conn)
        })
        .await
        .map_err(|e| E::from(DbError::Task(e.to_string())))?
    }
}
