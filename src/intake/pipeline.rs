//! The intake transaction: ledger, then quarantine, ignore, thread or open a ticket.

use crate::app::{AppError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::ids::{LedgerId, TicketNumber};
use crate::mail::emails::TicketAcknowledgement;
use crate::store;
use crate::store::inbound::{self, NewInbound};
use crate::store::tickets::{self, NewTicket, NewTicketMessage, Outgoing, Ticket};
use crate::store::users::User;
use chrono::NaiveDateTime;
use keydesk_core::intake::{parse_message, Extracted, LedgerOutcome, ParsedMessage};
use keydesk_core::tickets::transitions;
use keydesk_core::{EmailAddress, MessageDirection, TicketEventKind};
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
    NewTicket(TicketNumber),
    Threaded(TicketNumber),
    /// Auto-reply, bounce, list mail or our own: recorded, no ticket, no reply.
    Ignored(String),
    /// Kept raw with the reason, for staff to re-process or discard.
    Quarantined(String),
    /// Taken in before (same source key, or the same Message-ID with the same bytes).
    Duplicate,
}

impl IntakeOutcome {
    /// How the ledger records it.
    fn ledger(&self) -> LedgerOutcome {
        match self {
            IntakeOutcome::NewTicket(_) => LedgerOutcome::Ticket,
            IntakeOutcome::Threaded(_) => LedgerOutcome::Threaded,
            IntakeOutcome::Ignored(_) => LedgerOutcome::Ignored,
            IntakeOutcome::Quarantined(_) => LedgerOutcome::Quarantined,
            IntakeOutcome::Duplicate => LedgerOutcome::Duplicate,
        }
    }
}

pub fn take_in(conn: &mut DbConnection, services: &Services, raw: &RawMessage) -> Result<IntakeOutcome, AppError> {
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
            // Settled below, once the ticket is filed.
            Decision::Accept(parsed) => {
                (parsed.message_id.clone(), IntakeOutcome::NewTicket(TicketNumber(0)), String::new())
            }
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
                outcome: outcome.ledger(),
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
                inbound::set_outcome(conn, ledger_id, outcome.ledger(), "", ticket)?;
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
) -> Result<Decision, AppError> {
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
    ledger_id: LedgerId,
) -> Result<IntakeOutcome, AppError> {
    let now = services.stored_now();
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
    let inbound = Inbound { parsed, sender: &sender, message_id: &message_id, at: raw.arrived_at, ledger_id };
    if let Some(ticket) = existing {
        add_inbound_message(conn, &ticket, &inbound)?;
        let from = format!("from {sender}");
        store::ticket_events::record(conn, ticket.id, now, None, TicketEventKind::UserReplied, &from)?;
        let transition = transitions::user_wrote(ticket.status);
        if transition.changes() {
            tickets::set_status(conn, ticket.id, transition.to, now)?;
        }
        if transition.reopens() {
            let detail = "the user wrote again";
            store::ticket_events::record(conn, ticket.id, now, None, TicketEventKind::Reopened, detail)?;
        }
        return Ok(IntakeOutcome::Threaded(ticket.id));
    }
    fn field(f: &Option<Extracted>) -> tickets::Sourced<'_> {
        f.as_ref().map(|e| (e.value.as_str(), e.source))
    }
    let requester_id = requester(conn, account.as_ref(), &sender)?.map(|u| u.id);
    let ticket = tickets::insert(
        conn,
        NewTicket {
            received_at: raw.arrived_at,
            sender: &sender,
            sender_name: parsed.from.as_ref().and_then(|m| m.name.as_deref()),
            subject: &parsed.subject,
            full_name: field(&parsed.fields.full_name),
            registered_email: field(&parsed.fields.registered_email),
            description: field(&parsed.fields.description),
            account_user_id: account.as_ref().map(|u| u.id),
            requester_user_id: requester_id,
        },
    )?;
    add_inbound_message(conn, &ticket, &inbound)?;
    store::ticket_events::record(conn, ticket.id, now, None, TicketEventKind::Received, &format!("from {sender}"))?;
    if let Some(why) = suspected_spoof(services, parsed, account.as_ref()) {
        store::ticket_events::record(conn, ticket.id, now, None, TicketEventKind::SpoofSuspected, &why)?;
    }
    acknowledge(conn, services, &ticket, parsed, &sender, &message_id)?;
    let detail = "automatic reply queued";
    store::ticket_events::record(conn, ticket.id, now, None, TicketEventKind::Acknowledged, detail)?;
    Ok(IntakeOutcome::NewTicket(ticket.id))
}

/// A message being filed, as its ticket's thread records it.
struct Inbound<'a> {
    parsed: &'a ParsedMessage,
    sender: &'a str,
    message_id: &'a str,
    at: NaiveDateTime,
    ledger_id: LedgerId,
}

