//! The intake transaction: ledger, then quarantine, ignore, thread or open a ticket.

use crate::accounts::{AccountError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::mail::{self, EmailKind};
use crate::store;
use crate::store::inbound::{self, NewInbound};
use crate::store::tickets::{self, NewTicket, NewTicketMessage, Ticket};
use chrono::NaiveDateTime;
use keydesk_core::intake::{parse_message, Extracted, ParsedMessage};
use keydesk_core::EmailAddress;
use keydesk_core::TicketEventKind;
use sha2::{Digest, Sha256};

/// A message as a source hands it over.
pub struct RawMessage {
    /// Which mailbox it came from, e.g. `maildir:/var/intake` or `imap:host/INBOX`.
    pub source: String,
    /// Its identity within that source: the Maildir unique name, or `UIDVALIDITY:UID`.
    pub source_key: String,
    /// When the server received it (never the sender's Date header, which anyone can set).
    pub arrived_at: NaiveDateTime,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntakeOutcome {
    NewTicket(i64),
    Threaded(i64),
    /// Auto-reply, bounce, list mail or our own: recorded, no ticket, no reply.
    Ignored(String),
    /// Kept raw with the reason, for staff to re-process or discard.
    Quarantined(String),
    /// Taken in before (same source key, or the same Message-ID with the same bytes).
    Duplicate,
}

impl IntakeOutcome {
    fn ledger_name(&self) -> &'static str {
        match self {
            IntakeOutcome::NewTicket(_) => "ticket",
            IntakeOutcome::Threaded(_) => "threaded",
            IntakeOutcome::Ignored(_) => "ignored",
            IntakeOutcome::Quarantined(_) => "quarantined",
            IntakeOutcome::Duplicate => "duplicate",
        }
    }
}

pub fn take_in(conn: &mut DbConnection, services: &Services, raw: &RawMessage) -> Result<IntakeOutcome, AccountError> {
    write_transaction(conn, |conn| {
        if inbound::seen_at_source(conn, &raw.source, &raw.source_key)? {
            return Ok(IntakeOutcome::Duplicate);
        }
        let content_hash = hex::encode(Sha256::digest(&raw.bytes));
        let decision = decide(conn, services, raw, &content_hash)?;
        let (message_id, outcome, reason) = match &decision {
            Decision::Quarantine(reason) => (None, IntakeOutcome::Quarantined(reason.clone()), reason.clone()),
            Decision::Duplicate(message_id) => (Some(message_id.clone()), IntakeOutcome::Duplicate, String::new()),
            Decision::Ignore(parsed, reason) => {
                (parsed.message_id.clone(), IntakeOutcome::Ignored(reason.clone()), reason.clone())
            }
            Decision::Accept(parsed) => (parsed.message_id.clone(), IntakeOutcome::NewTicket(0), String::new()),
        };
        let ledger_id = inbound::insert(
            conn,
            NewInbound {
                source: &raw.source,
                source_key: &raw.source_key,
                message_id: message_id.as_deref(),
                content_hash: &content_hash,
                received_at: raw.arrived_at,
                raw: &raw.bytes,
                outcome: outcome.ledger_name(),
                reason: &reason,
                ticket_id: None,
            },
        )?;
        match decision {
            Decision::Accept(parsed) => {
                let outcome = file_as_ticket(conn, services, raw, &parsed, ledger_id)?;
                let ticket = match outcome {
                    IntakeOutcome::NewTicket(id) | IntakeOutcome::Threaded(id) => Some(id),
                    _ => None,
                };
                inbound::set_outcome(conn, ledger_id, outcome.ledger_name(), "", ticket)?;
                Ok(outcome)
            }
            _ => Ok(outcome),
        }
    })
}

enum Decision {
    Quarantine(String),
    Duplicate(String),
    Ignore(Box<ParsedMessage>, String),
    Accept(Box<ParsedMessage>),
}

fn decide(
    conn: &mut DbConnection,
    services: &Services,
    raw: &RawMessage,
    content_hash: &str,
) -> Result<Decision, AccountError> {
    let limit = services.config.intake.max_message_bytes;
    if raw.bytes.len() > limit {
        return Ok(Decision::Quarantine(format!(
            "larger than intake.max_message_bytes ({} > {limit} bytes)",
            raw.bytes.len()
        )));
    }
    let parsed = match parse_message(&raw.bytes, &services.config.own_addresses()) {
        Ok(parsed) => parsed,
        Err(error) => return Ok(Decision::Quarantine(format!("cannot be parsed: {error}"))),
    };
    if let Some(message_id) = &parsed.message_id {
        // The same message delivered twice. A *different* message reusing a Message-ID
        // has other bytes and is taken in.
        if inbound::same_message_taken_in(conn, message_id, content_hash)? {
            return Ok(Decision::Duplicate(message_id.clone()));
        }
    }
    if let Some(reason) = &parsed.automated {
        let reason = reason.describe();
        return Ok(Decision::Ignore(Box::new(parsed), reason));
    }
    Ok(Decision::Accept(Box::new(parsed)))
}

/// Threads the message onto its ticket, or opens one.
fn file_as_ticket(
    conn: &mut DbConnection,
    services: &Services,
    raw: &RawMessage,
    parsed: &ParsedMessage,
    ledger_id: i64,
) -> Result<IntakeOutcome, AccountError> {
    let sender = parsed.from.as_ref().map(|m| m.address.clone()).unwrap_or_default();
    let account = linked_account(conn, parsed)?;
    let existing = match thread_target(conn, parsed)? {
        Some(id) => tickets::find(conn, id)?,
        None => match &account {
            // One open ticket per lock: a user who writes three times has one ticket.
            Some(user) => tickets::open_for_account(conn, user.id)?,
            None => None,
        },
    };
    let message_id =
        parsed.message_id.clone().unwrap_or_else(|| format!("keydesk-inbound-{ledger_id}@keydesk.invalid"));
    if let Some(ticket) = existing {
        add_inbound_message(conn, &ticket, parsed, &sender, &message_id, raw.arrived_at, ledger_id)?;
        store::ticket_events::record(conn, ticket.id, None, TicketEventKind::UserReplied, &format!("from {sender}"))?;
        if ticket.is_resolved() {
            tickets::set_status(conn, ticket.id, "open", store::now())?;
            store::ticket_events::record(conn, ticket.id, None, TicketEventKind::Reopened, "the user wrote again")?;
        } else if ticket.status == "waiting_on_user" {
            tickets::set_status(conn, ticket.id, "open", store::now())?;
        }
        return Ok(IntakeOutcome::Threaded(ticket.id));
    }
    let field = |f: &Option<Extracted>| f.as_ref().map(|e| (e.value.clone(), e.source.as_str().to_owned()));
    let (full_name, registered_email, description) =
        (field(&parsed.fields.full_name), field(&parsed.fields.registered_email), field(&parsed.fields.description));
    let pair = |f: &Option<(String, String)>| f.as_ref().map(|(v, s)| (v.clone(), s.clone()));
    let (full_name, registered_email, description) = (pair(&full_name), pair(&registered_email), pair(&description));
    let requester_id = requester(conn, account.as_ref(), &sender)?.map(|u| u.id);
    let ticket = tickets::insert(
        conn,
        NewTicket {
            received_at: raw.arrived_at,
            sender: &sender,
            sender_name: parsed.from.as_ref().and_then(|m| m.name.as_deref()),
            subject: &parsed.subject,
            full_name: full_name.as_ref().map(|(v, s)| (v.as_str(), s.as_str())),
            registered_email: registered_email.as_ref().map(|(v, s)| (v.as_str(), s.as_str())),
            description: description.as_ref().map(|(v, s)| (v.as_str(), s.as_str())),
            account_user_id: account.as_ref().map(|u| u.id),
            requester_user_id: requester_id,
        },
    )?;
    add_inbound_message(conn, &ticket, parsed, &sender, &message_id, raw.arrived_at, ledger_id)?;
    store::ticket_events::record(conn, ticket.id, None, TicketEventKind::Received, &format!("from {sender}"))?;
    if let Some(why) = suspected_spoof(services, parsed, account.as_ref()) {
        store::ticket_events::record(conn, ticket.id, None, TicketEventKind::SpoofSuspected, &why)?;
    }
    acknowledge(conn, services, &ticket, parsed, &sender, &message_id)?;
    store::ticket_events::record(conn, ticket.id, None, TicketEventKind::Acknowledged, "automatic reply queued")?;
    Ok(IntakeOutcome::NewTicket(ticket.id))
}

fn add_inbound_message(
    conn: &mut DbConnection,
    ticket: &Ticket,
    parsed: &ParsedMessage,
    sender: &str,
    message_id: &str,
    at: NaiveDateTime,
    ledger_id: i64,
) -> Result<(), AccountError> {
    tickets::add_message(
        conn,
        NewTicketMessage {
            ticket_id: ticket.id,
            direction: "in",
            message_id,
            at,
            sender,
            subject: &parsed.subject,
            body_text: &parsed.body_text,
            inbound_message_id: Some(ledger_id),
        },
    )?;
    Ok(())
}

/// The ticket a reply belongs to: a `[#N]` tag naming an existing ticket, or any
/// Message-ID it answers that Keydesk sent or received for a ticket.
fn thread_target(conn: &mut DbConnection, parsed: &ParsedMessage) -> Result<Option<i64>, AccountError> {
    if let Some(number) = parsed.ticket_number {
        if tickets::find(conn, number)?.is_some() {
            return Ok(Some(number));
        }
    }
    let answered: Vec<String> = parsed.in_reply_to.iter().chain(parsed.references.iter()).cloned().collect();
    Ok(tickets::by_message_id(conn, &answered)?)
}

/// Recorded once, at intake, so reports count suspected spoofs from the history.
fn suspected_spoof(
    services: &Services,
    parsed: &ParsedMessage,
    account: Option<&store::users::User>,
) -> Option<String> {
    let sender = parsed.from.as_ref().and_then(|m| EmailAddress::parse(&m.address).ok());
    let account_email = account.and_then(|a| EmailAddress::parse(&a.email).ok());
    keydesk_core::verification::spoof_suspected(
        sender.as_ref(),
        account_email.as_ref(),
        &parsed.authentication_results,
        &services.config.verification.trusted_authserv_id,
    )
}

/// The account the ticket is about: the stated registered email, else the sender.
fn linked_account(conn: &mut DbConnection, parsed: &ParsedMessage) -> Result<Option<store::users::User>, AccountError> {
    let candidates = [
        parsed.fields.registered_email.as_ref().map(|e| e.value.clone()),
        parsed.from.as_ref().map(|m| m.address.clone()),
    ];
    for candidate in candidates.into_iter().flatten() {
        if let Ok(email) = EmailAddress::parse(&candidate) {
            if let Some(user) = store::users::find_by_email(conn, &email)? {
                return Ok(Some(user));
            }
        }
    }
    Ok(None)
}

/// The second seed's special case: when the owner is unavailable, an admin (or another
/// owner) of the employee's organisation writes on the employee's behalf.
fn requester(
    conn: &mut DbConnection,
    account: Option<&store::users::User>,
    sender: &str,
) -> Result<Option<store::users::User>, AccountError> {
    let (Some(account), Ok(sender)) = (account, EmailAddress::parse(sender)) else { return Ok(None) };
    let Some(writer) = store::users::find_by_email(conn, &sender)? else { return Ok(None) };
    let same_organisation = writer.organisation_id.is_some() && writer.organisation_id == account.organisation_id;
    Ok((writer.id != account.id && same_organisation && writer.role().may_manage_users()).then_some(writer))
}

/// The automatic reply to a new ticket: its number in the subject, threaded to the
/// user's message, recorded in the ticket's thread.
fn acknowledge(
    conn: &mut DbConnection,
    services: &Services,
    ticket: &Ticket,
    parsed: &ParsedMessage,
    to: &str,
    answering: &str,
) -> Result<(), AccountError> {
    let mut context = tera::Context::new();
    context.insert("number", &ticket.id);
    context.insert("subject", &parsed.subject);
    context.insert("full_name", &ticket.full_name);
    context.insert("missing_name", &ticket.full_name.is_none());
    context.insert("missing_email", &ticket.registered_email.is_none());
    // The promise about when: the support hours, and the next opening when closed now.
    let calendar = &services.calendar;
    let now = chrono::Utc::now();
    context.insert("support_hours", &calendar.describe_hours());
    let next_opening = if calendar.is_open(now) { None } else { calendar.next_opening(now) };
    let zone = calendar.timezone();
    context.insert(
        "next_opening",
        &next_opening.map(|at| format!("{} ({})", at.with_timezone(&zone).format("%A %-d %B at %H:%M"), zone.name())),
    );
    let queued = mail::queue_ticket_reply(
        conn,
        &services.config,
        &services.mail,
        EmailKind::TicketAcknowledgement,
        to,
        &context,
        ticket.id,
        answering,
    )?;
    tickets::add_outgoing(
        conn,
        ticket.id,
        &queued.message_id,
        &queued.subject,
        &services.config.support_email,
        &queued.text,
    )?;
    Ok(())
}

/// Takes a quarantined message in again (after a fix, or a raised size limit).
pub fn reprocess_quarantined(
    conn: &mut DbConnection,
    services: &Services,
    ledger_id: i64,
) -> Result<IntakeOutcome, AccountError> {
    let entry = inbound::find(conn, ledger_id)?.ok_or(AccountError::NotFound)?;
    if entry.outcome != "quarantined" {
        return Err(AccountError::Invalid("only quarantined messages can be re-processed".into()));
    }
    write_transaction(conn, |conn| {
        inbound::set_outcome(conn, entry.id, "reprocessed", "taken in again", None)?;
        let retry = RawMessage {
            source: entry.source.clone(),
            source_key: format!("{}#retry-{}", entry.source_key, store::now().and_utc().timestamp_micros()),
            arrived_at: entry.received_at,
            bytes: entry.raw.clone(),
        };
        take_in(conn, services, &retry)
    })
}
