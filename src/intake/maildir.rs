//! The Maildir source (the embedded default): messages dropped into `new/` are taken in, in
//! delivery order, and then moved to `cur/` — only after their ticket is committed, so a
//! crash between the two leaves the message in `new/` and the next pass finds it already in
//! the ledger.
//!
//! A Maildir is written by other programs, so nothing in it is trusted: entries that are
//! not messages (a directory, a symbolic link — never followed, even if one is swapped in
//! while reading — a device, an empty or unreadable file, a name that is not UTF-8 or is
//! hidden) are left where they are and reported on /intake; a message over
//! `intake.max_message_bytes` has only its headers read. None of them stops the pass.

use super::lease::MailboxLease;
use super::{take_in_batch, IntakeSummary, RawMessage, HEADER_READ_LIMIT};
use crate::app::{AppError, Services, SourceError};
use crate::db::DbConnection;
use crate::store;
use keydesk_core::intake::header_block_len;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub fn source_name(dir: &Path) -> String {
    format!("maildir:{}", dir.display())
}

/// One pass over `dir/new`, renewing `lease` as it goes (blocking).
pub(super) fn pass(services: &Services, dir: &Path, lease: &MailboxLease) -> Result<IntakeSummary, AppError> {
    let mut conn = services.db.pool().get().map_err(crate::db::DbError::from)?;
    pass_blocking(&mut conn, services, dir, lease)
}

fn pass_blocking(
    conn: &mut DbConnection,
    services: &Services,
    dir: &Path,
    lease: &MailboxLease,
) -> Result<IntakeSummary, AppError> {
    for sub in ["new", "cur", "tmp"] {
        // Mail is personal data: a Maildir Keydesk makes is its own (one the mail server
        // made is left as it is).
        crate::private_files::create_private_dir(&dir.join(sub)).map_err(|e| io_error(dir, e))?;
    }
    let source = source_name(dir);
    let listing = list_new(&dir.join("new")).map_err(|e| io_error(dir, e))?;
    let mut skipped = listing.skipped;
    let mut summary = IntakeSummary::default();
    let limit = services.config.intake.max_message_bytes;
    // In batches, each filed in one transaction and then moved to cur/.
    // What reading each costs: an oversized message has only its headers read.
    let costs = listing.messages.iter().map(|e| if e.size > limit as u64 { HEADER_READ_LIMIT } else { e.size });
    for range in super::batch_ranges(costs) {
        let batch = &listing.messages[range];
        lease.keep()?;
        let mut read = Vec::with_capacity(batch.len());
        for entry in batch {
            match read_entry(entry, &source, limit, services) {
                Ok(raw) => read.push((entry, raw)),
                Err(why) => skipped.push(Skipped { name: entry.name.clone(), why }),
            }
        }
        let (entries, raws): (Vec<&Entry>, Vec<RawMessage>) = read.into_iter().unzip();
        let outcomes = take_in_batch(conn, services, &raws)?;
        outcomes.iter().for_each(|outcome| summary.count(outcome));
        for entry in entries {
            let done = free_name_in_cur(&dir.join("cur"), entry.key());
            if let Err(error) = fs::rename(&entry.path, &done) {
                let why = format!("taken in, but not moved to cur/: {error}");
                skipped.push(Skipped { name: entry.name.clone(), why });
            }
        }
    }
    summary.skipped = skipped.len();
    let report: Vec<String> = skipped.iter().map(|s| format!("{}: {}", s.name, s.why)).collect();
    store::inbound::record_skipped(conn, &source, &report.join("\n"))?;
    if summary.fetched > 0 {
        services.outbox_wake.notify_one();
    }
    Ok(summary)
}

/// Where a message taken in goes: `cur/NAME:2,S`, or, when a deliverer reused a name that
/// is there already (`source_key`), a free name beside it: a rename would overwrite the
/// earlier message. One process holds the mailbox at a time, so nothing takes the name
/// between the look and the move.
fn free_name_in_cur(cur: &Path, key: &str) -> PathBuf {
    let taken = |path: &PathBuf| path.symlink_metadata().is_ok();
    let first = cur.join(format!("{key}:2,S"));
    if !taken(&first) {
        return first;
    }
    (2..).map(|n| cur.join(format!("{key}.reused-{n}:2,S"))).find(|path| !taken(path)).expect("an endless range")
}

/// A file in `new/` that looks like a message.
struct Entry {
    name: String,
    path: PathBuf,
    size: u64,
    modified: Option<std::time::SystemTime>,
}

impl Entry {
    /// The unique name without Maildir info (":2,S"): the ledger key, and the name in cur/.
    fn key(&self) -> &str {
        self.name.split_once(':').map_or(&self.name, |(base, _)| base)
    }

