//! Filing a person's message: threaded onto the ticket it answers, or a new ticket linked to
//! the account it is about — with the acknowledgement, unless the sender has had enough of
//! them this hour or the receiving server says the sender is forged.

use super::pipeline::{IntakeOutcome, RawMessage};
use crate::accounts::throttle::{self, Bucket};
use crate::app::{AppError, Services};
use crate::db::DbConnection;
use crate::ids::{LedgerId, TicketNumber};
use crate::mail::emails::TicketAcknowledgement;
use crate::store;
use crate::store::tickets::{self, NewTicket, NewTicketMessage, Outgoing, Ticket};
use crate::store::users::User;
use chrono::NaiveDateTime;
use keydesk_core::intake::{acknowledgement_withheld, Extracted, FieldSource, ParsedMessage};
use keydesk_core::tickets::transitions;
use keydesk_core::{EmailAddress, MessageDirection, TicketEventKind};

/// Threads the message onto its ticket, or opens one.
pub(super) fn file_as_ticket(
    conn: &mut DbConnection,
    services: &Services,
    raw: &RawMessage,
    parsed: &ParsedMessage,
    ledger_id: LedgerId,
) -> Result<IntakeOutcome, AppError> {
    let now = services.stored_now();
    let sender = parsed.from.as_ref().map(|m| m.address.clone()).unwrap_or_default();
    let sender_address = EmailAddress::parse(&sender).ok();
    let writer = match &sender_address {
        Some(address) => store::users::find_by_email(conn, address)?,
        None => None,
    };
    let account = linked_account(conn, parsed, sender_address.as_ref(), writer.as_ref())?;
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
    let requester_id = requester(account.as_ref(), writer.as_ref()).map(|u| u.id);
    // The From name is the writer's. When the writer has an account of their own and the
    // ticket is about someone else's (an admin writing for an employee), it is not the
    // user's name: only a name stated in the body is.
    let writes_for_someone_else = writer.as_ref().is_some_and(|w| account.as_ref().is_some_and(|a| a.id != w.id));
    let full_name = parsed
        .fields
        .full_name
        .as_ref()
        .filter(|name| !(writes_for_someone_else && name.source == FieldSource::Header));
    let ticket = tickets::insert(
        conn,
        NewTicket {
            received_at: raw.arrived_at,
            sender: &sender,
            sender_name: parsed.from.as_ref().and_then(|m| m.name.as_deref()),
            subject: &parsed.subject,
            full_name: field(&full_name.cloned()),
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
    match acknowledgement_refusal(conn, services, parsed, &sender)? {
        None => {
            acknowledge(conn, services, &ticket, parsed, &sender, &message_id)?;
            let detail = "automatic reply queued";
            store::ticket_events::record(conn, ticket.id, now, None, TicketEventKind::Acknowledged, detail)?;
        }
        Some(why) => {
            store::ticket_events::record(conn, ticket.id, now, None, TicketEventKind::AcknowledgementWithheld, &why)?;
        }
    }
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

/// The account the ticket is about: the stated registered email's, else the sender's own.
/// `writer` is the sender's account, looked up once by the caller: a stated address that is
/// the sender's own is not looked up again, found or not.
fn linked_account(
    conn: &mut DbConnection,
    parsed: &ParsedMessage,
    sender: Option<&EmailAddress>,
    writer: Option<&User>,
) -> Result<Option<User>, AppError> {
    let stated = parsed.fields.registered_email.as_ref().and_then(|e| EmailAddress::parse(&e.value).ok());
    if let Some(stated) = stated.filter(|stated| Some(stated) != sender) {
        if let Some(user) = store::users::find_by_email(conn, &stated)? {
            return Ok(Some(user));
        }
    }
    Ok(writer.cloned())
}

/// The second seed's special case: when the owner is unavailable, an admin (or another
/// owner) of the employee's organisation writes on the employee's behalf.
fn requester<'a>(account: Option<&User>, writer: Option<&'a User>) -> Option<&'a User> {
    let (account, writer) = (account?, writer?);
    let same_organisation = writer.organisation_id.is_some() && writer.organisation_id == account.organisation_id;
    (writer.id != account.id && same_organisation && writer.role.may_manage_users()).then_some(writer)
}

/// Why the new ticket's sender gets no acknowledgement: the receiving server says the sender
/// is forged or the mail is spam (answering would be backscatter), or the sender has had
/// `intake.max_acknowledgements_per_sender` this hour (a flood, or a loop with a machine
/// that looks like a person). The count is taken only when an answer would go out.
fn acknowledgement_refusal(
    conn: &mut DbConnection,
    services: &Services,
    parsed: &ParsedMessage,
    sender: &str,
) -> Result<Option<String>, AppError> {
    if let Some(why) = acknowledgement_withheld(parsed, &services.config.verification.trusted_authserv_id) {
        return Ok(Some(why));
    }
    let policy = services.config.intake.acknowledgements_per_sender();
    Ok(throttle::take(conn, services, &Bucket::AcknowledgementsTo(sender), policy)?
        .err()
        .map(|_| format!("{} acknowledgements were sent to {sender} in the last hour already", policy.limit)))
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
