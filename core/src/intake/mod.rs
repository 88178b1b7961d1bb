//! Mail intake: turns the raw bytes of one inbound email into a [`ParsedMessage`] a
//! ticket can be made from — who sent it, what they wrote (without the quoted history),
//! the name, registered email and description the help-centre articles ask for, and
//! whether the message was sent by a machine and must not be answered.
//!
//! It owns parsing only. Fetching mail (IMAP, Maildir), storing tickets and deciding what to
//! do with an automated message belong to the adapters around the core; nothing here does
//! I/O, and every rule is a pure function of the bytes and the addresses Keydesk sends from.
//! The sender's claims (From, Date, a name in the body) are reported as claims: identity is
//! verified elsewhere, which is why the Authentication-Results headers are passed through.

mod addresses;
mod answer;
mod attachments;
mod automated;
mod automated_words;
mod bounce;
mod charset;
mod fields;
mod forwarded;
mod framing;
mod html;
mod ledger;
mod machine_senders;
mod mail_words;
mod mailbox;
mod mentions;
mod message;
pub mod message_id;
mod names;
mod quoting;
pub mod source_key;
mod subject;
mod summary;

pub use answer::acknowledgement_withheld;
pub use attachments::{safe_filename, Attachment, AttachmentLimits};
pub use automated::{AutomatedReason, MachineClass};
pub use charset::header_block_len;
pub use fields::{extract_fields, extract_fields_ignoring};
pub use forwarded::{find_forwarded, find_forwarded_with_subject, Forwarded};
pub use html::{html_to_text, nesting_depth, MAX_NESTING, MAX_RENDERED_HTML};
pub use ledger::{LedgerOutcome, UnknownLedgerOutcome};
pub use machine_senders::MachineSenders;
pub use mailbox::imap_mailbox_identity;
pub use mentions::Mentions;
pub use message::parse_message;
pub use names::normalise_full_name;
pub use quoting::strip_quotes_and_signature;
pub use subject::subject_tag;
pub use summary::{read_headers, HeaderSummary};

use chrono::{DateTime, Utc};

/// One address from a header, with its display name as the sender wrote it (RFC 2047
/// decoded) and the address in canonical lower-case form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

crate::stored_as_text! {
    /// Where an extracted field came from, strongest first: staff trust a labelled line more
    /// than a guess from prose, and both more than the From header, which may be a shared inbox.
    pub enum FieldSource / UnknownFieldSource ("field source") {
        /// A labelled line such as "Full name: Jane Doe".
        BodyLabel = "body_label", "a labelled line";
        /// A sentence such as "my name is Jane Doe".
        Prose = "prose", "the wording of the message";
        /// The From header's display name or address.
        Header = "header", "the From header";
    }
}

/// A value found in a message and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub value: String,
    pub source: FieldSource,
}

impl Extracted {
    fn new(value: impl Into<String>, source: FieldSource) -> Self {
        Extracted { value: value.into(), source }
    }
}

/// The three things the help centre asks a locked-out user to send. Each is optional:
/// a ticket is still opened without them, and staff ask for what is missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFields {
    pub full_name: Option<Extracted>,
    /// Canonical form (see [`crate::EmailAddress`]).
    pub registered_email: Option<Extracted>,
    pub description: Option<Extracted>,
}

/// What intake is told about its surroundings: the addresses Keydesk sends from (mail from
/// them is a loop, and they are never a user's registered email), the sender addresses no
/// person reads, and how many and how large attachments may be.
#[derive(Debug, Clone, Default)]
pub struct IntakeRules {
    pub own_addresses: Vec<crate::EmailAddress>,
    pub machine_senders: MachineSenders,
    pub attachments: AttachmentLimits,
}

