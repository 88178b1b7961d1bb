//! Outgoing mail. Each email is a typed struct (`emails`) rendered from templates embedded at
//! compile time (subject, plain text and HTML per message) and queued in the outbox inside
//! the caller's transaction; `sender` delivers them in the background.

pub mod emails;
pub mod sender;
mod templates;

pub use emails::Email;
pub use templates::{MailTemplates, RenderedEmail};

use crate::config::Config;
use crate::db::DbConnection;
use crate::ids::TicketNumber;
use crate::store::outbox::{self, NewOutboxMessage};
use chrono::NaiveDateTime;
pub use keydesk_core::outgoing::EmailKind;
use keydesk_core::PlainToken;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("email template {0}: {1}")]
    Template(&'static str, String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Queues emails in the caller's transaction, dated `now`.
pub struct Outbox<'a> {
    pub config: &'a Config,
    pub templates: &'a MailTemplates,
    pub now: NaiveDateTime,
}

/// What was queued for a ticket: the thread records it.
pub struct QueuedReply {
    pub message_id: String,
    pub subject: String,
    pub text: String,
}

impl Outbox<'_> {
    /// Renders an email and writes it to the outbox; its outbox id.
    pub fn queue<E: Email>(&self, conn: &mut DbConnection, to: &str, email: &E) -> Result<i64, MailError> {
        let message_id = new_message_id(E::KIND.as_str(), &self.config.mail.from);
        self.enqueue(conn, to, email, &message_id, None).map(|(id, _)| id)
    }

    /// Queues an email about a ticket: its Message-ID carries the ticket number and it
    /// answers `in_reply_to` (without angle brackets), so the user's mail client threads it.
    pub fn queue_ticket_reply<E: Email>(
        &self,
        conn: &mut DbConnection,
        to: &str,
        email: &E,
        ticket: TicketNumber,
        in_reply_to: &str,
    ) -> Result<QueuedReply, MailError> {
        let reply = self.render_ticket_reply(to, email, ticket, in_reply_to)?;
        self.queue_replies(conn, std::slice::from_ref(&reply))?;
        Ok(reply.queued())
    }

    /// [`Outbox::queue_ticket_reply`]'s email, rendered but not yet queued, so that a batch
    /// of them is queued in one statement ([`Outbox::queue_replies`]).
    pub fn render_ticket_reply<E: Email>(
        &self,
        to: &str,
        email: &E,
        ticket: TicketNumber,
        in_reply_to: &str,
    ) -> Result<TicketReply, MailError> {
        Ok(TicketReply {
            kind: E::KIND,
            to: to.to_owned(),
            message_id: new_message_id(&format!("ticket-{ticket}"), &self.config.mail.from),
            parent: format!("<{in_reply_to}>"),
            rendered: self.templates.render(email, &self.config.support_email, &self.config.public_url)?,
        })
    }

    /// Queues rendered ticket replies in one statement.
    pub fn queue_replies(&self, conn: &mut DbConnection, replies: &[TicketReply]) -> Result<(), MailError> {
        let rows: Vec<NewOutboxMessage> = replies
            .iter()
            .map(|reply| NewOutboxMessage {
                kind: reply.kind,
                to_address: &reply.to,
                subject: &reply.rendered.subject,
                text_body: &reply.rendered.text,
                html_body: &reply.rendered.html,
                message_id: &reply.message_id,
                in_reply_to: Some(&reply.parent),
                auto_submitted: reply.kind.auto_submitted(),
            })
            .collect();
        outbox::enqueue_many(conn, &rows, self.now)?;
        Ok(())
    }

    fn enqueue<E: Email>(
        &self,
        conn: &mut DbConnection,
        to: &str,
        email: &E,
        message_id: &str,
        in_reply_to: Option<&str>,
    ) -> Result<(i64, RenderedEmail), MailError> {
        let rendered = self.templates.render(email, &self.config.support_email, &self.config.public_url)?;
        let id = outbox::enqueue(
            conn,
            NewOutboxMessage {
                kind: E::KIND,
                to_address: to,
                subject: &rendered.subject,
                text_body: &rendered.text,
                html_body: &rendered.html,
                message_id,
                in_reply_to,
                auto_submitted: E::KIND.auto_submitted(),
            },
            self.now,
        )?;
        Ok((id, rendered))
    }
}

/// A rendered email about a ticket, to be queued.
pub struct TicketReply {
    kind: EmailKind,
    to: String,
    /// In angle brackets, as the header carries it.
    message_id: String,
    parent: String,
    rendered: RenderedEmail,
}

impl TicketReply {
    /// What the ticket's thread records of it.
    pub fn queued(&self) -> QueuedReply {
        QueuedReply {
            message_id: self.message_id.trim_matches(['<', '>']).to_owned(),
            subject: self.rendered.subject.clone(),
            text: self.rendered.text.clone(),
        }
    }
}

/// A globally unique Message-ID in Keydesk's own domain.
fn new_message_id(kind: &str, from: &str) -> String {
    let domain = from
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>').trim())
        .filter(|d| !d.is_empty())
        .unwrap_or("keydesk.localhost");
    let unique = PlainToken::generate();
    format!("<{kind}.{}@{domain}>", &unique.expose()[..24])
}