    /// Delivery order: the unique name starts with the delivery time in seconds.
    fn delivery_order(&self) -> (u64, &str) {
        let seconds = self.name.split('.').next().and_then(|s| s.parse().ok()).unwrap_or(u64::MAX);
        (seconds, &self.name)
    }
}

struct Skipped {
    name: String,
    why: String,
}

struct Listing {
    messages: Vec<Entry>,
    skipped: Vec<Skipped>,
}

/// What `new/` holds, messages in delivery order and the rest with why they are skipped.
/// Nothing is followed or opened here: `symlink_metadata` describes the entry itself.
fn list_new(new: &Path) -> std::io::Result<Listing> {
    let mut listing = Listing { messages: Vec::new(), skipped: Vec::new() };
    for entry in fs::read_dir(new)? {
        let entry = entry?;
        let file_name: OsString = entry.file_name();
        let Some(name) = file_name.to_str().map(str::to_owned) else {
            let shown = file_name.to_string_lossy().into_owned();
            listing.skipped.push(Skipped { name: shown, why: "the name is not UTF-8".into() });
            continue;
        };
        let why = match fs::symlink_metadata(entry.path()) {
            Err(error) => format!("cannot be read: {error}"),
            Ok(meta) if meta.file_type().is_symlink() => "a symbolic link (never followed)".into(),
            Ok(meta) if meta.is_dir() => "a directory".into(),
            Ok(meta) if !meta.is_file() => "not a regular file".into(),
            Ok(meta) if meta.len() == 0 => "an empty file".into(),
            Ok(_) if name.starts_with('.') => "a hidden file, not a delivered message".into(),
            Ok(meta) => {
                let path = entry.path();
                listing.messages.push(Entry { name, path, size: meta.len(), modified: meta.modified().ok() });
                continue;
            }
        };
        listing.skipped.push(Skipped { name, why });
    }
    listing.messages.sort_by(|a, b| a.delivery_order().cmp(&b.delivery_order()));
    listing.skipped.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(listing)
}

/// The entry's bytes (only its headers when it is over `limit`), never through a link.
fn read_entry(entry: &Entry, source: &str, limit: usize, services: &Services) -> Result<RawMessage, String> {
    let mut file = File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&entry.path)
        .map_err(|e| format!("cannot be read: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot be read: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let complete = meta.len() <= limit as u64;
    let mut bytes = Vec::new();
    let cap = if complete { meta.len() } else { HEADER_READ_LIMIT };
    (&mut file).take(cap).read_to_end(&mut bytes).map_err(|e| format!("cannot be read: {e}"))?;
    if !complete {
        bytes.truncate(header_block_len(&bytes));
    }
    // The file's modification time is when the MTA delivered it.
    let arrived_at = entry
        .modified
        .map(|t| chrono::DateTime::<chrono::Utc>::from(t).naive_utc())
        .unwrap_or_else(|| services.stored_now());
    Ok(RawMessage {
        source: source.to_owned(),
        source_key: entry.key().to_owned(),
        arrived_at,
        bytes,
        complete,
        size_bytes: usize::try_from(meta.len().max(entry.size)).unwrap_or(usize::MAX),
    })
}

fn io_error(dir: &Path, error: impl std::fmt::Display) -> AppError {
    AppError::Source(SourceError::Maildir { dir: dir.display().to_string(), error: error.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    #[test]
    fn only_regular_files_with_good_names_are_messages_in_delivery_order() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path();
        fs::write(new.join("1700000002.M1P1.host"), "From: b@x.test\n\nb").unwrap();
        fs::write(new.join("1700000001.M9P9.host:2,"), "From: a@x.test\n\na").unwrap();
        fs::write(new.join("1700000001.M2P2.host"), "From: a@x.test\n\na").unwrap();
        fs::write(new.join("empty"), "").unwrap();
        fs::write(new.join(".hidden"), "x").unwrap();
        fs::create_dir(new.join("a-directory")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", new.join("a-link")).unwrap();
        fs::write(new.join(OsString::from_vec(b"bad-\xff-name".to_vec())), "From: c@x.test\n\nc").unwrap();

        let listing = list_new(new).unwrap();
        let names: Vec<_> = listing.messages.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["1700000001.M2P2.host", "1700000001.M9P9.host:2,", "1700000002.M1P1.host"]);
        assert_eq!(listing.messages[1].key(), "1700000001.M9P9.host");
        let skipped: Vec<_> = listing.skipped.iter().map(|s| (s.name.as_str(), s.why.as_str())).collect();
        assert_eq!(
            skipped,
            [
                (".hidden", "a hidden file, not a delivered message"),
                ("a-directory", "a directory"),
                ("a-link", "a symbolic link (never followed)"),
                ("bad-\u{fffd}-name", "the name is not UTF-8"),
                ("empty", "an empty file"),
            ]
        );
    }
}
