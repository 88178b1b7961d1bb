//! Storage: every SQL statement Keydesk runs lives in this module, one file per table or
//! concept. Functions take a `&mut DbConnection` so callers can compose them inside one
//! transaction; none of them decides a business rule.

pub mod challenges;
pub mod events;
pub mod inbound;
pub mod orgs;
pub mod outbox;
pub mod queue;
pub mod secrets;
pub mod sessions;
pub mod ticket_events;
pub mod tickets;
pub mod users;

use chrono::{NaiveDateTime, Utc};

/// The current instant as stored: naive UTC, whole microseconds (what both backends keep).
pub fn now() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    now.with_nanosecond_truncated()
}

trait TruncateToMicros {
    fn with_nanosecond_truncated(self) -> Self;
}

impl TruncateToMicros for NaiveDateTime {
    fn with_nanosecond_truncated(self) -> Self {
        use chrono::Timelike;
        self.with_nanosecond(self.nanosecond() / 1_000 * 1_000).unwrap_or(self)
    }
}

/// True when a Diesel error is a unique-constraint violation (a duplicate).
pub fn is_unique_violation(error: &diesel::result::Error) -> bool {
    matches!(
        error,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}
