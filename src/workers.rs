//! The background work: the outbox sender, mail intake, the SLA watch, retention and the
//! reports' kept days. `keydesk serve` runs it beside the web server unless told not to
//! (`--no-worker`, `worker = false`), and `keydesk worker` runs it alone, so the two can be
//! scaled apart. Any number of processes may run it against one database: each outbox
//! message is claimed by one sender, each mailbox is read by the one process holding its
//! lease, each SLA alert is claimed once, and a day is kept by one process at a time.

use crate::app::Services;
use crate::config::IntakeSourceKind;
use crate::mail::sender::{self, Transport};
use crate::{intake, queue};

/// Starts every piece of background work the configuration turns on, each on its own task.
pub fn spawn(services: &Services, transport: Transport) {
    let config = &services.config;
    if config.mail.background_sender {
        let Services { db, config, outbox_wake, clock, background, .. } = services.clone();
        rocket::tokio::spawn(sender::run_forever(db, (*config).clone(), clock, transport, outbox_wake, background));
    }
    if config.intake.background && config.intake.source != IntakeSourceKind::Off {
        rocket::tokio::spawn(intake::worker::run_forever(services.clone()));
    }
    if config.sla.background_checks {
        rocket::tokio::spawn(queue::sla_watch::run_forever(services.clone()));
    }
    if config.retention.background {
        rocket::tokio::spawn(crate::ops::retention::run_daily(services.clone()));
        rocket::tokio::spawn(crate::reports::keep::run_hourly(services.clone()));
    }
}
