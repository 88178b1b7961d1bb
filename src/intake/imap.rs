//! The IMAP source. Unseen messages are fetched without marking them (BODY.PEEK), taken in,
//! and flagged \Seen only after their ticket is committed. The ledger key is
//! `UIDVALIDITY:UID`, so a crash before the flag is set, or a second delivery of the same
//! UID, takes nothing in twice; after a UIDVALIDITY change the ledger recognises the same
//! bytes under their new keys. Sizes come first (RFC822.SIZE): a message over
//! `intake.max_message_bytes` has only its headers fetched, and stays on the server.
//! Between passes the connection IDLEs when the server offers it (new mail becomes a ticket
//! within a second or two), waking every few seconds to renew the mailbox's lease, and sleeps
//! `intake.poll_seconds` otherwise. The imap crate is blocking: all of this runs on a
//! blocking thread.

use super::lease::{MailboxLease, RENEW_EVERY};
use super::{take_in_batch, IntakeSummary, RawMessage, HEADER_READ_LIMIT};
use crate::app::{AppError, Services, SourceError};
use crate::config::{IntakeConfig, SmtpSecurity};
use crate::db::DbError;
use chrono::NaiveDateTime;
use imap::{ClientBuilder, ConnectionMode, Session};
use std::collections::HashMap;
use std::time::Duration;

pub(crate) type ImapSession = Session<imap::Connection>;

fn imap_error(error: impl std::fmt::Display) -> AppError {
    AppError::Source(SourceError::Imap(error.to_string()))
}

/// Where opening a session failed: reaching the server (or its TLS), or logging in.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    #[error("{0}")]
    Connect(String),
    #[error("{0}")]
    Login(String),
}

impl From<ConnectError> for AppError {
    fn from(error: ConnectError) -> AppError {
        imap_error(error)
    }
}

/// A logged-in session with the configured server (also `keydesk doctor`'s check).
pub(crate) fn connect(intake: &IntakeConfig) -> Result<ImapSession, ConnectError> {
    let mode = match intake.security {
        SmtpSecurity::None => ConnectionMode::Plaintext,
        SmtpSecurity::Starttls => ConnectionMode::StartTls,
        SmtpSecurity::Tls => ConnectionMode::Tls,
    };
    let client = ClientBuilder::new(intake.host.as_str(), intake.port)
        .mode(mode)
        .danger_skip_tls_verify(intake.accept_invalid_certs)
        .connect()
        .map_err(|e| ConnectError::Connect(e.to_string()))?;
    let password = intake.password.as_ref().map(|p| p.0.as_str()).unwrap_or_default();
    // The error names the server's answer, never the password.
    client.login(&intake.username, password).map_err(|(error, _)| ConnectError::Login(error.to_string()))
}

/// Takes in every unseen message of the configured mailbox, oldest UID first, renewing
/// `lease` as it goes.
fn pass(services: &Services, session: &mut ImapSession, lease: &MailboxLease) -> Result<IntakeSummary, AppError> {
    let mailbox = session.select(&services.config.intake.mailbox).map_err(imap_error)?;
    let uid_validity = mailbox.uid_validity.unwrap_or_default();
    let mut uids: Vec<u32> = session.uid_search("UNSEEN").map_err(imap_error)?.into_iter().collect();
    uids.sort_unstable();
    let mut summary = IntakeSummary::default();
    let source = super::health::source_name(services);
    if uids.is_empty() {
        // Nothing unseen: nothing is held back either (a refused message deleted meanwhile).
        record_skipped(services, &source, &[])?;
        return Ok(summary);
    }
    // Sizes and arrival times first, in one command: nothing over the limit is downloaded whole.
    let listed = session.uid_fetch(uid_set(&uids), "(UID RFC822.SIZE INTERNALDATE)").map_err(imap_error)?;
    let sizes: HashMap<u32, (u32, Option<NaiveDateTime>)> = listed
        .iter()
        .filter_map(|f| Some((f.uid?, (f.size.unwrap_or(0), f.internal_date().map(|d| d.naive_utc())))))
        .collect();
    let limit = services.config.intake.max_message_bytes;
    let listed: Vec<u32> = uids.into_iter().filter(|uid| sizes.contains_key(uid)).collect();
    // What downloading each costs: one over the limit costs at most its header block's share.
    let costs = listed.iter().map(|uid| match u64::from(sizes[uid].0) {
        size if size > limit as u64 => HEADER_READ_LIMIT,
        size => size,
    });
    let mut skipped: Vec<String> = Vec::new();
    for range in super::batch_ranges(costs) {
        lease.keep()?;
        let batch = &listed[range];
        let fetched = fetch_batch(session, batch, &sizes, limit, uid_validity, &source, services, &mut skipped)?;
        let (done, raws): (Vec<u32>, Vec<RawMessage>) = fetched.into_iter().unzip();
        let mut conn = services.db.pool().get().map_err(DbError::from)?;
        let outcomes = take_in_batch(&mut conn, services, &raws)?;
        drop(conn);
        outcomes.iter().for_each(|outcome| summary.count(outcome));
        // Only now that the batch is committed: a crash before this leaves it unseen, and the
        // ledger recognises every message of it on the next pass.
        if !done.is_empty() {
            session.uid_store(uid_set(&done), "+FLAGS (\\Seen)").map_err(imap_error)?;
        }
    }
    summary.skipped = skipped.len();
    record_skipped(services, &source, &skipped)?;
    services.outbox_wake.notify_one();
    Ok(summary)
}

