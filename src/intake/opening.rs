//! Opening new tickets: each linked to the account it is about, its message on the thread,
//! its history begun, and its acknowledgement queued — unless the sender has had enough of
//! them this hour or the receiving server says the sender is forged. One request or a whole
//! batch's, in the same handful of statements.

use super::filing::{message_id_of, sender_of, Inbound, People};
use super::pipeline::RawMessage;
use crate::accounts::throttle::{self, Bucket};
use crate::app::{AppError, Services};
use crate::db::DbConnection;
use crate::ids::{LedgerId, TicketNumber};
use crate::mail::emails::TicketAcknowledgement;
use crate::mail::{Outbox, QueuedReply, TicketReply};
use crate::store;
use crate::store::ticket_events::NewTicketEvent;
use crate::store::tickets::{self, NewTicket, Outgoing, Ticket};
use crate::store::users::User;
use chrono::{DateTime, Utc};
use keydesk_core::intake::{acknowledgement_withheld, Extracted, FieldSource, ParsedMessage};
use keydesk_core::{EmailAddress, TicketEventKind};

/// A person's message that opens a new ticket, its ledger row written.
pub(super) struct NewRequest<'a> {
    pub raw: &'a RawMessage,
    pub parsed: &'a ParsedMessage,
    pub ledger_id: LedgerId,
    pub people: People,
}

/// Opens a ticket for each request — linked to its account, its message on the thread, its
/// history begun, and its acknowledgement queued unless withheld — all of them in a handful
/// of statements, however many there are (intake's batch). The requests' senders must
/// differ: each one's acknowledgement allowance is counted once.
pub(super) fn open_tickets(
    conn: &mut DbConnection,
    services: &Services,
    requests: &[NewRequest<'_>],
) -> Result<Vec<TicketNumber>, AppError> {
    let new_tickets: Vec<NewTicket> = requests.iter().map(new_ticket).collect();
    let opened = tickets::insert_many(conn, &new_tickets)?;
    let refusals = acknowledgement_refusals(conn, services, requests)?;
    let (now, replied_at) = (services.stored_now(), services.now());
    let outbox = services.outbox(replied_at.naive_utc());
    let promise = Promise::at(services, replied_at);
    let message_ids: Vec<String> = requests.iter().map(|r| message_id_of(r.parsed, r.ledger_id)).collect();
    let received: Vec<String> = requests.iter().map(|r| format!("from {}", sender_of(r.parsed))).collect();
    let spoofs: Vec<Option<String>> =
        requests.iter().map(|r| suspected_spoof(services, r.parsed, r.people.account.as_ref())).collect();
    let mut replies = Vec::new();
    let mut history = Vec::new();
    let mut thread = Vec::new();
    for (i, (request, ticket)) in requests.iter().zip(&opened).enumerate() {
        let event = |kind, detail| NewTicketEvent { ticket_id: ticket.id, at: now, actor: None, kind, detail };
        let inbound = Inbound::of(request.raw, request.parsed, &message_ids[i], request.ledger_id);
        thread.push(inbound.on(ticket.id));
        history.push(event(TicketEventKind::Received, &received[i]));
        if let Some(why) = &spoofs[i] {
            history.push(event(TicketEventKind::SpoofSuspected, why));
        }
        match &refusals[i] {
            None => {
                let reply = acknowledgement(&outbox, &promise, ticket, request.parsed, &message_ids[i])?;
                replies.push((ticket.id, reply));
                history.push(event(TicketEventKind::Acknowledged, "automatic reply queued"));
            }
            Some(why) => history.push(event(TicketEventKind::AcknowledgementWithheld, why)),
        }
    }
    let (acknowledged, replies): (Vec<TicketNumber>, Vec<TicketReply>) = replies.into_iter().unzip();
    outbox.queue_replies(conn, &replies)?;
    let queued: Vec<QueuedReply> = replies.iter().map(TicketReply::queued).collect();
    let support = &services.config.support_email;
    thread.extend(acknowledged.iter().zip(&queued).map(|(&ticket_id, reply)| {
        let outgoing = Outgoing {
            message_id: &reply.message_id,
            subject: &reply.subject,
            sender: support,
            body_text: &reply.text,
        };
        outgoing.on(ticket_id, replied_at.naive_utc())
    }));
    tickets::add_messages(conn, &thread)?;
    store::ticket_events::record_many(conn, &history)?;
    Ok(opened.iter().map(|ticket| ticket.id).collect())
}

/// The ticket a request opens: its fields as parsed, linked to its account, and to whoever
/// asked on the account's behalf.
fn new_ticket<'a>(request: &'a NewRequest<'_>) -> NewTicket<'a> {
    fn field(f: Option<&Extracted>) -> tickets::Sourced<'_> {
        f.map(|e| (e.value.as_str(), e.source))
    }
    let (parsed, People { writer, account }) = (request.parsed, &request.people);
    // The From name is the writer's. When the writer has an account of their own and the
    // ticket is about someone else's (an admin writing for an employee), it is not the user's
    // name: only a name stated in the body is.
    let writes_for_someone_else = writer.as_ref().is_some_and(|w| account.as_ref().is_some_and(|a| a.id != w.id));
    let full_name = parsed
        .fields
        .full_name
        .as_ref()
        .filter(|name| !(writes_for_someone_else && name.source == FieldSource::Header));
    NewTicket {
        received_at: request.raw.arrived_at,
        sender: sender_of(parsed),
        sender_name: parsed.from.as_ref().and_then(|m| m.name.as_deref()),
        subject: &parsed.subject,
        full_name: field(full_name),
        registered_email: field(parsed.fields.registered_email.as_ref()),
        description: field(parsed.fields.description.as_ref()),
        account_user_id: account.as_ref().map(|u| u.id),
        requester_user_id: requester(account.as_ref(), writer.as_ref()).map(|u| u.id),
    }
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

/// The second seed's special case: when the owner is unavailable, an admin (or another
/// owner) of the employee's organisation writes on the employee's behalf.
fn requester<'a>(account: Option<&User>, writer: Option<&'a User>) -> Option<&'a User> {
    let (account, writer) = (account?, writer?);
    let same_organisation = writer.organisation_id.is_some() && writer.organisation_id == account.organisation_id;
    (writer.id != account.id && same_organisation && writer.role.may_manage_users()).then_some(writer)
}

