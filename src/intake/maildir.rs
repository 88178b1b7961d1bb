//! The Maildir source (the embedded default): messages dropped into `new/` are taken in and
//! then moved to `cur/` — only after their ticket is committed, so a crash between the two
//! leaves the message in `new/` and the next pass finds it already in the ledger.

use super::{take_in, IntakeSummary, RawMessage};
use crate::app::{AppError, Services, SourceError};
use maildir::Maildir;
use std::path::Path;

pub fn source_name(dir: &Path) -> String {
    format!("maildir:{}", dir.display())
}

/// One pass over `dir/new`.
pub async fn pass(services: &Services, dir: &Path) -> Result<IntakeSummary, AppError> {
    let maildir = Maildir::from(dir.to_path_buf());
    maildir.create_dirs().map_err(|e| io_error(dir, e))?;
    let source = source_name(dir);
    let mut summary = IntakeSummary::default();
    let entries: Vec<_> = maildir.list_new().collect();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let id = entry.id().to_owned();
        let bytes = std::fs::read(entry.path()).map_err(|e| io_error(dir, e))?;
        // The file's modification time is when the MTA delivered it.
        let arrived_at = std::fs::metadata(entry.path())
            .and_then(|m| m.modified())
            .map(|t| chrono::DateTime::<chrono::Utc>::from(t).naive_utc())
            .unwrap_or_else(|_| services.stored_now());
        let raw = RawMessage { source: source.clone(), source_key: id.clone(), arrived_at, bytes };
        let outcome = services.run(move |conn, services| take_in(conn, services, &raw)).await?;
        summary.count(&outcome);
        maildir.move_new_to_cur_with_flags(&id, "S").map_err(|e| io_error(dir, e))?;
    }
    Ok(summary)
}

fn io_error(dir: &Path, error: impl std::fmt::Display) -> AppError {
    AppError::Source(SourceError::Maildir { dir: dir.display().to_string(), error: error.to_string() })
}
