//! The IMAP source. Unseen messages are fetched without marking them (BODY.PEEK), taken in,
//! and flagged \Seen only after their ticket is committed. The ledger key is
//! `UIDVALIDITY:UID`, so a crash before the flag is set, or a second delivery of the same
//! UID, takes nothing in twice; after a UIDVALIDITY change the ledger recognises the same
//! bytes under their new keys. Sizes come first (RFC822.SIZE): a message over
//! `intake.max_message_bytes` has only its headers fetched, and stays on the server.
//! Between passes the connection IDLEs when the server offers it (new mail becomes a ticket
//! within seconds) and sleeps `intake.poll_seconds` otherwise. The imap crate is blocking:
//! all of this runs on a blocking thread.

use super::{health, take_in_or_quarantine, IntakeSummary, RawMessage};
use crate::app::{AppError, Services, SourceError};
use crate::config::SmtpSecurity;
use crate::db::DbError;
use chrono::NaiveDateTime;
use imap::{ClientBuilder, ConnectionMode, Session};
use std::collections::HashMap;
use std::time::Duration;

type ImapSession = Session<imap::Connection>;

/// Servers may drop an IDLE after 30 minutes (RFC 2177): renew it before.
const IDLE_RENEWAL: Duration = Duration::from_secs(25 * 60);

fn imap_error(error: impl std::fmt::Display) -> AppError {
    AppError::Source(SourceError::Imap(error.to_string()))
}

fn connect(services: &Services) -> Result<ImapSession, AppError> {
    let intake = &services.config.intake;
    let mode = match intake.security {
        SmtpSecurity::None => ConnectionMode::Plaintext,
        SmtpSecurity::Starttls => ConnectionMode::StartTls,
        SmtpSecurity::Tls => ConnectionMode::Tls,
    };
    let client = ClientBuilder::new(intake.host.as_str(), intake.port)
        .mode(mode)
        .danger_skip_tls_verify(intake.accept_invalid_certs)
        .connect()
        .map_err(imap_error)?;
    let password = intake.password.as_ref().map(|p| p.0.as_str()).unwrap_or_default();
    // The error names the server's answer, never the password.
    client.login(&intake.username, password).map_err(|(error, _)| imap_error(error))
}

/// Takes in every unseen message of the configured mailbox, oldest UID first.
fn pass(services: &Services, session: &mut ImapSession) -> Result<IntakeSummary, AppError> {
    let mailbox = session.select(&services.config.intake.mailbox).map_err(imap_error)?;
    let uid_validity = mailbox.uid_validity.unwrap_or_default();
    let mut uids: Vec<u32> = session.uid_search("UNSEEN").map_err(imap_error)?.into_iter().collect();
    uids.sort_unstable();
    let mut summary = IntakeSummary::default();
    if uids.is_empty() {
        return Ok(summary);
    }
    // Sizes and arrival times first, in one command: nothing over the limit is downloaded whole.
    let listed = session.uid_fetch(uid_set(&uids), "(UID RFC822.SIZE INTERNALDATE)").map_err(imap_error)?;
    let sizes: HashMap<u32, (u32, Option<NaiveDateTime>)> = listed
        .iter()
        .filter_map(|f| Some((f.uid?, (f.size.unwrap_or(0), f.internal_date().map(|d| d.naive_utc())))))
        .collect();
    let source = health::source_name(services);
    let limit = services.config.intake.max_message_bytes;
    for uid in uids {
        let Some(&(size, internal_date)) = sizes.get(&uid) else { continue };
        let complete = size as usize <= limit;
        let query = if complete { "(UID BODY.PEEK[])" } else { "(UID BODY.PEEK[HEADER])" };
        let fetches = session.uid_fetch(uid.to_string(), query).map_err(imap_error)?;
        let Some(fetch) = fetches.iter().find(|f| f.uid == Some(uid)) else { continue };
        let bytes = if complete { fetch.body() } else { fetch.header() };
        let raw = RawMessage {
            source: source.clone(),
            source_key: format!("{uid_validity}:{uid}"),
            // INTERNALDATE is when the server received it.
            arrived_at: internal_date.unwrap_or_else(|| services.stored_now()),
            bytes: bytes.unwrap_or_default().to_vec(),
            complete,
            size_bytes: size as usize,
        };
        let mut conn = services.db.pool().get().map_err(DbError::from)?;
        let outcome = take_in_or_quarantine(&mut conn, services, &raw)?;
        drop(conn);
        summary.count(&outcome);
        session.uid_store(uid.to_string(), "+FLAGS (\\Seen)").map_err(imap_error)?;
    }
    services.outbox_wake.notify_one();
    Ok(summary)
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
pub fn run_once(services: &Services) -> Result<IntakeSummary, AppError> {
    let mut session = connect(services)?;
    let summary = pass(services, &mut session);
    let _ = session.logout();
    summary
}

/// Passes until the process ends: IDLE between them when offered, reconnecting with a
/// growing pause after errors. Each pass's health is recorded.
pub fn run_forever(services: Services) {
    let poll = Duration::from_secs(services.config.intake.poll_seconds);
    let mut failures: u32 = 0;
    loop {
        let result: Result<(), AppError> = connect(&services).and_then(|mut session| {
            let idle = session.capabilities().map(|c| c.has_str("IDLE")).unwrap_or(false);
            loop {
                let summary = pass(&services, &mut session)?;
                health::record_blocking(&services, None);
                failures = 0;
                if summary.fetched > 0 {
                    tracing::info!("intake: {summary}");
                }
                if idle {
                    session
                        .idle()
                        .timeout(poll.max(Duration::from_secs(1)).min(IDLE_RENEWAL))
                        .wait_while(|_| false)
                        .map_err(imap_error)?;
                } else {
                    std::thread::sleep(poll);
                }
            }
        });
        if let Err(error) = result {
            failures = failures.saturating_add(1);
            tracing::error!("intake: {}", crate::logs::without_addresses(&error.to_string()));
            health::record_blocking(&services, Some(&error.to_string()));
            std::thread::sleep(poll * failures.clamp(1, 10));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn uid_sets_collapse_runs() {
        assert_eq!(super::uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(super::uid_set(&[5]), "5");
    }
}
