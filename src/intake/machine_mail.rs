//! Machine mail is never answered and never opens a ticket; but a bounce or an auto-reply
//! that refers to a ticket — Keydesk's own Message-ID or a "[#N]" tag anywhere in it, an
//! attached or quoted original included — goes into that ticket's history, so an agent
//! sees that the unlock notification never arrived, or that the user is away.

use crate::app::{AppError, Services};
use crate::db::DbConnection;
use crate::ids::TicketNumber;
use crate::store::{self, tickets};
use keydesk_core::intake::{MachineClass, ParsedMessage};
use keydesk_core::TicketEventKind;

/// Records `parsed` on the ticket it refers to, if it is a bounce or an auto-reply and refers
/// to one; the ticket, if so.
pub(super) fn file_machine_mail(
    conn: &mut DbConnection,
    services: &Services,
    parsed: &ParsedMessage,
) -> Result<Option<TicketNumber>, AppError> {
    let (kind, detail) = match parsed.machine_class() {
        Some(MachineClass::Bounce) => {
            let why = parsed.bounce.as_deref().unwrap_or("the mail server gave no reason");
            (TicketEventKind::Bounced, why.to_owned())
        }
        Some(MachineClass::AutoReply) => (TicketEventKind::AutoReplyReceived, format!("\"{}\"", parsed.subject)),
        _ => return Ok(None),
    };
    let Some(ticket) = referred_ticket(conn, parsed)? else { return Ok(None) };
    let sender = parsed.from.as_ref().map_or("an unreadable sender", |from| from.address.as_str());
    let detail = format!("{detail}, from {sender}");
    store::ticket_events::record(conn, ticket, services.stored_now(), None, kind, &detail)?;
    Ok(Some(ticket))
}

/// The ticket a machine message refers to: a Message-ID of the ticket's thread (what Keydesk
/// sent, most often), else the first "[#N]" tag naming a ticket that exists.
fn referred_ticket(conn: &mut DbConnection, parsed: &ParsedMessage) -> Result<Option<TicketNumber>, AppError> {
    // Bounded, as each one looked up is a statement parameter: a reply's are, and mentions
    // stop at 64.
    let mentioned = parsed.mentions.message_ids.iter().map(String::as_str);
    let ids: Vec<String> = parsed.answered_message_ids().chain(mentioned).map(str::to_owned).collect();
    if let Some(ticket) = tickets::by_message_id(conn, &ids)? {
        return Ok(Some(ticket));
    }
    for number in parsed.ticket_number.into_iter().chain(parsed.mentions.ticket_numbers.iter().copied()) {
        if tickets::find(conn, TicketNumber(number))?.is_some() {
            return Ok(Some(TicketNumber(number)));
        }
    }
    Ok(None)
}
