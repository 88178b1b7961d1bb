//! The application's shared state and its error type: what every action is handed
//! (`Services`: the database, the configuration, the mail templates, the password hasher,
//! the working-hours calendar, the clock and the metrics), and how its failures read (`AppError`).

mod background;
mod error;

pub use background::Background;
pub use error::{AppError, SourceError};

use crate::accounts::passwords::Passwords;
use crate::config::Config;
use crate::db::{Db, DbConnection};
use crate::mail::{MailTemplates, Outbox};
use crate::metrics::Metrics;
use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use keydesk_core::calendar::BusinessCalendar;
use keydesk_core::Clock;
use rocket::tokio::sync::Notify;
use std::sync::Arc;

/// What the actions need, cloned cheaply into blocking tasks.
#[derive(Clone)]
pub struct Services {
    pub db: Db,
    pub config: Arc<Config>,
    pub mail: Arc<MailTemplates>,
    pub passwords: Arc<Passwords>,
    /// Wakes the outbox sender when a request has queued mail.
    pub outbox_wake: Arc<Notify>,
    /// Support's working hours.
    pub calendar: Arc<BusinessCalendar>,
    /// The one source of "now": the system clock in production, a settable one in tests.
    pub clock: Arc<dyn Clock>,
    /// Work requests start and do not wait for.
    pub background: Arc<Background>,
    /// What mail intake is told (its patterns compiled once).
    pub intake_rules: Arc<keydesk_core::intake::IntakeRules>,
    /// This process among the others on the database ("host:pid:random"), as leases name it.
    pub instance: Arc<str>,
    /// This process's counters, for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Addresses whose logins this process has refused as throttled lately.
    pub throttled_addresses: Arc<crate::accounts::verification::ThrottledAddresses>,
    /// Threads kept to verify a login's password beside its count.
    pub verifiers: Arc<crate::accounts::verification::Verifiers>,
}

impl Services {
    /// The current instant, to the microsecond (what both databases keep), so a value read
    /// back compares equal to the one written.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(6)
    }

    /// The current instant as stored: naive UTC.
    pub fn stored_now(&self) -> NaiveDateTime {
        self.now().naive_utc()
    }

    /// Queues emails dated `now`, in the caller's transaction.
    pub fn outbox(&self, now: NaiveDateTime) -> Outbox<'_> {
        Outbox { config: &self.config, templates: &self.mail, now }
    }

    /// Runs blocking work on a pooled connection with a clone of the services.
    pub async fn run<T, F>(&self, work: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConnection, &Services) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let services = self.clone();
        let result = self.db.run(move |conn| work(conn, &services)).await;
        // Whatever the work queued can go out now rather than at the next poll.
        self.outbox_wake.notify_one();
        result
    }
}