/// Everything intake needs from one email.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedMessage {
    /// Without angle brackets.
    pub message_id: Option<String>,
    /// Without angle brackets, in header order.
    pub in_reply_to: Vec<String>,
    /// Without angle brackets, in header order (oldest first by convention).
    pub references: Vec<String>,
    /// RFC 2047 decoded; empty when the header is missing.
    pub subject: String,
    /// None when no address could be read from the From header (see `sender_problem`).
    pub from: Option<Mailbox>,
    /// Why there is no one to answer, when `from` is None.
    pub sender_problem: Option<ParseError>,
    /// The sender's Date header: a claim, for display only, never for ordering or SLAs.
    pub sender_date: Option<DateTime<Utc>>,
    /// The whole readable body, decoded: the text/plain part, or the HTML part as text.
    pub body_text: String,
    /// `body_text` without quoted replies and signatures: what the sender wrote this time.
    pub reply_text: String,
    pub has_html: bool,
    /// Set when a machine sent the message; Keydesk must not reply to it.
    pub automated: Option<AutomatedReason>,
    /// For a bounce: what went wrong, in words ("mailbox full (5.2.2)").
    pub bounce: Option<String>,
    /// From a "[#123]" tag in the subject: the ticket this message answers.
    pub ticket_number: Option<i64>,
    /// Every Message-ID and ticket tag mentioned anywhere, attached originals included.
    pub mentions: Mentions,
    /// Raw values of every Authentication-Results header, topmost (newest) first.
    pub authentication_results: Vec<String>,
    /// The receiving server's spam verdict header, when it says spam ("X-Spam-Flag: YES").
    pub marked_spam: Option<String>,
    pub fields: RequestFields,
    pub attachments: Vec<Attachment>,
}

impl ParsedMessage {
    /// Every text without NUL characters, which PostgreSQL refuses in text and no person
    /// types (the raw message keeps them, byte-exact).
    fn storable(mut self) -> Self {
        let clean = |text: &mut String| {
            if text.contains('\0') {
                *text = text.replace('\0', "");
            }
        };
        let clean_mailbox = |mailbox: &mut Mailbox| {
            clean(&mut mailbox.address);
            if let Some(name) = &mut mailbox.name {
                clean(name);
            }
        };
        self.message_id.iter_mut().chain(&mut self.in_reply_to).chain(&mut self.references).for_each(clean);
        self.mentions.message_ids.iter_mut().for_each(clean);
        [&mut self.subject, &mut self.body_text, &mut self.reply_text].into_iter().for_each(clean);
        self.bounce.iter_mut().chain(&mut self.authentication_results).for_each(clean);
        if let Some(from) = &mut self.from {
            clean_mailbox(from);
        }
        if let Some(ParseError::InvalidSender(raw)) = &mut self.sender_problem {
            clean(raw);
        }
        let fields = &mut self.fields;
        for field in
            [&mut fields.full_name, &mut fields.registered_email, &mut fields.description].into_iter().flatten()
        {
            clean(&mut field.value);
        }
        for attachment in &mut self.attachments {
            clean(&mut attachment.filename);
            clean(&mut attachment.content_type);
        }
        self
    }

    /// The machine class, if a machine sent it.
    pub fn machine_class(&self) -> Option<MachineClass> {
        self.automated.as_ref().map(AutomatedReason::class)
    }

    /// The Message-IDs it answers, as intake looks them up to thread it: In-Reply-To and
    /// the newest [`MAX_REFERENCES_LOOKED_UP`] of References (a thread's newest messages
    /// are listed last). The sender can list thousands, and each one looked up is a
    /// parameter of the statement that looks them up.
    pub fn answered_message_ids(&self) -> impl Iterator<Item = &str> + Clone {
        let newest = self.references.len().saturating_sub(MAX_REFERENCES_LOOKED_UP);
        self.in_reply_to.iter().take(MAX_REFERENCES_LOOKED_UP).chain(&self.references[newest..]).map(String::as_str)
    }
}

/// How many of a message's References intake looks up (see
/// [`ParsedMessage::answered_message_ids`]).
pub const MAX_REFERENCES_LOOKED_UP: usize = 50;

/// Why a message could not become a ticket; the text is shown in the quarantine list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not an email: no message headers could be read")]
    NotAnEmail,
    #[error("the MIME parser failed on this message's structure")]
    ParserFailed,
    #[error("the message has no From address, so there is no one to answer")]
    NoSender,
    #[error("the From header {0:?} does not contain a usable email address")]
    InvalidSender(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_sources_serialise_as_their_snake_case_names() {
        for source in [FieldSource::BodyLabel, FieldSource::Prose, FieldSource::Header] {
            let json = serde_json::to_string(&source).unwrap();
            assert_eq!(json, format!("\"{}\"", source.as_str()));
        }
        assert_eq!(FieldSource::BodyLabel.as_str(), "body_label");
    }
}
