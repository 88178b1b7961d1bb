//! How Keydesk's failures are told apart, and what each becomes.
//!
//! Error policy:
//! - A **refusal** by a rule (an unlock outside working hours, an unverified ticket, a wrong
//!   PIN) is not an error at all: actions return it as an outcome (`TicketUnlock`,
//!   `UnlockOutcome`, `VerifyOutcome`, …) and the page shows it as a flash, the API as 409
//!   with a code and a reason.
//! - [`AppError::Invalid`]: the request cannot be carried out as asked and the person can fix
//!   it (an empty note, a malformed address, a duplicate email). 400, with the words shown:
//!   handlers that re-show a form answer 422 with the form and its error instead.
//! - [`AppError::NotFound`]: 404 — also for what exists but the asker may not know about
//!   (another organisation's user), so that a 404 never confirms an account exists.
//! - [`AppError::Forbidden`]: 403, for a role that may not do this at all.
//! - Faults — [`AppError::Db`], [`AppError::Mail`], [`AppError::Source`] — are bugs or
//!   outages, not the person's doing: a 500 with one log line naming the route and the
//!   cause (never a password, token or message body), and a page or JSON body that says
//!   nothing was changed. A mail source's I/O failure only ever reaches intake's health
//!   record and the command line, never a web request.
//!
//! Pages render these statuses through the catchers in `web`; `/api` answers them as
//! `{"error": "..."}` (see `web::api`).

use crate::db::DbError;
use crate::mail::MailError;
use rocket::http::Status;
use rocket::request::Request;
use rocket::response::{self, Responder};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
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
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// A mail source could not be read: the server or the folder, not the message.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("IMAP: {0}")]
    Imap(String),
    #[error("Maildir {dir}: {error}")]
    Maildir { dir: String, error: String },
    /// Another Keydesk process is taking this source in.
    #[error("{0}")]
    Busy(String),
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        AppError::Db(DbError::Query(error))
    }
}

impl AppError {
    /// The status this error answers with (see the policy above).
    pub fn status(&self) -> Status {
        match self {
            AppError::Invalid(_) => Status::BadRequest,
            AppError::NotFound => Status::NotFound,
            AppError::Forbidden => Status::Forbidden,
            AppError::Db(_) | AppError::Mail(_) | AppError::Source(_) => Status::InternalServerError,
        }
    }

    /// Faults are logged once, where they become a response (by route, never by the path
    /// asked for; with no address a mail server's error quoted).
    pub fn log_if_fault(&self, route: &str) {
        if self.status() == Status::InternalServerError {
            tracing::error!("{route}: {}", crate::logs::without_addresses(&self.to_string()));
        }
    }
}

/// A page's error: the status, rendered by the page catchers.
impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        self.log_if_fault(&format!("{} {}", req.method(), crate::metrics::route_template(req)));
        Err(self.status())
    }
}