/// Why each new ticket's sender gets no acknowledgement, if they get none: the receiving
/// server says the sender is forged or the mail is spam (answering would be backscatter), or
/// the sender has had `intake.max_acknowledgements_per_sender` this hour (a flood, or a loop
/// with a machine that looks like a person). The count is taken only when an answer would go
/// out, for the whole batch in one statement.
fn acknowledgement_refusals(
    conn: &mut DbConnection,
    services: &Services,
    requests: &[NewRequest<'_>],
) -> Result<Vec<Option<String>>, AppError> {
    let trusted = &services.config.verification.trusted_authserv_id;
    let withheld: Vec<Option<String>> = requests.iter().map(|r| acknowledgement_withheld(r.parsed, trusted)).collect();
    let counted: Vec<Bucket> = requests
        .iter()
        .zip(&withheld)
        .filter(|(_, withheld)| withheld.is_none())
        .map(|(request, _)| Bucket::AcknowledgementsTo(sender_of(request.parsed)))
        .collect();
    let policy = services.config.intake.acknowledgements_per_sender();
    let mut verdicts = throttle::take_many(conn, services, &counted, policy)?.into_iter();
    Ok(requests
        .iter()
        .zip(withheld)
        .map(|(request, withheld)| {
            withheld.or_else(|| {
                let over = verdicts.next().is_some_and(|verdict| verdict.is_err());
                over.then(|| {
                    let sender = sender_of(request.parsed);
                    format!("{} acknowledgements were sent to {sender} in the last hour already", policy.limit)
                })
            })
        })
        .collect())
}

/// The promise about when, the same in every acknowledgement queued at one instant: the
/// support hours, and the next opening when support is closed then.
struct Promise {
    support_hours: String,
    next_opening: Option<String>,
}

impl Promise {
    fn at(services: &Services, now: DateTime<Utc>) -> Promise {
        let calendar = &services.calendar;
        let next_opening = if calendar.is_open(now) { None } else { calendar.next_opening(now) };
        let zone = calendar.timezone();
        Promise {
            support_hours: calendar.describe_hours(),
            next_opening: next_opening
                .map(|at| format!("{} ({})", at.with_timezone(&zone).format("%A %-d %B at %H:%M"), zone.name())),
        }
    }
}

/// The automatic reply to a new ticket, rendered: its number in the subject, threaded to the
/// user's message (`answering`).
fn acknowledgement(
    outbox: &Outbox,
    promise: &Promise,
    ticket: &Ticket,
    parsed: &ParsedMessage,
    answering: &str,
) -> Result<TicketReply, AppError> {
    let email = TicketAcknowledgement {
        number: ticket.id,
        subject: &parsed.subject,
        full_name: ticket.full_name.as_deref(),
        missing_name: ticket.full_name.is_none(),
        missing_email: ticket.registered_email.is_none(),
        support_hours: promise.support_hours.clone(),
        next_opening: promise.next_opening.clone(),
    };
    Ok(outbox.render_ticket_reply(sender_of(parsed), &email, ticket.id, answering)?)
}
