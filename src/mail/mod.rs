//! Outgoing mail. Emails are rendered from templates embedded at compile time (subject,
//! plain text and HTML per message) and queued in the outbox inside the caller's
//! transaction; `sender` delivers them in the background.

pub mod sender;
mod templates;

pub use templates::{MailTemplates, RenderedEmail};

use crate::config::Config;
use crate::db::DbConnection;
use crate::store::outbox::{self, NewOutboxMessage};
use keydesk_core::PlainToken;

/// Which email, named as its template is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailKind {
    AccountLocked,
    AccountLockedAdmin,
    AccountUnlocked,
    PasswordReset,
    UnlockPin,
    TicketAcknowledgement,
    /// An agent's own words to the user: a person wrote it, so no Auto-Submitted.
    TicketReply,
    MailboxChallenge,
}

impl EmailKind {
    pub fn template(self) -> &'static str {
        match self {
            EmailKind::AccountLocked => "account_locked",
            EmailKind::AccountLockedAdmin => "account_locked_admin",
            EmailKind::AccountUnlocked => "account_unlocked",
            EmailKind::PasswordReset => "password_reset",
            EmailKind::UnlockPin => "unlock_pin",
            EmailKind::TicketAcknowledgement => "ticket_acknowledgement",
            EmailKind::TicketReply => "ticket_reply",
            EmailKind::MailboxChallenge => "mailbox_challenge",
        }
    }

    /// RFC 3834: every message Keydesk sends on its own carries Auto-Submitted, so that
    /// auto-responders do not answer it and loops cannot start.
    fn auto_submitted(self) -> Option<&'static str> {
        match self {
            EmailKind::TicketAcknowledgement => Some("auto-replied"),
            EmailKind::TicketReply => None,
            _ => Some("auto-generated"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("email template {0}: {1}")]
    Template(&'static str, String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Renders an email and writes it to the outbox, in the caller's transaction.
pub fn queue(
    conn: &mut DbConnection,
    config: &Config,
    templates: &MailTemplates,
    kind: EmailKind,
    to: &str,
    context: &tera::Context,
) -> Result<i64, MailError> {
    let message_id = new_message_id(kind.template(), &config.mail.from);
    enqueue_rendered(conn, config, templates, kind, to, context, &message_id, None).map(|(id, _)| id)
}

/// What was queued for a ticket: the thread records it.
pub struct QueuedReply {
    pub message_id: String,
    pub subject: String,
    pub text: String,
}

/// Queues an email about a ticket: its Message-ID carries the ticket number and it answers
/// `in_reply_to` (without angle brackets), so the user's mail client threads it.
#[allow(clippy::too_many_arguments)]
pub fn queue_ticket_reply(
    conn: &mut DbConnection,
    config: &Config,
    templates: &MailTemplates,
    kind: EmailKind,
    to: &str,
    context: &tera::Context,
    ticket_number: i64,
    in_reply_to: &str,
) -> Result<QueuedReply, MailError> {
    let message_id = new_message_id(&format!("ticket-{ticket_number}"), &config.mail.from);
    let parent = format!("<{in_reply_to}>");
    let (_, rendered) = enqueue_rendered(conn, config, templates, kind, to, context, &message_id, Some(&parent))?;
    Ok(QueuedReply {
        message_id: message_id.trim_matches(['<', '>']).to_owned(),
        subject: rendered.subject,
        text: rendered.text,
    })
}

#[allow(clippy::too_many_arguments)]
fn enqueue_rendered(
    conn: &mut DbConnection,
    config: &Config,
    templates: &MailTemplates,
    kind: EmailKind,
    to: &str,
    context: &tera::Context,
    message_id: &str,
    in_reply_to: Option<&str>,
) -> Result<(i64, RenderedEmail), MailError> {
    let mut context = context.clone();
    context.insert("support_email", &config.support_email);
    context.insert("public_url", &config.public_url);
    let rendered = templates.render(kind.template(), &context)?;
    let id = outbox::enqueue(
        conn,
        NewOutboxMessage {
            kind: kind.template(),
            to_address: to,
            subject: &rendered.subject,
            text_body: &rendered.text,
            html_body: &rendered.html,
            message_id,
            in_reply_to,
            auto_submitted: kind.auto_submitted(),
        },
    )?;
    Ok((id, rendered))
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
