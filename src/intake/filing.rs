//! Filing a person's message: threaded onto the ticket it answers, or a new ticket linked to
//! the account it is about (`opening`).

use super::opening::{open_tickets, NewRequest};
use super::pipeline::{IntakeOutcome, RawMessage};
use crate::app::{AppError, Services};
use crate::db::DbConnection;
use crate::ids::{LedgerId, TicketNumber};
use crate::store;
use crate::store::tickets::{self, NewTicketMessage};
use crate::store::users::User;
use chrono::NaiveDateTime;
use keydesk_core::intake::ParsedMessage;
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
    let people = People::of(parsed, |address| Ok(store::users::find_by_email(conn, address)?))?;
    let existing = match thread_target(conn, parsed)? {
        Some(id) => Some(id),
        // One open ticket per lock: a user who writes three times has one ticket.
        None => match &people.account {
            Some(user) => tickets::open_for_account(conn, user.id)?.map(|ticket| ticket.id),
            None => None,
        },
    };
    // Held, then read (`queue::ticket_to_change`): an agent resolving it meanwhile commits
    // first, and this reply then reopens it.
    let existing = match existing {
        Some(id) => Some(crate::queue::ticket_to_change(conn, id)?),
        None => None,
    };
    let Some(ticket) = existing else {
        let request = NewRequest { raw, parsed, ledger_id, people };
        let opened = open_tickets(conn, services, std::slice::from_ref(&request))?;
        let opened = opened.first().copied().ok_or(diesel::result::Error::NotFound)?;
        return Ok(IntakeOutcome::NewTicket(opened));
    };
    let now = services.stored_now();
    let sender = sender_of(parsed);
    let message_id = message_id_of(parsed, ledger_id);
    let inbound = Inbound::of(raw, parsed, &message_id, ledger_id);
    tickets::add_message(conn, inbound.on(ticket.id))?;
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
    Ok(IntakeOutcome::Threaded(ticket.id))
}

/// The sender's address as the message gives it (filing happens only when there is one).
pub(super) fn sender_of(parsed: &ParsedMessage) -> &str {
    parsed.from.as_ref().map(|m| m.address.as_str()).unwrap_or_default()
}

/// The message's Message-ID, or one made up from its ledger row when it has none.
pub(super) fn message_id_of(parsed: &ParsedMessage, ledger_id: LedgerId) -> String {
    parsed.message_id.clone().unwrap_or_else(|| format!("keydesk-inbound-{ledger_id}@keydesk.invalid"))
}

/// Who a message is from and about, as the accounts say.
pub(super) struct People {
    /// The sender's own account.
    pub writer: Option<User>,
    /// The account the ticket is about: the stated registered email's, else the sender's own.
    pub account: Option<User>,
}

impl People {
    /// Looks them up with `find` (an address's account): a stated address that is the
    /// sender's own is not looked up again, found or not.
    pub(super) fn of(
        parsed: &ParsedMessage,
        mut find: impl FnMut(&EmailAddress) -> Result<Option<User>, AppError>,
    ) -> Result<People, AppError> {
        let (sender, stated) = Self::addresses(parsed);
        let writer = match &sender {
            Some(address) => find(address)?,
            None => None,
        };
        let stated_account = match stated.filter(|stated| Some(stated) != sender.as_ref()) {
            Some(stated) => find(&stated)?,
            None => None,
        };
        let account = stated_account.or_else(|| writer.clone());
        Ok(People { writer, account })
    }

    /// The addresses [`People::of`] may look up: the sender's and the stated registered email.
    pub(super) fn addresses(parsed: &ParsedMessage) -> (Option<EmailAddress>, Option<EmailAddress>) {
        let sender = parsed.from.as_ref().and_then(|m| EmailAddress::parse(&m.address).ok());
        let stated = parsed.fields.registered_email.as_ref().and_then(|e| EmailAddress::parse(&e.value).ok());
        (sender, stated)
    }
}

/// A message being filed, as its ticket's thread records it.
pub(super) struct Inbound<'a> {
    parsed: &'a ParsedMessage,
    message_id: &'a str,
    at: NaiveDateTime,
    ledger_id: LedgerId,
}

impl<'a> Inbound<'a> {
    /// `raw` as parsed, known by `message_id` (see [`message_id_of`]) and its ledger row.
    pub(super) fn of(raw: &RawMessage, parsed: &'a ParsedMessage, message_id: &'a str, ledger_id: LedgerId) -> Self {
        Inbound { parsed, message_id, at: raw.arrived_at, ledger_id }
    }

    /// Its row on `ticket`'s thread.
    pub(super) fn on(&self, ticket_id: TicketNumber) -> NewTicketMessage<'a> {
        NewTicketMessage {
            ticket_id,
            direction: MessageDirection::In,
            message_id: self.message_id,
            at: self.at,
            sender: sender_of(self.parsed),
            subject: &self.parsed.subject,
            body_text: &self.parsed.body_text,
            inbound_message_id: Some(self.ledger_id),
        }
    }
}

/// The ticket a reply belongs to: a `[#N]` tag naming an existing ticket, or any
/// Message-ID it answers that Keydesk sent or received for a ticket.
fn thread_target(conn: &mut DbConnection, parsed: &ParsedMessage) -> Result<Option<TicketNumber>, AppError> {
    if let Some(number) = parsed.ticket_number.map(TicketNumber) {
        if tickets::find(conn, number)?.is_some() {
            return Ok(Some(number));
        }
    }
    let answered: Vec<String> = parsed.answered_message_ids().map(str::to_owned).collect();
    Ok(tickets::by_message_id(conn, &answered)?)
}
