//! One process at a time per mailbox. Several Keydesk processes may run intake against one
//! database; the source's lease (`store::leases`) picks which of them reads the mailbox. The
//! holder renews it every few seconds, between messages and between IDLEs; when it dies,
//! another process takes over once `TTL` has passed (within 30 s in all). Exactly-once never
//! rests on the lease — the intake ledger refuses a second copy whatever happens — the lease
//! keeps two processes from doing the same work and racing on the server's flags.

use super::health;
use crate::app::{AppError, Services, SourceError};
use crate::config::IntakeSourceKind;
use crate::db::DbError;
use crate::store;
use chrono::Duration as ChronoDuration;
use keydesk_core::intake::imap_mailbox_identity;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a lease lasts without renewal: the longest a dead holder keeps others waiting.
const TTL: ChronoDuration = ChronoDuration::seconds(20);
/// How often the holder renews it (and how often the others ask for it).
pub const RENEW_EVERY: Duration = Duration::from_secs(5);

pub struct MailboxLease {
    services: Services,
    name: String,
    token: i64,
    renewed: Mutex<Instant>,
}

impl MailboxLease {
    /// Takes the configured source's lease, or `None` while another process holds it.
    /// Blocking (call from a blocking thread).
    pub fn take(services: &Services) -> Result<Option<MailboxLease>, AppError> {
        let name = lease_name(services);
        let now = services.stored_now();
        let mut conn = services.db.pool().get().map_err(DbError::from)?;
        let token = store::leases::take(&mut conn, &name, &services.instance, now, now + TTL)?;
        Ok(token.map(|token| MailboxLease {
            services: services.clone(),
            name,
            token,
            renewed: Mutex::new(Instant::now()),
        }))
    }

    /// As [`take`](Self::take), for a single pass: waits while another process holds the
    /// lease, as long as a dead holder's lease takes to expire, and then gives up with an
    /// error naming the holder (a live one is serving the source, and this pass is not needed).
    pub fn take_for_one_pass(services: &Services) -> Result<MailboxLease, AppError> {
        let deadline = Instant::now() + (TTL + ChronoDuration::seconds(2)).to_std().unwrap_or(RENEW_EVERY);
        loop {
            if let Some(lease) = Self::take(services)? {
                return Ok(lease);
            }
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        let name = lease_name(services);
        let mut conn = services.db.pool().get().map_err(DbError::from)?;
        let (holder, until) = store::leases::holder(&mut conn, &name)?.unwrap_or_default();
        Err(AppError::Source(SourceError::Busy(format!(
            "{name} is being taken in by another Keydesk process ({holder}, lease until {until} UTC)"
        ))))
    }

    /// Renews the lease when it is due; an error once another process has taken it over, so
    /// the caller stops at once.
    pub fn keep(&self) -> Result<(), AppError> {
        let mut renewed = self.renewed.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if renewed.elapsed() < RENEW_EVERY {
            return Ok(());
        }
        let now = self.services.stored_now();
        let mut conn = self.services.db.pool().get().map_err(DbError::from)?;
        if !store::leases::renew(&mut conn, &self.name, &self.services.instance, self.token, now + TTL)? {
            return Err(AppError::Source(SourceError::Busy(format!(
                "lost the lease on {} to another Keydesk process",
                self.name
            ))));
        }
        *renewed = Instant::now();
        Ok(())
    }

    /// Sleeps `wait`, renewing the lease on the way.
    pub fn sleep(&self, wait: Duration) -> Result<(), AppError> {
        let until = Instant::now() + wait;
        loop {
            self.keep()?;
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            std::thread::sleep(left.min(RENEW_EVERY));
        }
    }

    /// Gives the lease up, so another process may take over at once.
    pub fn release(self) {
        let now = self.services.stored_now();
        let released = self.services.db.pool().get().map_err(DbError::from).and_then(|mut conn| {
            store::leases::release(&mut conn, &self.name, &self.services.instance, self.token, now)
                .map_err(DbError::from)
        });
        if let Err(error) = released {
            tracing::warn!("intake: releasing the lease on {}: {error}", self.name);
        }
    }
}

/// The name the lease is taken under: the mailbox itself, however the configuration spells it
/// (`keydesk_core::intake::imap_mailbox_identity`; a Maildir by its canonical path), so that
/// processes configured with two spellings of one mailbox still take turns. This matters: the
/// ledger keys a message by its source as configured, so two spellings read side by side
/// would each see the other's messages as new.
fn lease_name(services: &Services) -> String {
    let intake = &services.config.intake;
    match intake.source {
        IntakeSourceKind::Imap => imap_mailbox_identity(&intake.username, &intake.host, intake.port, &intake.mailbox),
        IntakeSourceKind::Maildir => {
            let dir = std::fs::canonicalize(&intake.dir).unwrap_or_else(|_| intake.dir.clone());
            super::maildir::source_name(&dir)
        }
        IntakeSourceKind::Off => health::source_name(services),
    }
}
