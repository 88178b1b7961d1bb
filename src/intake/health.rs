//! Each mail source's name and health: when its last pass succeeded, how many failed in a
//! row, and the last error — for staff on `/intake` and for `/healthz`.

use super::maildir;
use crate::app::Services;
use crate::config::IntakeSourceKind;
use crate::db::DbError;
use crate::store;

/// The name health and the ledger record a source under.
pub fn source_name(services: &Services) -> String {
    let intake = &services.config.intake;
    match intake.source {
        IntakeSourceKind::Maildir => maildir::source_name(&intake.dir),
        IntakeSourceKind::Imap => {
            format!("imap:{}@{}:{}/{}", intake.username, intake.host, intake.port, intake.mailbox)
        }
        IntakeSourceKind::Off => "off".into(),
    }
}

/// Records a pass's health from a blocking thread; `error` is None for a success.
pub fn record_blocking(services: &Services, error: Option<&str>) {
    let source = source_name(services);
    let now = services.stored_now();
    let recorded = services.db.pool().get().map_err(DbError::from).and_then(|mut conn| {
        match error {
            None => store::inbound::record_success(&mut conn, &source, now),
            Some(error) => store::inbound::record_error(&mut conn, &source, now, error),
        }
        .map_err(DbError::from)
    });
    if let Err(failure) = recorded {
        tracing::error!("intake health: {failure}");
    }
}
