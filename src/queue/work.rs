//! Working a ticket: take or assign it, keep internal notes, reply to the user (through the
//! outbox, threaded), wait on the user, resolve.

use super::{actor, ticket};
use crate::accounts::{AccountError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::mail::{self, EmailKind};
use crate::store::{self, users::User};
use keydesk_core::TicketEventKind;

pub fn take(conn: &mut DbConnection, agent: &User, number: i64) -> Result<(), AccountError> {
    write_transaction(conn, |conn| {
        let ticket = ticket(conn, number)?;
        store::tickets::assign(conn, ticket.id, Some(agent.id), store::now())?;
        if ticket.status == "new" {
            store::tickets::set_status(conn, ticket.id, "open", store::now())?;
        }
        store::ticket_events::record(
            conn,
            ticket.id,
            actor(agent),
            TicketEventKind::Assigned,
            &format!("to {}", agent.email),
        )?;
        Ok(())
    })
}

pub fn add_note(conn: &mut DbConnection, agent: &User, number: i64, text: &str) -> Result<(), AccountError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AccountError::Invalid("write the note first".into()));
    }
    write_transaction(conn, |conn| {
        let ticket = ticket(conn, number)?;
        store::ticket_events::record(conn, ticket.id, actor(agent), TicketEventKind::Note, text)?;
        Ok(())
    })
}

/// Emails the user, threaded to their latest message, and records it in the thread.
pub fn reply(
    conn: &mut DbConnection,
    services: &Services,
    agent: &User,
    number: i64,
    text: &str,
) -> Result<(), AccountError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AccountError::Invalid("write the reply first".into()));
    }
    write_transaction(conn, |conn| {
        let ticket = ticket(conn, number)?;
        let thread = store::tickets::messages(conn, ticket.id)?;
        let answering =
            thread.iter().rev().find(|m| m.direction == "in").map(|m| m.message_id.clone()).unwrap_or_default();
        let mut context = tera::Context::new();
        context.insert("number", &ticket.id);
        context.insert("subject", &ticket.subject);
        context.insert("body", text);
        context.insert("agent_name", &agent.full_name);
        let queued = mail::queue_ticket_reply(
            conn,
            &services.config,
            &services.mail,
            EmailKind::TicketReply,
            &ticket.sender,
            &context,
            ticket.id,
            &answering,
        )?;
        // The thread keeps the agent's words, without the signature the email adds.
        store::tickets::add_outgoing(conn, ticket.id, &queued.message_id, &queued.subject, &agent.email, text)?;
        if ticket.status == "new" {
            store::tickets::set_status(conn, ticket.id, "open", store::now())?;
        }
        store::ticket_events::record(conn, ticket.id, actor(agent), TicketEventKind::AgentReplied, "")?;
        Ok(())
    })
}

pub fn mark_waiting(conn: &mut DbConnection, agent: &User, number: i64) -> Result<(), AccountError> {
    write_transaction(conn, |conn| {
        let ticket = ticket(conn, number)?;
        if ticket.is_resolved() {
            return Err(AccountError::Invalid(format!("ticket #{number} is {}", ticket.status)));
        }
        store::tickets::set_status(conn, ticket.id, "waiting_on_user", store::now())?;
        store::ticket_events::record(conn, ticket.id, actor(agent), TicketEventKind::WaitingOnUser, "")?;
        Ok(())
    })
}

/// Resolves without unlocking (e.g. the account was unlocked another way); false when it
/// was resolved already.
pub fn resolve(conn: &mut DbConnection, agent: &User, number: i64, note: &str) -> Result<bool, AccountError> {
    write_transaction(conn, |conn| {
        let ticket = ticket(conn, number)?;
        let resolved = store::tickets::resolve_if_open(conn, ticket.id, store::now())?;
        if resolved {
            store::ticket_events::record(conn, ticket.id, actor(agent), TicketEventKind::Resolved, note.trim())?;
        }
        Ok(resolved)
    })
}