/// What this pass left unseen, and why, for /intake (one line each; none clears it).
fn record_skipped(services: &Services, source: &str, skipped: &[String]) -> Result<(), AppError> {
    let mut conn = services.db.pool().get().map_err(DbError::from)?;
    Ok(crate::store::inbound::record_skipped(&mut conn, source, &skipped.join("\n"))?)
}

/// Downloads a batch — whole messages in one FETCH, the headers of those over the limit in
/// another — in UID order, each with its UID. A message the server did not serve (gone
/// meanwhile, or one it refuses) is left out, unseen, and named in `skipped` for /intake.
#[allow(clippy::too_many_arguments)]
fn fetch_batch(
    session: &mut ImapSession,
    batch: &[u32],
    sizes: &HashMap<u32, (u32, Option<NaiveDateTime>)>,
    limit: usize,
    uid_validity: u32,
    source: &str,
    services: &Services,
    skipped: &mut Vec<String>,
) -> Result<Vec<(u32, RawMessage)>, AppError> {
    let is_complete = |uid: &u32| sizes.get(uid).is_some_and(|&(size, _)| size as usize <= limit);
    let (whole, headers_only): (Vec<u32>, Vec<u32>) = batch.iter().partition(|uid| is_complete(uid));
    let mut bytes: HashMap<u32, Vec<u8>> = HashMap::new();
    let mut refused: HashMap<u32, String> = HashMap::new();
    // The header block is the sender's to make large: only its first bytes are fetched.
    let headers_query = format!("(UID BODY.PEEK[HEADER]<0.{HEADER_READ_LIMIT}>)");
    let reopen = || reopen(services, uid_validity);
    for (uids, query) in [(&whole, "(UID BODY.PEEK[])"), (&headers_only, headers_query.as_str())] {
        fetch_each_if_refused(session, &reopen, uids, query, &mut bytes, &mut refused)?;
    }
    for &uid in batch.iter().filter(|uid| !bytes.contains_key(uid)) {
        let why = refused.remove(&uid).unwrap_or_else(|| "not served: gone from the mailbox, or no body".into());
        skipped.push(format!("UID {uid}: {why}"));
    }
    Ok(batch
        .iter()
        .filter_map(|&uid| {
            let (size, internal_date) = *sizes.get(&uid)?;
            let bytes = bytes.remove(&uid)?;
            // RFC822.SIZE is the server's word: more bytes than the limit are never parsed.
            let size_bytes = (size as usize).max(bytes.len());
            let raw = RawMessage {
                source: source.to_owned(),
                source_key: format!("{uid_validity}:{uid}"),
                // INTERNALDATE is when the server received it.
                arrived_at: internal_date.unwrap_or_else(|| services.stored_now()),
                complete: is_complete(&uid) && bytes.len() <= limit,
                bytes,
                size_bytes,
            };
            Some((uid, raw))
        })
        .collect())
}

