//! `keydesk backup`: a consistent copy of a SQLite database while Keydesk runs and writes.
//! SQLite's `VACUUM INTO` reads one snapshot (a read transaction, so writers go on) and
//! writes it as a compact, ordinary database file that `sqlite3` opens; the file is created
//! 0600 first, so it is private from its first byte and an existing file is never touched.
//! PostgreSQL has its own tool for this, `pg_dump`.

use crate::db::DatabaseUrl;
use crate::private_files;
use diesel::prelude::*;
use diesel::sql_types::Text;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "database_url is PostgreSQL: back it up with pg_dump (e.g. `pg_dump --format=custom --file=keydesk.dump \
         DATABASE_URL`), restore with pg_restore"
    )]
    Postgres,
    #[error("no SQLite database at {0} (database_url)")]
    NoDatabase(PathBuf),
    #[error("{0} already exists: a backup never overwrites a file, choose a new name")]
    Exists(PathBuf),
    #[error("cannot create {path}: {error}")]
    Create { path: PathBuf, error: std::io::Error },
    #[error("backing up into {path}: {error}")]
    Copy { path: PathBuf, error: String },
    #[error("the backup in {path} fails SQLite's integrity check: {problem}")]
    Damaged { path: PathBuf, problem: String },
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
}

/// Backs up the database at `url` into the new file `output` and checks the copy
/// (`PRAGMA integrity_check`). A failed backup leaves no file behind.
pub fn backup(url: &DatabaseUrl, output: &Path) -> Result<BackupReport, BackupError> {
    let source = match url {
        DatabaseUrl::Postgres(_) => return Err(BackupError::Postgres),
        DatabaseUrl::Sqlite(path) => path,
    };
    // Opening a missing file would create an empty database and back that up.
    if !source.is_file() {
        return Err(BackupError::NoDatabase(source.clone()));
    }
    // Copied and checked under a temporary name, then put in place: a backup killed halfway
    // leaves no file that calls itself one. VACUUM INTO accepts the empty file created for
    // it, and the copy keeps its mode.
    let mut failure = None;
    let placed = private_files::create_private_file_whole(output, |temporary| {
        copy_and_check(source, temporary, output).map_err(|error| {
            failure = Some(error);
            std::io::Error::other("the copy failed")
        })
    });
    match (placed, failure) {
        (_, Some(error)) => Err(error),
        (Err(error), None) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(BackupError::Exists(output.to_owned()))
        }
        (Err(error), None) => Err(BackupError::Create { path: output.to_owned(), error }),
        (Ok(()), None) => {
            let bytes = std::fs::metadata(output).map(|m| m.len()).unwrap_or_default();
            Ok(BackupReport { path: output.to_owned(), bytes })
        }
    }
}

/// Copies `source` into the file at `into` and checks the copy; errors name `output`, the
/// backup it becomes.
fn copy_and_check(source: &Path, into: &Path, output: &Path) -> Result<(), BackupError> {
    let failed =
        |error: &dyn std::fmt::Display| BackupError::Copy { path: output.to_owned(), error: error.to_string() };
    let mut conn = SqliteConnection::establish(&source.display().to_string()).map_err(|e| failed(&e))?;
    // A writer holding the lock briefly is waited for, as Keydesk's own connections do.
    diesel::sql_query("PRAGMA busy_timeout = 15000").execute(&mut conn).map_err(|e| failed(&e))?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(into.display().to_string())
        .execute(&mut conn)
        .map_err(|e| failed(&e))?;
    drop(conn);
    check_integrity(into).map_err(|error| match error {
        BackupError::Damaged { problem, .. } => BackupError::Damaged { path: output.to_owned(), problem },
        other => other,
    })
}

#[derive(QueryableByName)]
struct IntegrityLine {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

/// SQLite's own check of a database file: `Ok` when it answers "ok".
pub fn check_integrity(path: &Path) -> Result<(), BackupError> {
    let damaged = |problem: String| BackupError::Damaged { path: path.to_owned(), problem };
    let mut conn = SqliteConnection::establish(&path.display().to_string()).map_err(|e| damaged(e.to_string()))?;
    let lines: Vec<IntegrityLine> =
        diesel::sql_query("PRAGMA integrity_check").load(&mut conn).map_err(|e| damaged(e.to_string()))?;
    let lines: Vec<String> = lines.into_iter().map(|l| l.integrity_check).collect();
    match lines.as_slice() {
        [ok] if ok == "ok" => Ok(()),
        _ => Err(damaged(lines.join("; "))),
    }
}
