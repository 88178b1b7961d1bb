//! The account store's actions: logging in, locking, unlocking, resetting passwords and
//! managing users. One file per action. Each takes plain values, runs its change, its audit
//! event and its emails in one transaction, and returns an outcome for the web layer to show.

pub mod login;
pub mod password_reset;
pub mod passwords;
pub mod unlock;
pub mod users;

use crate::config::Config;
use crate::db::{Db, DbError};
use crate::mail::{MailError, MailTemplates};
use passwords::Passwords;
use rocket::tokio::sync::Notify;
use std::sync::Arc;

/// What the account actions need, cloned cheaply into blocking tasks.
#[derive(Clone)]
pub struct Services {
    pub db: Db,
    pub config: Arc<Config>,
    pub mail: Arc<MailTemplates>,
    pub passwords: Arc<Passwords>,
    /// Wakes the outbox sender when a request has queued mail.
    pub outbox_wake: Arc<Notify>,
    /// Support's working hours.
    pub calendar: Arc<keydesk_core::calendar::BusinessCalendar>,
}

/// Errors the account actions can end in. Refusals that people cause (a wrong PIN, a
/// duplicate email) are outcomes or `Invalid`; the rest are faults and become a 500.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Invalid(String),
    #[error("not found")]
    NotFound,
    #[error("not permitted")]
    Forbidden,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Mail(#[from] MailError),
}

impl From<diesel::result::Error> for AccountError {
    fn from(error: diesel::result::Error) -> Self {
        AccountError::Db(DbError::Query(error))
    }
}

impl Services {
    /// Runs blocking account work with a clone of the services.
    pub async fn run<T, F>(&self, work: F) -> Result<T, AccountError>
    where
        F: FnOnce(&mut crate::db::DbConnection, &Services) -> Result<T, AccountError> + Send + 'static,
        T: Send + 'static,
    {
        let services = self.clone();
        let result = self.db.run(move |conn| work(conn, &services)).await;
        // Whatever the work queued can go out now rather than at the next poll.
        self.outbox_wake.notify_one();
        result
    }
}
