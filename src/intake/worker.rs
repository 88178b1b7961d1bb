//! Runs the configured source: one pass on demand (`keydesk intake once`), or forever in the
//! background, recording each pass's health (last success, consecutive errors, last error)
//! for staff and `/healthz`. Either way the source's lease is taken first, so among several
//! Keydesk processes one reads a mailbox at a time (`lease`). A failing pass backs off and
//! tries again; it never stops intake. Both sources block (files, the imap crate): all of
//! this runs on blocking threads.

use super::lease::{MailboxLease, RENEW_EVERY};
use super::{health, imap, maildir, IntakeSummary};
use crate::app::{AppError, Services, SourceError};
use crate::config::IntakeSourceKind;
use std::time::Duration;

/// One pass over the configured source, with its health recorded. While another process
/// holds the source's lease it waits (a crashed holder's lease expires within 20 s), and
/// then gives up with an error.
pub async fn run_once(services: &Services) -> Result<IntakeSummary, AppError> {
    if services.config.intake.source == IntakeSourceKind::Off {
        return Ok(IntakeSummary::default());
    }
    let services = services.clone();
    let outcome = rocket::tokio::task::spawn_blocking(move || {
        let lease = MailboxLease::take_for_one_pass(&services)?;
        let outcome = match services.config.intake.source {
            IntakeSourceKind::Imap => imap::run_once(&services, &lease),
            _ => maildir::pass(&services, &services.config.intake.dir, &lease),
        };
        lease.release();
        health::record_blocking(&services, outcome.as_ref().err().map(|e| e.to_string()).as_deref());
        services.outbox_wake.notify_one();
        outcome
    })
    .await;
    outcome.map_err(|e| AppError::Db(crate::db::DbError::Task(e.to_string())))?
}

/// Runs the configured source until the process ends.
pub async fn run_forever(services: Services) {
    if services.config.intake.source != IntakeSourceKind::Off {
        let _ = rocket::tokio::task::spawn_blocking(move || hold_and_serve(services)).await;
    }
}

/// Waits for the source's lease, serves the source while it holds it, and starts again when
/// the lease is lost or the source fails (backing off, up to ten polls' time, while it fails).
pub fn hold_and_serve(services: Services) {
    let poll = Duration::from_secs(services.config.intake.poll_seconds);
    let mut failures: u32 = 0;
    loop {
        let lease = match MailboxLease::take(&services) {
            Ok(Some(lease)) => lease,
            // Another process is taking this source in: ask again, ready to take over.
            Ok(None) => {
                std::thread::sleep(RENEW_EVERY);
                continue;
            }
            Err(error) => {
                tracing::error!("intake: {}", crate::logs::without_addresses(&error.to_string()));
                std::thread::sleep(RENEW_EVERY);
                continue;
            }
        };
        let mut passed = |summary: &IntakeSummary| {
            failures = 0;
            health::record_blocking(&services, None);
            services.outbox_wake.notify_one();
            if summary.fetched > 0 {
                tracing::info!("intake: {summary}");
            }
        };
        let error = match services.config.intake.source {
            IntakeSourceKind::Imap => imap::serve(&services, &lease, &mut passed),
            _ => poll_maildir(&services, &lease, &mut passed),
        };
        lease.release();
        if let AppError::Source(SourceError::Busy(why)) = &error {
            tracing::warn!("intake: {why}");
            continue;
        }
        failures = failures.saturating_add(1);
        tracing::error!("intake: {}", crate::logs::without_addresses(&error.to_string()));
        health::record_blocking(&services, Some(&error.to_string()));
        std::thread::sleep(poll * failures.clamp(1, 10));
    }
}

/// Maildir passes every `intake.poll_seconds` while `lease` is held; returns the error that
/// ended them.
fn poll_maildir(services: &Services, lease: &MailboxLease, passed: &mut dyn FnMut(&IntakeSummary)) -> AppError {
    let poll = Duration::from_secs(services.config.intake.poll_seconds);
    loop {
        match maildir::pass(services, &services.config.intake.dir, lease) {
            Ok(summary) => passed(&summary),
            Err(error) => return error,
        }
        if let Err(error) = lease.sleep(poll) {
            return error;
        }
    }
}
