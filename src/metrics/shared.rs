//! The gauges that describe shared state, read from the database at each scrape: every
//! process answers with the same figures, whichever one Prometheus asks.

use crate::db::DbConnection;
use crate::store;
use chrono::NaiveDateTime;
use diesel::QueryResult;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;

/// One mail source's health.
#[derive(Debug, Clone, PartialEq)]
pub struct IntakeSource {
    /// The name the source is recorded under (a Maildir's path, `imap:user@host:port/box`).
    pub source: String,
    pub last_success_at: Option<NaiveDateTime>,
    pub consecutive_errors: i64,
}

/// The database's state, as of one scrape.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedState {
    pub tickets_open: i64,
    pub outbox_pending: i64,
    /// How long the oldest unsent email has waited; 0 when none waits.
    pub outbox_oldest_pending_age_seconds: f64,
    pub intake: Vec<IntakeSource>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Source {
    source: String,
}

impl SharedState {
    /// Reads it; `now` is what the outbox's oldest message is aged against.
    pub fn read(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<SharedState> {
        let outbox = store::outbox::health(conn)?;
        let intake = store::inbound::health(conn)?
            .into_iter()
            .map(|h| IntakeSource {
                source: h.source,
                last_success_at: h.last_success_at,
                consecutive_errors: i64::from(h.consecutive_errors),
            })
            .collect();
        let age = outbox.oldest_queued_at.map_or(0.0, |at| (now - at).num_milliseconds().max(0) as f64 / 1000.0);
        Ok(SharedState {
            tickets_open: store::tickets::count_unresolved(conn)?,
            outbox_pending: outbox.queued,
            outbox_oldest_pending_age_seconds: age,
            intake,
        })
    }

    /// A registry of this scrape's gauges (made afresh each time: a source that is gone
    /// leaves no stale series behind).
    pub(super) fn registry(&self) -> Registry {
        let mut registry = Registry::default();
        registry.register(
            "keydesk_tickets_open",
            "Tickets that still need someone: new, open or waiting on the user",
            ConstGauge::new(self.tickets_open),
        );
        registry.register(
            "keydesk_outbox_pending",
            "Emails queued and not sent yet (including those failing)",
            ConstGauge::new(self.outbox_pending),
        );
        registry.register_with_unit(
            "keydesk_outbox_oldest_pending_age",
            "How long the oldest unsent email has waited (0 when none waits)",
            Unit::Seconds,
            ConstGauge::new(self.outbox_oldest_pending_age_seconds),
        );
        let last_success = Family::<Source, Gauge<f64, AtomicU64>>::default();
        let errors = Family::<Source, Gauge>::default();
        for source in &self.intake {
            let label = Source { source: source.source.clone() };
            if let Some(at) = source.last_success_at {
                let seconds = at.and_utc().timestamp_millis() as f64 / 1000.0;
                last_success.get_or_create(&label).set(seconds);
            }
            errors.get_or_create(&label).set(source.consecutive_errors);
        }
        registry.register(
            "keydesk_intake_last_success_timestamp_seconds",
            "When each mail source's last pass succeeded (Unix time; absent before its first)",
            last_success,
        );
        registry.register(
            "keydesk_intake_consecutive_errors",
            "Passes of each mail source that failed in a row since its last success",
            errors,
        );
        registry
    }
}
