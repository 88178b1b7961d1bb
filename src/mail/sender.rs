//! Delivers the outbox. Each message is claimed (leased) on its own, right before it is sent,
//! and marked sent right after, so it is never lost: a failure or a crash leaves it due again.
//! A send is cut off after `SEND_TIMEOUT` and the lease lasts longer than that, so no two
//! senders — in one process or several — ever send the same message. A delivery is recorded
//! even if the database is away for a while (a restart): the sender keeps trying. The only
//! window for a duplicate is a crash between the server's acceptance and that record (or a
//! database away for longer than `RECORD_SENT_FOR`), and then the stable Message-ID lets mail
//! clients fold the two. A stop (SIGTERM) is not a crash: a sender claims nothing more once
//! the process is stopping, and the stop waits for the message in hand to be recorded.
//! `mail.connections` senders drain the outbox side by side, each taking the next message as
//! soon as it is done with one, until nothing is due.

use crate::app::Background;
use crate::config::{Config, MailTransportKind, SmtpSecurity};
use crate::db::{Db, DbError};
use crate::store;
use crate::store::outbox::{AfterFailure, OutboxMessage};
use chrono::Duration as ChronoDuration;
use chrono::{NaiveDateTime, SubsecRound};
use keydesk_core::outgoing::EmailKind;
use keydesk_core::retry::backoff_after;
use keydesk_core::Clock;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

/// lettre's limit on each SMTP command.
const SMTP_TIMEOUT: Duration = Duration::from_secs(60);
/// The limit on one whole send (connecting, the envelope, the data).
const SEND_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a claim lasts: longer than a whole send, with room for recording its outcome,
/// so a claim never runs out while its sender may still be sending.
const LEASE: ChronoDuration = ChronoDuration::minutes(3);
/// How long a sender keeps trying to record a delivery while the database is away (a
/// restart, a failover). A send (≤ `SEND_TIMEOUT`) and this together stay inside `LEASE`, so
/// no other sender takes the message up again while its delivery can still be recorded.
const RECORD_SENT_FOR: Duration = Duration::from_secs(60);
/// The first pause between those tries; it doubles up to `RECORD_SENT_PAUSE_MAX`.
const RECORD_SENT_PAUSE: Duration = Duration::from_millis(250);
const RECORD_SENT_PAUSE_MAX: Duration = Duration::from_secs(5);

pub enum Transport {
    /// One `.eml` file per message, named by its outbox id so a retry overwrites, never adds.
    File(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    /// Failed this time, to be tried again.
    pub failed: usize,
    /// Found undeliverable as they stand, and given up.
    pub given_up: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("building the message: {0}")]
    Build(String),
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("writing the mail folder: {0}")]
    File(#[from] std::io::Error),
}

impl SendError {
    /// Whether trying again can never succeed: the message itself cannot be written (an
    /// address the mail library refuses, which Keydesk's own, more lenient parser took in).
    /// What a server answers is never taken as final, even a 5xx: that may be Keydesk's own
    /// setup (relaying denied, a wrong login), and mail is delayed, never dropped, until the
    /// operator fixes it.
    fn is_for_good(&self) -> bool {
        matches!(self, SendError::Build(_))
    }
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
                // One pooled connection per sender, kept open between messages.
                let pool = PoolConfig::new().max_size(mail.connections);
                let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(mail.host.as_str())
                    .port(mail.port)
                    .timeout(Some(SMTP_TIMEOUT))
                    .pool_config(pool);
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
                let path = dir.join(format!("{:08}.eml", row.id));
                let partial = dir.join(format!(".{:08}.eml.partial", row.id));
                let (dir, formatted) = (dir.clone(), message.formatted());
                // Private (a reset link is a password), written then renamed: a reader never
                // sees half a message; and on disk before it is recorded as sent.
                rocket::tokio::task::spawn_blocking(move || {
                    crate::private_files::create_private_dir(&dir)?;
                    crate::private_files::write_private_file(&partial, &formatted)?;
                    std::fs::File::open(&partial)?.sync_all()?;
                    std::fs::rename(&partial, &path)?;
                    std::fs::File::open(&dir)?.sync_all()
                })
                .await
                .map_err(std::io::Error::other)??;
                Ok(())
            }
            Transport::Smtp(smtp) => match rocket::tokio::time::timeout(SEND_TIMEOUT, smtp.send(message)).await {
                Ok(sent) => sent.map(drop).map_err(SendError::from),
                Err(_) => Err(SendError::Timeout(SEND_TIMEOUT)),
            },
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

/// One pass: `mail.connections` senders side by side, each claiming and sending the next due
/// message until none is left, recording each result.
pub async fn deliver_due(
    db: &Db,
    config: &Config,
    clock: &dyn Clock,
    transport: &Transport,
) -> Result<DeliveryReport, DbError> {
    deliver(db, config, clock, transport, &Background::default()).await
}

