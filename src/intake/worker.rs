//! Runs the configured source: one pass on demand (`keydesk intake once`), or forever in the
//! background, recording each pass's health (last success, consecutive errors, last error)
//! for staff and `/healthz`. A failing pass backs off and tries again; it never stops intake.

use super::{health, imap, maildir, IntakeSummary};
use crate::app::{AppError, Services};
use crate::config::IntakeSourceKind;
use std::time::Duration;

/// One pass over the configured source, with its health recorded.
pub async fn run_once(services: &Services) -> Result<IntakeSummary, AppError> {
    let outcome = match services.config.intake.source {
        IntakeSourceKind::Maildir => maildir::pass(services, &services.config.intake.dir).await,
        IntakeSourceKind::Imap => {
            let services = services.clone();
            rocket::tokio::task::spawn_blocking(move || imap::run_once(&services))
                .await
                .map_err(|e| AppError::Db(crate::db::DbError::Task(e.to_string())))?
        }
        IntakeSourceKind::Off => return Ok(IntakeSummary::default()),
    };
    let services_for_health = services.clone();
    let error = outcome.as_ref().err().map(|e| e.to_string());
    rocket::tokio::task::spawn_blocking(move || health::record_blocking(&services_for_health, error.as_deref()))
        .await
        .map_err(|e| AppError::Db(crate::db::DbError::Task(e.to_string())))?;
    outcome
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
                    tracing::info!("intake: {summary}");
                }
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                tracing::error!("intake: {}", crate::logs::without_addresses(&error.to_string()));
            }
        }
        let wait = poll * failures.clamp(1, 10);
        rocket::tokio::time::sleep(wait).await;
    }
}
