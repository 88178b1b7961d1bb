//! Retention, applied: the activity log's old entries deleted and old mail's raw bytes
//! cleared (`[retention]`), a batch per statement, and each run recorded in the activity log
//! as "Retention applied" with what it did. Tickets, their threads and their history stay
//! whole: reports read them.

use crate::app::{AppError, Services};
use crate::store::events::{self, Actor, NewEvent};
use crate::store::retention;
use keydesk_core::retention::RetentionRun;
use keydesk_core::EventKind;
use std::time::Duration;

/// Rows one statement removes at most.
pub const BATCH: i64 = 5_000;

const DAILY: Duration = Duration::from_secs(24 * 3600);

/// Applies the configured retention now.
pub async fn apply(services: &Services) -> Result<RetentionRun, AppError> {
    apply_in_batches(services, BATCH).await
}

/// [`apply`], `batch` rows per statement.
pub async fn apply_in_batches(services: &Services, batch: i64) -> Result<RetentionRun, AppError> {
    let now = services.stored_now();
    let cutoffs = services.config.retention.policy().cutoffs(now);
    services
        .run(move |conn, _| {
            let mut run = RetentionRun { cutoffs, activity_deleted: 0, raw_mail_cleared: 0 };
            if let Some(before) = cutoffs.activity {
                run.activity_deleted = in_batches(batch, || retention::delete_events_before(conn, before, batch))?;
            }
            if let Some(before) = cutoffs.raw_mail {
                run.raw_mail_cleared = in_batches(batch, || retention::clear_raw_before(conn, before, batch, now))?;
            }
            events::record(
                conn,
                NewEvent {
                    at: now,
                    kind: EventKind::RetentionApplied,
                    actor: &Actor::System("keydesk retention"),
                    target_user_id: None,
                    target_label: "",
                    organisation_id: None,
                    ip: None,
                    detail: &run.to_string(),
                },
            )?;
            Ok(run)
        })
        .await
}

/// Runs `step` until it removes less than a whole batch; the total removed.
fn in_batches(batch: i64, mut step: impl FnMut() -> diesel::QueryResult<usize>) -> diesel::QueryResult<u64> {
    let mut total = 0;
    loop {
        let removed = step()?;
        total += removed as u64;
        if (removed as i64) < batch {
            return Ok(total);
        }
    }
}

/// Applies retention at start and then every 24 hours, until the process ends.
pub async fn run_daily(services: Services) {
    loop {
        match apply(&services).await {
            Ok(run) => tracing::info!("retention: {run}"),
            Err(error) => tracing::error!("retention: {error}"),
        }
        rocket::tokio::time::sleep(DAILY).await;
    }
}