fn add_inbound_message(conn: &mut DbConnection, ticket: &Ticket, inbound: &Inbound<'_>) -> Result<(), AppError> {
    tickets::add_message(
        conn,
        NewTicketMessage {
            ticket_id: ticket.id,
            direction: MessageDirection::In,
            message_id: inbound.message_id,
            at: inbound.at,
            sender: inbound.sender,
            subject: &inbound.parsed.subject,
            body_text: &inbound.parsed.body_text,
            inbound_message_id: Some(inbound.ledger_id),
        },
    )?;
    Ok(())
}

/// The ticket a reply belongs to: a `[#N]` tag naming an existing ticket, or any
/// Message-ID it answers that Keydesk sent or received for a ticket.
fn thread_target(conn: &mut DbConnection, parsed: &ParsedMessage) -> Result<Option<TicketNumber>, AppError> {
    if let Some(number) = parsed.ticket_number.map(TicketNumber) {
        if tickets::find(conn, number)?.is_some() {
            return Ok(Some(number));
        }
    }
    let answered: Vec<String> = parsed.in_reply_to.iter().chain(parsed.references.iter()).cloned().collect();
    Ok(tickets::by_message_id(conn, &answered)?)
}

/// Recorded once, at intake, so reports count suspected spoofs from the history.
fn suspected_spoof(services: &Services, parsed: &ParsedMessage, account: Option<&User>) -> Option<String> {
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
fn linked_account(conn: &mut DbConnection, parsed: &ParsedMessage) -> Result<Option<User>, AppError> {
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
fn requester(conn: &mut DbConnection, account: Option<&User>, sender: &str) -> Result<Option<User>, AppError> {
    let (Some(account), Ok(sender)) = (account, EmailAddress::parse(sender)) else { return Ok(None) };
    let Some(writer) = store::users::find_by_email(conn, &sender)? else { return Ok(None) };
    let same_organisation = writer.organisation_id.is_some() && writer.organisation_id == account.organisation_id;
    Ok((writer.id != account.id && same_organisation && writer.role.may_manage_users()).then_some(writer))
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
) -> Result<(), AppError> {
    // The promise about when: the support hours, and the next opening when closed now.
    let calendar = &services.calendar;
    let now = services.now();
    let next_opening = if calendar.is_open(now) { None } else { calendar.next_opening(now) };
    let zone = calendar.timezone();
    let email = TicketAcknowledgement {
        number: ticket.id,
        subject: &parsed.subject,
        full_name: ticket.full_name.as_deref(),
        missing_name: ticket.full_name.is_none(),
        missing_email: ticket.registered_email.is_none(),
        support_hours: calendar.describe_hours(),
        next_opening: next_opening
            .map(|at| format!("{} ({})", at.with_timezone(&zone).format("%A %-d %B at %H:%M"), zone.name())),
    };
    let outbox = services.outbox(now.naive_utc());
    let queued = outbox.queue_ticket_reply(conn, to, &email, ticket.id, answering)?;
    let outgoing = Outgoing {
        message_id: &queued.message_id,
        subject: &queued.subject,
        sender: &services.config.support_email,
        body_text: &queued.text,
    };
    tickets::add_outgoing(conn, ticket.id, outgoing, now.naive_utc())?;
    Ok(())
}

/// Takes a quarantined message in again (after a fix, or a raised size limit). The check
/// that it is still quarantined and the change to "reprocessed" are one conditional UPDATE
/// inside the transaction, so two staff pressing at once take it in once.
pub fn reprocess_quarantined(
    conn: &mut DbConnection,
    services: &Services,
    ledger_id: LedgerId,
) -> Result<IntakeOutcome, AppError> {
    write_transaction(conn, |conn| {
        let entry = inbound::find(conn, ledger_id)?.ok_or(AppError::NotFound)?;
        let taken = inbound::change_outcome(
            conn,
            entry.id,
            LedgerOutcome::Quarantined,
            LedgerOutcome::Reprocessed,
            "taken in again",
        )?;
        if !taken {
            // Not (or no longer) in quarantine: there is nothing here to take in again.
            return Err(AppError::NotFound);
        }
        let retry = RawMessage {
            source: entry.source.clone(),
            source_key: format!("{}#retry-{}", entry.source_key, services.now().timestamp_micros()),
            arrived_at: entry.received_at,
            bytes: entry.raw,
        };
        take_in(conn, services, &retry)
    })
}

/// Discards a quarantined message: it stays in the ledger, marked with who discarded it.
/// False when it was not (or no longer) quarantined.
pub fn discard_quarantined(conn: &mut DbConnection, ledger_id: LedgerId, by: &str) -> Result<bool, AppError> {
    write_transaction(conn, |conn| {
        let entry = inbound::find(conn, ledger_id)?.ok_or(AppError::NotFound)?;
        let reason = format!("discarded by {by}: {}", entry.reason);
        Ok(inbound::change_outcome(conn, entry.id, LedgerOutcome::Quarantined, LedgerOutcome::Discarded, &reason)?)
    })
}
