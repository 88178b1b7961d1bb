//! Working a ticket: take or assign it, keep internal notes, reply to the user (through the
//! outbox, threaded), wait on the user, resolve. Which status each leads to is the core's
//! (`keydesk_core::tickets::transitions`).

use super::{actor, ticket_to_change};
use crate::app::{AppError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::ids::TicketNumber;
use crate::mail::emails::TicketReply;
use crate::store::tickets::{Outgoing, Ticket};
use crate::store::{self, users::User};
use chrono::NaiveDateTime;
use keydesk_core::tickets::{transitions, Transition};
use keydesk_core::{MessageDirection, TicketEventKind};

/// The text an agent typed, trimmed; refused when there is none.
fn written<'t>(text: &'t str, what: &str) -> Result<&'t str, AppError> {
    match text.trim() {
        "" => Err(AppError::Invalid(format!("write the {what} first"))),
        text => Ok(text),
    }
}

/// Writes the status a transition leads to, if it changes.
fn apply(conn: &mut DbConnection, ticket: &Ticket, transition: Transition, now: NaiveDateTime) -> Result<(), AppError> {
    if transition.changes() {
        store::tickets::set_status(conn, ticket.id, transition.to, now)?;
    }
    Ok(())
}

pub fn take(conn: &mut DbConnection, services: &Services, agent: &User, number: TicketNumber) -> Result<(), AppError> {
    let now = services.stored_now();
    write_transaction(conn, |conn| {
        let ticket = ticket_to_change(conn, number)?;
        store::tickets::assign(conn, ticket.id, Some(agent.id), now)?;
        apply(conn, &ticket, transitions::take(ticket.status), now)?;
        let detail = format!("to {}", agent.email);
        store::ticket_events::record(conn, ticket.id, now, actor(agent), TicketEventKind::Assigned, &detail)?;
        Ok(())
    })
}

pub fn add_note(
    conn: &mut DbConnection,
    services: &Services,
    agent: &User,
    number: TicketNumber,
    text: &str,
) -> Result<(), AppError> {
    let text = written(text, "note")?;
    let now = services.stored_now();
    write_transaction(conn, |conn| {
        let ticket = ticket_to_change(conn, number)?;
        store::ticket_events::record(conn, ticket.id, now, actor(agent), TicketEventKind::Note, text)?;
        Ok(())
    })
}

/// Emails the user, threaded to their latest message, and records it in the thread.
/// What became of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyOutcome {
    Sent,
    /// The thread moved on since the agent loaded it (a colleague replied, the user wrote):
    /// nothing was sent; the newest message's sender is named so the agent reads it first.
    ThreadMoved {
        newest_from: String,
        newest_id: i64,
    },
}

/// Replies to the user, unless the thread has a message newer than `seen_last` (the newest
/// message id on the page the agent wrote on; `None` skips the check, as the API does).
pub fn reply(
    conn: &mut DbConnection,
    services: &Services,
    agent: &User,
    number: TicketNumber,
    text: &str,
    seen_last: Option<i64>,
) -> Result<ReplyOutcome, AppError> {
    let text = written(text, "reply")?;
    let now = services.stored_now();
    write_transaction(conn, |conn| {
        // Held first (`ticket_to_change`): two replies at once queue behind each other, so the
        // second sees the first's message below.
        let ticket = ticket_to_change(conn, number)?;
        let thread = store::tickets::messages(conn, ticket.id)?;
        if let (Some(seen), Some(newest)) = (seen_last, thread.iter().max_by_key(|m| m.id)) {
            if newest.id > seen {
                return Ok(ReplyOutcome::ThreadMoved { newest_from: newest.sender.clone(), newest_id: newest.id });
            }
        }
        let answering = thread
            .iter()
            .rev()
            .find(|m| m.direction == MessageDirection::In)
            .map(|m| m.message_id.clone())
            .unwrap_or_default();
        let email =
            TicketReply { number: ticket.id, subject: &ticket.subject, body: text, agent_name: &agent.full_name };
        let queued = services.outbox(now).queue_ticket_reply(conn, &ticket.sender, &email, ticket.id, &answering)?;
        // The thread keeps the agent's words, without the signature the email adds.
        let outgoing = Outgoing {
            message_id: &queued.message_id,
            subject: &queued.subject,
            sender: &agent.email,
            body_text: text,
        };
        store::tickets::add_outgoing(conn, ticket.id, outgoing, now)?;
        apply(conn, &ticket, transitions::agent_replied(ticket.status), now)?;
        store::ticket_events::record(conn, ticket.id, now, actor(agent), TicketEventKind::AgentReplied, "")?;
        Ok(ReplyOutcome::Sent)
    })
}

pub fn mark_waiting(
    conn: &mut DbConnection,
    services: &Services,
    agent: &User,
    number: TicketNumber,
) -> Result<(), AppError> {
    let now = services.stored_now();
    write_transaction(conn, |conn| {
        let ticket = ticket_to_change(conn, number)?;
        let transition =
            transitions::wait_on_user(ticket.status).map_err(|refusal| AppError::Invalid(refusal.to_string()))?;
        apply(conn, &ticket, transition, now)?;
        store::ticket_events::record(conn, ticket.id, now, actor(agent), TicketEventKind::WaitingOnUser, "")?;
        Ok(())
    })
}

/// Resolves without unlocking (e.g. the account was unlocked another way); false when it
/// was resolved already.
pub fn resolve(
    conn: &mut DbConnection,
    services: &Services,
    agent: &User,
    number: TicketNumber,
    note: &str,
) -> Result<bool, AppError> {
    let now = services.stored_now();
    write_transaction(conn, |conn| {
        let ticket = ticket_to_change(conn, number)?;
        if transitions::resolve(ticket.status).is_err() {
            return Ok(false);
        }
        // Conditional: two agents resolving at once record one resolution.
        let resolved = store::tickets::resolve_if_open(conn, ticket.id, now)?;
        if resolved {
            store::ticket_events::record(conn, ticket.id, now, actor(agent), TicketEventKind::Resolved, note.trim())?;
        }
        Ok(resolved)
    })
}
