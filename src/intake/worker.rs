//! Runs the configured source: one pass on demand (`keydesk intake once`), or forever in the
//! background, recording each pass's health (last success, consecutive errors, last error)
//! for staff and `/healthz`. A failing pass backs off and tries again; it never stops intake.

use super::{imap, maildir, IntakeSummary};
use crate::accounts::{AccountError, Services};
use crate::config::IntakeSourceKind;
use crate::store;
use std::time::Duration;

/// The name health is recorded under.
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

/// One pass over the configured source, with its health recorded.
pub async fn run_once(services: &Services) -> Result<IntakeSummary, AccountError> {
    let outcome = match services.config.intake.source {
        IntakeSourceKind::Maildir => maildir::pass(services, &services.config.intake.dir).await,
        IntakeSourceKind::Imap => {
            let services = services.clone();
            rocket::tokio::task::spawn_blocking(move || imap::run_once(&services))
                .await
                .map_err(|e| AccountError::Db(crate::db::DbError::Task(e.to_string())))?
        }
        IntakeSourceKind::Off => return Ok(IntakeSummary::default()),
    };
    let source = source_name(services);
    let recorded = match &outcome {
        Ok(_) => services.run(move |conn, _| Ok(store::inbound::record_success(conn, &source, store::now())?)).await,
        Err(error) => {
            let error = error.to_string();
            services.run(move |conn, _| Ok(store::inbound::record_error(conn, &source, store::now(), &error)?)).await
        }
    };
    recorded?;
    outcome
}

/// Records a pass's health from a blocking thread; `error` is None for a success.
pub fn record_health_blocking(services: &Services, error: Option<&str>) {
    let source = source_name(services);
    let recorded = services.db.pool().get().map_err(crate::db::DbError::from).and_then(|mut conn| {
        let now = store::now();
        match error {
            None => store::inbound::record_success(&mut conn, &source, now),
            Some(error) => store::inbound::record_error(&mut conn, &source, now, error),
        }
        .map_err(crate::db::DbError::from)
    });
    if let Err(failure) = recorded {
        log::error!("intake health: {failure}");
    }
}

/// Runs the configured source until the process ends.
pub async fn run_forever(services: Services) {
    match services.config.intake.source {
        IntakeSourceKind::Imap => {
            let _ = rocket::tokio::task::spawn_blocking(move || imap::run_forever(services)).await;
        }
        IntakeSourceKind::Maildir => poll_forever(services).await,
        IntakeSourceKind::Off => {}
    }
}

/// Polls until the process ends, backing off (up to ten polls' time) while passes fail.
async fn poll_forever(services: Services) {
    let poll = Duration::from_secs(services.config.intake.poll_seconds);
    let mut failures: u32 = 0;
    loop {
        match run_once(&services).await {
            Ok(summary) => {
                failures = 0;
                if summary.fetched > 0 {
                    log::info!("intake: {summary}");
                }
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                log::error!("intake: {error}");
            }
        }
        let wait = poll * failures.clamp(1, 10);
        rocket::tokio::time::sleep(wait).await;
    }
}
