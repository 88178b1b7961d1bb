//! Tickets and their threads.

use crate::db::schema::{ticket_messages, tickets};
use crate::db::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = tickets)]
pub struct Ticket {
    pub id: i64,
    pub status: String,
    pub received_at: NaiveDateTime,
    pub sender: String,
    pub sender_name: Option<String>,
    pub subject: String,
    pub full_name: Option<String>,
    pub full_name_source: Option<String>,
    pub registered_email: Option<String>,
    pub registered_email_source: Option<String>,
    pub description: Option<String>,
    pub description_source: Option<String>,
    pub account_user_id: Option<i64>,
    pub updated_at: NaiveDateTime,
    pub assignee_id: Option<i64>,
    pub verified_at: Option<NaiveDateTime>,
    pub verified_by_id: Option<i64>,
    pub verification_method: Option<String>,
    pub verification_note: Option<String>,
    pub mailbox_confirmed_at: Option<NaiveDateTime>,
    /// An admin or owner who wrote on behalf of the locked employee (the second seed).
    pub requester_user_id: Option<i64>,
}

impl Ticket {
    pub fn is_resolved(&self) -> bool {
        matches!(self.status.as_str(), "resolved" | "closed")
    }

    /// Where its age stops: now while it is open, its resolution (the last status change)
    /// once it is resolved.
    pub fn age_until(&self, now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        if self.is_resolved() {
            self.updated_at.and_utc().min(now)
        } else {
            now
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = ticket_messages)]
pub struct TicketMessage {
    pub id: i64,
    pub ticket_id: i64,
    pub direction: String,
    pub message_id: String,
    pub at: NaiveDateTime,
    pub sender: String,
    pub subject: String,
    pub body_text: String,
    pub inbound_message_id: Option<i64>,
}

pub struct NewTicket<'a> {
    pub received_at: NaiveDateTime,
    pub sender: &'a str,
    pub sender_name: Option<&'a str>,
    pub subject: &'a str,
    pub full_name: Option<(&'a str, &'a str)>,
    pub registered_email: Option<(&'a str, &'a str)>,
    pub description: Option<(&'a str, &'a str)>,
    pub account_user_id: Option<i64>,
    pub requester_user_id: Option<i64>,
}

pub fn insert(conn: &mut DbConnection, new: NewTicket<'_>) -> QueryResult<Ticket> {
    let id: i64 = diesel::insert_into(tickets::table)
        .values((
            tickets::status.eq("new"),
            tickets::received_at.eq(new.received_at),
            tickets::sender.eq(new.sender),
            tickets::sender_name.eq(new.sender_name),
            tickets::subject.eq(new.subject),
            tickets::full_name.eq(new.full_name.map(|f| f.0)),
            tickets::full_name_source.eq(new.full_name.map(|f| f.1)),
            tickets::registered_email.eq(new.registered_email.map(|f| f.0)),
            tickets::registered_email_source.eq(new.registered_email.map(|f| f.1)),
            tickets::description.eq(new.description.map(|f| f.0)),
            tickets::description_source.eq(new.description.map(|f| f.1)),
            tickets::account_user_id.eq(new.account_user_id),
            tickets::requester_user_id.eq(new.requester_user_id),
            tickets::updated_at.eq(new.received_at),
        ))
        .returning(tickets::id)
        .get_result(conn)?;
    tickets::table.find(id).select(Ticket::as_select()).first(conn)
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Ticket>> {
    tickets::table.find(id).select(Ticket::as_select()).first(conn).optional()
}

/// The open ticket (not resolved or closed) already about this account, if any.
pub fn open_for_account(conn: &mut DbConnection, user_id: i64) -> QueryResult<Option<Ticket>> {
    tickets::table
        .filter(tickets::account_user_id.eq(user_id))
        .filter(tickets::status.ne_all(["resolved", "closed"]))
        .order(tickets::id.asc())
        .select(Ticket::as_select())
        .first(conn)
        .optional()
}

/// The ticket a Message-ID belongs to (sent or received by Keydesk).
pub fn by_message_id(conn: &mut DbConnection, message_ids: &[String]) -> QueryResult<Option<i64>> {
    if message_ids.is_empty() {
        return Ok(None);
    }
    ticket_messages::table
        .filter(ticket_messages::message_id.eq_any(message_ids))
        .select(ticket_messages::ticket_id)
        .first(conn)
        .optional()
}

pub fn set_status(conn: &mut DbConnection, id: i64, status: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(tickets::table.find(id))
        .set((tickets::status.eq(status), tickets::updated_at.eq(now)))
        .execute(conn)
        .map(drop)
}

pub struct NewTicketMessage<'a> {
    pub ticket_id: i64,
    pub direction: &'a str,
    pub message_id: &'a str,
    pub at: NaiveDateTime,
    pub sender: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub inbound_message_id: Option<i64>,
}

