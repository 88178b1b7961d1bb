//! Where the two backends' SQL differs: for the few statements written by hand (the reports'
//! reads, the throttle's upsert), each backend's spelling, and a macro that runs a statement
//! on whichever connection this is.

/// How the two backends spell what these reads need.
#[derive(Debug, Clone, Copy)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    pub fn epoch(self, column: &str) -> String {
        match self {
            // Whole seconds, rounded down as SQLite's `unixepoch` does (a cast would round half up).
            Dialect::Postgres => format!("CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"),
            Dialect::Sqlite => format!("unixepoch({column})"),
        }
    }

    /// Statements are written with `$1`-style parameters; SQLite's numbered form is `?1`.
    pub fn statement(self, sql: &str) -> String {
        match self {
            Dialect::Postgres => sql.to_owned(),
            Dialect::Sqlite => sql.replace('$', "?"),
        }
    }

    /// SQLite would rather use `(kind, at)` or the primary key and look each row up in the
    /// table; the reports' indexes hold every column these reads need. PostgreSQL's planner
    /// finds them alone.
    pub fn index_hint(self, index: &str) -> String {
        match self {
            Dialect::Postgres => String::new(),
            Dialect::Sqlite => format!("INDEXED BY {index}"),
        }
    }
}

/// Runs the same statement on either backend, with that backend's dialect.
macro_rules! on_backend {
    ($conn:expr, |$c:ident, $dialect:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgres($c) => {
                let $dialect = $crate::store::dialect::Dialect::Postgres;
                $body
            }
            $crate::db::DbConnection::Sqlite($c) => {
                let $dialect = $crate::store::dialect::Dialect::Sqlite;
                $body
            }
        }
    };
}

pub(crate) use on_backend;
