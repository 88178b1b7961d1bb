//! Delivers the outbox. A message is claimed (leased) before it is sent and marked sent
//! right after, so it is never lost: a failure or a crash leaves it due again. The lease
//! outlives the transport's timeout, so two senders never send the same message; the only
//! window for a duplicate is a crash between the server's acceptance and `mark_sent`, and
//! then the stable Message-ID lets mail clients fold the two.

use crate::config::{Config, MailTransportKind, SmtpSecurity};
use crate::db::{Db, DbError};
use crate::store::{self, outbox::OutboxMessage};
use chrono::Duration as ChronoDuration;
use chrono::{NaiveDateTime, SubsecRound};
use keydesk_core::retry::backoff_after;
use keydesk_core::Clock;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

const LEASE: ChronoDuration = ChronoDuration::minutes(5);
const SMTP_TIMEOUT: Duration = Duration::from_secs(60);
const BATCH: i64 = 50;

pub enum Transport {
    /// One `.eml` file per message, named by its outbox id so a retry overwrites, never adds.
    File(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub failed: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("building the message: {0}")]
    Build(String),
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("writing the mail folder: {0}")]
    File(#[from] std::io::Error),
}

impl Transport {
    pub fn from_config(config: &Config) -> Result<Transport, SendError> {
        let mail = &config.mail;
        match mail.transport {
            MailTransportKind::File => Ok(Transport::File(mail.dir.clone())),
            MailTransportKind::Smtp => {
                let tls = || {
                    TlsParameters::builder(mail.host.clone())
                        .dangerous_accept_invalid_certs(mail.accept_invalid_certs)
                        .build()
                };
                let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(mail.host.as_str())
                    .port(mail.port)
                    .timeout(Some(SMTP_TIMEOUT));
                builder = match mail.security {
                    SmtpSecurity::None => builder.tls(Tls::None),
                    SmtpSecurity::Starttls => builder.tls(Tls::Required(tls()?)),
                    SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls()?)),
                };
                if let (Some(user), Some(password)) = (&mail.username, &mail.password) {
                    builder = builder.credentials(Credentials::new(user.clone(), password.0.clone()));
                }
                Ok(Transport::Smtp(builder.build()))
            }
        }
    }

    async fn send(&self, row: &OutboxMessage, message: Message) -> Result<(), SendError> {
        match self {
            Transport::File(dir) => {
                rocket::tokio::fs::create_dir_all(dir).await?;
                let path = dir.join(format!("{:08}.eml", row.id));
                let partial = dir.join(format!(".{:08}.eml.partial", row.id));
                // Write then rename: a reader never sees half a message.
                rocket::tokio::fs::write(&partial, message.formatted()).await?;
                rocket::tokio::fs::rename(&partial, &path).await?;
                Ok(())
            }
            Transport::Smtp(smtp) => smtp.send(message).await.map(drop).map_err(SendError::from),
        }
    }
}

fn build_message(from: &Mailbox, row: &OutboxMessage) -> Result<Message, SendError> {
    let to: Mailbox = row.to_address.parse().map_err(|e| SendError::Build(format!("recipient: {e}")))?;
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(row.subject.clone())
        .message_id(Some(row.message_id.clone()));
    if let Some(parent) = &row.in_reply_to {
        builder = builder.in_reply_to(parent.clone()).references(parent.clone());
    }
    if let Some(value) = &row.auto_submitted {
        let name = HeaderName::new_from_ascii_str("Auto-Submitted");
        builder = builder.raw_header(HeaderValue::new(name, value.clone()));
    }
    let html = format!("<!doctype html><html><body>{}</body></html>", row.html_body);
    builder
        .multipart(MultiPart::alternative_plain_html(row.text_body.clone(), html))
        .map_err(|e| SendError::Build(e.to_string()))
}

/// The clock's instant as stored (whole microseconds, naive UTC).
fn stored_now(clock: &dyn Clock) -> NaiveDateTime {
    clock.now().trunc_subsecs(6).naive_utc()
}

/// One pass: claims what is due, sends it, records the result.
pub async fn deliver_due(
    db: &Db,
    config: &Config,
    clock: &dyn Clock,
    transport: &Transport,
) -> Result<DeliveryReport, DbError> {
    let now = stored_now(clock);
    let claimed =
        db.run(move |conn| Ok::<_, DbError>(store::outbox::claim_due(conn, now, now + LEASE, BATCH)?)).await?;
    let from: Mailbox = config.mail.from.parse().map_err(|e| DbError::Task(format!("mail.from: {e}")))?;
    let mut report = DeliveryReport::default();
    for row in claimed {
        let outcome = match build_message(&from, &row) {
            Ok(message) => transport.send(&row, message).await,
            Err(error) => Err(error),
        };
        let id = row.id;
        match outcome {
            Ok(()) => {
                report.sent += 1;
                let sent_at = stored_now(clock);
                db.run(move |conn| Ok::<_, DbError>(store::outbox::mark_sent(conn, id, sent_at)?)).await?;
            }
            Err(error) => {
                report.failed += 1;
                let wait = backoff_after(u32::try_from(row.attempts + 1).unwrap_or(u32::MAX), config.mail.max_backoff);
                let next = stored_now(clock) + ChronoDuration::from_std(wait).unwrap_or(LEASE);
                // The recipient address is personal data and stays out of the log, also where
                // the server's answer quotes it.
                let said = crate::logs::without_addresses(&error.to_string()).into_owned();
                tracing::warn!("email {id} ({}) not delivered, retrying in {}s: {said}", row.kind, wait.as_secs());
                let error = error.to_string();
                db.run(move |conn| Ok::<_, DbError>(store::outbox::mark_failed(conn, id, next, &error)?)).await?;
            }
        }
    }
    Ok(report)
}

/// Runs `deliver_due` until the process ends; `wake` lets a request nudge it at once.
pub async fn run_forever(
    db: Db,
    config: Config,
    clock: std::sync::Arc<dyn Clock>,
    transport: Transport,
    wake: std::sync::Arc<rocket::tokio::sync::Notify>,
) {
    loop {
        match deliver_due(&db, &config, clock.as_ref(), &transport).await {
            Ok(report) if report.sent + report.failed > 0 => {
                tracing::info!("outbox: {} sent, {} to retry", report.sent, report.failed)
            }
            Ok(_) => {}
            Err(error) => tracing::error!("outbox: {error}"),
        }
        let _ = rocket::tokio::time::timeout(config.mail.poll_interval, wake.notified()).await;
    }
}