pub fn add_message(conn: &mut DbConnection, message: NewTicketMessage<'_>) -> QueryResult<()> {
    diesel::insert_into(ticket_messages::table)
        .values((
            ticket_messages::ticket_id.eq(message.ticket_id),
            ticket_messages::direction.eq(message.direction),
            ticket_messages::message_id.eq(message.message_id),
            ticket_messages::at.eq(message.at),
            ticket_messages::sender.eq(message.sender),
            ticket_messages::subject.eq(message.subject),
            ticket_messages::body_text.eq(message.body_text),
            ticket_messages::inbound_message_id.eq(message.inbound_message_id),
        ))
        .execute(conn)
        .map(drop)
}

/// Records in the thread an email Keydesk queued for the ticket.
pub fn add_outgoing(
    conn: &mut DbConnection,
    ticket_id: i64,
    message_id: &str,
    subject: &str,
    sender: &str,
    body_text: &str,
) -> QueryResult<()> {
    add_message(
        conn,
        NewTicketMessage {
            ticket_id,
            direction: "out",
            message_id,
            at: super::now(),
            sender,
            subject,
            body_text,
            inbound_message_id: None,
        },
    )
}

pub fn messages(conn: &mut DbConnection, ticket_id: i64) -> QueryResult<Vec<TicketMessage>> {
    ticket_messages::table
        .filter(ticket_messages::ticket_id.eq(ticket_id))
        .order((ticket_messages::at.asc(), ticket_messages::id.asc()))
        .select(TicketMessage::as_select())
        .load(conn)
}

/// Newest first, optionally of one status.
pub fn list(conn: &mut DbConnection, status: Option<&str>, limit: i64) -> QueryResult<Vec<Ticket>> {
    let mut query = tickets::table.select(Ticket::as_select()).into_boxed();
    if let Some(status) = status {
        query = query.filter(tickets::status.eq(status.to_owned()));
    }
    query.order((tickets::received_at.desc(), tickets::id.desc())).limit(limit).load(conn)
}

pub fn assign(conn: &mut DbConnection, id: i64, assignee: Option<i64>, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(tickets::table.find(id))
        .set((tickets::assignee_id.eq(assignee), tickets::updated_at.eq(now)))
        .execute(conn)
        .map(drop)
}

/// Marks the sender verified, once; false if it already was.
pub fn mark_verified(
    conn: &mut DbConnection,
    id: i64,
    by: i64,
    method: &str,
    note: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(tickets::table.find(id).filter(tickets::verified_at.is_null()))
        .set((
            tickets::verified_at.eq(now),
            tickets::verified_by_id.eq(by),
            tickets::verification_method.eq(method),
            tickets::verification_note.eq(note),
            tickets::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|rows| rows == 1)
}

pub fn confirm_mailbox(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(tickets::table.find(id))
        .set((tickets::mailbox_confirmed_at.eq(now), tickets::updated_at.eq(now)))
        .execute(conn)
        .map(drop)
}

/// Resolves a ticket that is not resolved or closed yet; false if another request did first.
pub fn resolve_if_open(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(tickets::table.find(id).filter(tickets::status.ne_all(["resolved", "closed"])))
        .set((tickets::status.eq("resolved"), tickets::updated_at.eq(now)))
        .execute(conn)
        .map(|rows| rows == 1)
}
