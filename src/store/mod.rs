//! Storage: every SQL statement Keydesk runs lives in this module, one file per table or
//! concept. Functions take a `&mut DbConnection` so callers can compose them inside one
//! transaction; none of them decides a business rule.

pub mod attachments;
pub mod bulk;
pub mod canned_replies;
pub mod challenges;
pub mod dialect;
pub mod events;
pub mod inbound;
pub mod leases;
pub mod orgs;
pub mod outbox;
pub mod queue;
pub mod recovery_codes;
pub mod report_days;
pub mod report_history;
pub mod reports;
pub mod retention;
pub mod secrets;
pub mod sessions;
pub mod sla_alerts;
pub mod throttle;
pub mod ticket_events;
pub mod tickets;
pub mod users;
pub mod viewers;

/// True when a Diesel error is a unique-constraint violation (a duplicate).
pub fn is_unique_violation(error: &diesel::result::Error) -> bool {
    matches!(error, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
}