/// Fetches `query` for `uids` into `bytes`. A server that cannot read one message (a
/// corrupted or unreadable file) refuses the whole command, at every pass: Dovecot closes
/// the connection ("BYE FETCH failed: Internal error occurred"), others answer a tagged NO
/// (Gmail's "Some messages could not be FETCHed"). Then each UID is asked for alone, on a
/// new connection when the last was closed, and those refused go to `refused` with the
/// server's answer, so that the rest are taken in. Each is tried twice, so a server that
/// restarts once is not taken for one that refuses. Any other error ends the pass.
fn fetch_each_if_refused(
    session: &mut ImapSession,
    reopen: &dyn Fn() -> Result<ImapSession, AppError>,
    uids: &[u32],
    query: &str,
    bytes: &mut HashMap<u32, Vec<u8>>,
    refused: &mut HashMap<u32, String>,
) -> Result<(), AppError> {
    if uids.is_empty() {
        return Ok(());
    }
    match session.uid_fetch(uid_set(uids), query) {
        Ok(fetches) => {
            keep_bodies(&fetches, bytes);
            return Ok(());
        }
        Err(imap::Error::No(_)) => {}
        Err(error) if closed_the_connection(&error) => *session = reopen()?,
        Err(error) => return Err(imap_error(error)),
    }
    for &uid in uids {
        match session.uid_fetch(uid.to_string(), query) {
            Ok(fetches) => keep_bodies(&fetches, bytes),
            Err(imap::Error::No(answer)) => {
                refused.insert(uid, format!("the server would not serve it ({answer})"));
            }
            Err(error) if closed_the_connection(&error) => {
                refused.insert(uid, format!("the server closed the connection on it ({error})"));
                *session = reopen()?;
            }
            Err(error) => return Err(imap_error(error)),
        }
    }
    Ok(())
}

fn keep_bodies(fetches: &imap::types::Fetches, bytes: &mut HashMap<u32, Vec<u8>>) {
    for fetch in fetches.iter() {
        let (Some(uid), Some(data)) = (fetch.uid, fetch.body().or(fetch.header())) else { continue };
        bytes.insert(uid, data.to_vec());
    }
}

fn closed_the_connection(error: &imap::Error) -> bool {
    matches!(error, imap::Error::Bye(_) | imap::Error::ConnectionLost | imap::Error::Io(_))
}

/// A new session on the mailbox being read, after the server closed the last one; an error
/// when none can be had, or the mailbox is no longer the one listed (its UIDVALIDITY changed).
fn reopen(services: &Services, uid_validity: u32) -> Result<ImapSession, AppError> {
    let mut session = connect(&services.config.intake)?;
    let mailbox = session.select(&services.config.intake.mailbox).map_err(imap_error)?;
    if mailbox.uid_validity.unwrap_or_default() != uid_validity {
        return Err(imap_error("the mailbox changed (UIDVALIDITY) while it was read; the next pass reads it again"));
    }
    Ok(session)
}

/// "1:3,7,9:10": sorted UIDs as an IMAP sequence set, runs collapsed (a short command line
/// for thousands of messages).
fn uid_set(sorted: &[u32]) -> String {
    let mut runs: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        while i + 1 < sorted.len() && sorted[i + 1] == sorted[i] + 1 {
            i += 1;
        }
        runs.push(if sorted[i] == start { start.to_string() } else { format!("{start}:{}", sorted[i]) });
        i += 1;
    }
    runs.join(",")
}

/// One connection, one pass, logged out (for `keydesk intake once`).
pub(super) fn run_once(services: &Services, lease: &MailboxLease) -> Result<IntakeSummary, AppError> {
    let mut session = connect(&services.config.intake)?;
    let summary = pass(services, &mut session, lease);
    let _ = session.logout();
    summary
}

/// Passes while `lease` is held: IDLE between them when the server offers it (woken by new
/// mail at once, and every few seconds to renew the lease), a poll otherwise. Returns only
/// with the error that ended it; `passed` hears of each pass that succeeded.
pub(super) fn serve(services: &Services, lease: &MailboxLease, passed: &mut dyn FnMut(&IntakeSummary)) -> AppError {
    let poll = Duration::from_secs(services.config.intake.poll_seconds).max(Duration::from_secs(1));
    let mut session = match connect(&services.config.intake) {
        Ok(session) => session,
        Err(error) => return error.into(),
    };
    let idle = session.capabilities().map(|c| c.has_str("IDLE")).unwrap_or(false);
    let error = loop {
        if let Err(error) = lease.keep().and_then(|()| pass(services, &mut session, lease)).map(|s| passed(&s)) {
            break error;
        }
        let waited = if idle {
            session.idle().timeout(poll.min(RENEW_EVERY)).wait_while(|_| false).map(drop).map_err(imap_error)
        } else {
            lease.sleep(poll)
        };
        if let Err(error) = waited {
            break error;
        }
    };
    let _ = session.logout();
    error
}

#[cfg(test)]
mod tests {
    #[test]
    fn uid_sets_collapse_runs() {
        assert_eq!(super::uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(super::uid_set(&[5]), "5");
    }
}