/// [`deliver_due`], each message's claim, send and record held in `background` (a shutdown
/// waits for them), and none claimed once it is stopping.
async fn deliver(
    db: &Db,
    config: &Config,
    clock: &dyn Clock,
    transport: &Transport,
    background: &Background,
) -> Result<DeliveryReport, DbError> {
    let from: Mailbox = config.mail.from.parse().map_err(|e| DbError::Task(format!("mail.from: {e}")))?;
    let sender = Sender { db, config, clock, transport, from: &from, background };
    let lanes = (0..config.mail.connections.max(1)).map(|_| sender.drain());
    let mut report = DeliveryReport::default();
    for lane in rocket::futures::future::join_all(lanes).await {
        let lane = lane?;
        report.sent += lane.sent;
        report.failed += lane.failed;
        report.given_up += lane.given_up;
    }
    Ok(report)
}

/// What one sender needs; several share it.
struct Sender<'a> {
    db: &'a Db,
    config: &'a Config,
    clock: &'a dyn Clock,
    transport: &'a Transport,
    from: &'a Mailbox,
    background: &'a Background,
}

impl Sender<'_> {
    /// Claims and sends one message after another until nothing is due, or the process stops.
    async fn drain(&self) -> Result<DeliveryReport, DbError> {
        let mut report = DeliveryReport::default();
        loop {
            // Asked again once held: a stop that came between the two is seen here, and one
            // that comes after waits for this message.
            let next = self.background.hold(async {
                match self.background.stopping() {
                    true => Ok(false),
                    false => self.deliver_next(&mut report).await,
                }
            });
            if !next.await? {
                return Ok(report);
            }
        }
    }

    /// Claims the next due message, sends it and records what became of it; false when none
    /// is due.
    async fn deliver_next(&self, report: &mut DeliveryReport) -> Result<bool, DbError> {
        let now = stored_now(self.clock);
        let lease = now + LEASE;
        let claimed = self.db.run(move |conn| Ok::<_, DbError>(store::outbox::claim_next(conn, now, lease)?)).await?;
        let Some(row) = claimed else { return Ok(false) };
        let id = row.id;
        match self.send(&row).await {
            Ok(()) => {
                report.sent += 1;
                self.record_sent(id, row.kind).await?;
            }
            Err(error) => {
                let now = stored_now(self.clock);
                // The recipient address is personal data and stays out of the log, also where
                // the server's answer quotes it.
                let said = crate::logs::without_addresses(&error.to_string()).into_owned();
                let after = if error.is_for_good() {
                    report.given_up += 1;
                    tracing::warn!("email {id} ({}) can never be sent as it stands, given up: {said}", row.kind);
                    AfterFailure::GiveUp(now)
                } else {
                    report.failed += 1;
                    let attempt = u32::try_from(row.attempts + 1).unwrap_or(u32::MAX);
                    let wait = backoff_after(attempt, self.config.mail.max_backoff);
                    tracing::warn!("email {id} ({}) not delivered, retrying in {}s: {said}", row.kind, wait.as_secs());
                    AfterFailure::RetryAt(now + ChronoDuration::from_std(wait).unwrap_or(LEASE))
                };
                let error = error.to_string();
                self.db
                    .run(move |conn| Ok::<_, DbError>(store::outbox::mark_failed(conn, id, lease, after, &error)?))
                    .await?;
            }
        }
        Ok(true)
    }

    /// Records that message `id` went out. It has left, so giving up at the first database
    /// error would have it sent again once its claim runs out: the record is retried for up to
    /// `RECORD_SENT_FOR` (real time, whatever the clock says) before the error is returned.
    async fn record_sent(&self, id: i64, kind: EmailKind) -> Result<(), DbError> {
        let deadline = std::time::Instant::now() + RECORD_SENT_FOR;
        let mut pause = RECORD_SENT_PAUSE;
        loop {
            let sent_at = stored_now(self.clock);
            let recorded =
                self.db.run(move |conn| Ok::<_, DbError>(store::outbox::mark_sent(conn, id, kind, sent_at)?)).await;
            match recorded {
                Err(error) if std::time::Instant::now() + pause < deadline => {
                    tracing::warn!("email {id} was delivered but not yet recorded, trying again: {error}");
                    rocket::tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(RECORD_SENT_PAUSE_MAX);
                }
                recorded => return recorded,
            }
        }
    }

    async fn send(&self, row: &OutboxMessage) -> Result<(), SendError> {
        let message = build_message(self.from, row)?;
        self.transport.send(row, message).await
    }
}

/// Runs `deliver_due` until the process ends; `wake` lets a request nudge it at once.
pub async fn run_forever(
    db: Db,
    config: Config,
    clock: std::sync::Arc<dyn Clock>,
    transport: Transport,
    wake: std::sync::Arc<rocket::tokio::sync::Notify>,
    background: std::sync::Arc<Background>,
) {
    while !background.stopping() {
        match deliver(&db, &config, clock.as_ref(), &transport, &background).await {
            Ok(report) if report.sent + report.failed + report.given_up > 0 => {
                tracing::info!("outbox: {} sent, {} to retry, {} given up", report.sent, report.failed, report.given_up)
            }
            Ok(_) => {}
            Err(error) => tracing::error!("outbox: {error}"),
        }
        let _ = rocket::tokio::time::timeout(config.mail.poll_interval, wake.notified()).await;
    }
}
