//! Tickets and their threads.

use crate::db::schema::{ticket_messages, tickets};
use crate::db::{DbConnection, OptionalText};
use crate::ids::{LedgerId, TicketNumber, UserId};
use crate::store::dialect::on_backend;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use keydesk_core::intake::FieldSource;
use keydesk_core::verification::VerificationMethod;
use keydesk_core::{MessageDirection, TicketStatus};

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = tickets)]
pub struct Ticket {
    pub id: TicketNumber,
    #[diesel(deserialize_as = String)]
    pub status: TicketStatus,
    pub received_at: NaiveDateTime,
    pub sender: String,
    pub sender_name: Option<String>,
    pub subject: String,
    pub full_name: Option<String>,
    #[diesel(deserialize_as = OptionalText)]
    pub full_name_source: Option<FieldSource>,
    pub registered_email: Option<String>,
    #[diesel(deserialize_as = OptionalText)]
    pub registered_email_source: Option<FieldSource>,
    pub description: Option<String>,
    #[diesel(deserialize_as = OptionalText)]
    pub description_source: Option<FieldSource>,
    pub account_user_id: Option<UserId>,
    pub updated_at: NaiveDateTime,
    pub assignee_id: Option<UserId>,
    pub verified_at: Option<NaiveDateTime>,
    pub verified_by_id: Option<UserId>,
    #[diesel(deserialize_as = OptionalText)]
    pub verification_method: Option<VerificationMethod>,
    pub verification_note: Option<String>,
    pub mailbox_confirmed_at: Option<NaiveDateTime>,
    /// An admin or owner who wrote on behalf of the locked employee (the second seed).
    pub requester_user_id: Option<UserId>,
    /// A manager's approval of the unlock (privileged accounts, repeated unlocks).
    pub approved_at: Option<NaiveDateTime>,
    pub approved_by_id: Option<UserId>,
    pub approval_note: Option<String>,
}

impl Ticket {
    pub fn is_resolved(&self) -> bool {
        self.status.is_resolved()
    }

    /// Where its age stops: now while it is open, its resolution (the last status change)
    /// once it is resolved.
    pub fn age_until(&self, now: DateTime<Utc>) -> DateTime<Utc> {
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
    pub ticket_id: TicketNumber,
    #[diesel(deserialize_as = String)]
    pub direction: MessageDirection,
    pub message_id: String,
    pub at: NaiveDateTime,
    pub sender: String,
    pub subject: String,
    pub body_text: String,
    pub inbound_message_id: Option<LedgerId>,
}

/// A field parsed from the request, with where it was found.
pub type Sourced<'a> = Option<(&'a str, FieldSource)>;

pub struct NewTicket<'a> {
    pub received_at: NaiveDateTime,
    pub sender: &'a str,
    pub sender_name: Option<&'a str>,
    pub subject: &'a str,
    pub full_name: Sourced<'a>,
    pub registered_email: Sourced<'a>,
    pub description: Sourced<'a>,
    pub account_user_id: Option<UserId>,
    pub requester_user_id: Option<UserId>,
}

pub fn insert(conn: &mut DbConnection, new: NewTicket<'_>) -> QueryResult<Ticket> {
    let mut inserted = insert_many(conn, &[new])?;
    inserted.pop().ok_or(diesel::result::Error::NotFound)
}

/// Several new tickets in one statement, from distinct senders; the rows in the same order.
pub fn insert_many(conn: &mut DbConnection, rows: &[NewTicket<'_>]) -> QueryResult<Vec<Ticket>> {
    let source = |field: Sourced<'_>| field.map(|(_, source)| source.as_str());
    let values: Vec<_> = rows
        .iter()
        .map(|new| {
            (
                tickets::status.eq(TicketStatus::New.as_str()),
                tickets::received_at.eq(new.received_at),
                tickets::sender.eq(new.sender),
                tickets::sender_name.eq(new.sender_name),
                tickets::subject.eq(new.subject),
                tickets::full_name.eq(new.full_name.map(|f| f.0)),
                tickets::full_name_source.eq(source(new.full_name)),
                tickets::registered_email.eq(new.registered_email.map(|f| f.0)),
                tickets::registered_email_source.eq(source(new.registered_email)),
                tickets::description.eq(new.description.map(|f| f.0)),
                tickets::description_source.eq(source(new.description)),
                tickets::account_user_id.eq(new.account_user_id),
                tickets::requester_user_id.eq(new.requester_user_id),
                tickets::updated_at.eq(new.received_at),
            )
        })
        .collect();
    if values.is_empty() {
        return Ok(Vec::new());
    }
    // The whole rows back from the INSERT itself, matched by sender (neither database
    // promises RETURNING's order): one round trip for them all.
    let mut inserted: Vec<Ticket> = on_backend!(conn, |c, _dialect| diesel::insert_into(tickets::table)
        .values(values)
        .returning(Ticket::as_returning())
        .get_results(c))?;
    rows.iter()
        .map(|row| {
            let at = inserted.iter().position(|t| t.sender == row.sender).ok_or(diesel::result::Error::NotFound)?;
            Ok(inserted.swap_remove(at))
        })
        .collect()
}

pub fn find(conn: &mut DbConnection, id: TicketNumber) -> QueryResult<Option<Ticket>> {
    tickets::table.find(id).select(Ticket::as_select()).first(conn).optional()
}

/// The open ticket (not resolved or closed) already about this account, if any.
pub fn open_for_account(conn: &mut DbConnection, user_id: UserId) -> QueryResult<Option<Ticket>> {
    tickets::table
        .filter(tickets::account_user_id.eq(user_id))
        .filter(tickets::status.ne_all(TicketStatus::RESOLVED.map(TicketStatus::as_str)))
        .order(tickets::id.asc())
        .select(Ticket::as_select())
        .first(conn)
        .optional()
}

/// Of these accounts, those with an open ticket (as [`open_for_account`] finds it).
pub fn accounts_with_open_tickets(conn: &mut DbConnection, user_ids: &[UserId]) -> QueryResult<Vec<UserId>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    tickets::table
        .filter(tickets::account_user_id.eq_any(user_ids))
        .filter(tickets::status.ne_all(TicketStatus::RESOLVED.map(TicketStatus::as_str)))
        .select(tickets::account_user_id.assume_not_null())
        .distinct()
        .load(conn)
}

/// Of these Message-IDs, those a ticket's thread holds (as [`by_message_id`] finds them).
pub fn known_message_ids(conn: &mut DbConnection, message_ids: &[&str]) -> QueryResult<Vec<String>> {
    if message_ids.is_empty() {
        return Ok(Vec::new());
    }
    ticket_messages::table
        .filter(ticket_messages::message_id.eq_any(message_ids))
        .select(ticket_messages::message_id)
        .distinct()
        .load(conn)
}

/// The ticket a Message-ID belongs to (sent or received by Keydesk): the first thread to
/// hold any of them, when several do (senders reuse Message-IDs).
pub fn by_message_id(conn: &mut DbConnection, message_ids: &[String]) -> QueryResult<Option<TicketNumber>> {
    if message_ids.is_empty() {
        return Ok(None);
    }
    ticket_messages::table
        .filter(ticket_messages::message_id.eq_any(message_ids))
        .order(ticket_messages::id.asc())
        .select(ticket_messages::ticket_id)
        .first(conn)
        .optional()
}

pub fn set_status(
    conn: &mut DbConnection,
    id: TicketNumber,
    status: TicketStatus,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(tickets::table.find(id))
        .set((tickets::status.eq(status.as_str()), tickets::updated_at.eq(now)))
        .execute(conn)
        .map(drop)
}

pub struct NewTicketMessage<'a> {
    pub ticket_id: TicketNumber,
    pub direction: MessageDirection,
    pub message_id: &'a str,
    pub at: NaiveDateTime,
    pub sender: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub inbound_message_id: Option<LedgerId>,
}

pub fn add_message(conn: &mut DbConnection, message: NewTicketMessage<'_>) -> QueryResult<()> {
    add_messages(conn, &[message])
}

/// Several messages, on one ticket or many, in one statement.
pub fn add_messages(conn: &mut DbConnection, messages: &[NewTicketMessage<'_>]) -> QueryResult<()> {
    let values: Vec<_> = messages
        .iter()
        .map(|message| {
            (
                ticket_messages::ticket_id.eq(message.ticket_id),
                ticket_messages::direction.eq(message.direction.as_str()),
                ticket_messages::message_id.eq(message.message_id),
                ticket_messages::at.eq(message.at),
                ticket_messages::sender.eq(message.sender),
                ticket_messages::subject.eq(message.subject),
                ticket_messages::body_text.eq(message.body_text),
                ticket_messages::inbound_message_id.eq(message.inbound_message_id),
            )
        })
        .collect();
    if values.is_empty() {
        return Ok(());
    }
    on_backend!(conn, |c, _dialect| diesel::insert_into(ticket_messages::table).values(values).execute(c).map(drop))
}

/// An email Keydesk queued for a ticket, as its thread records it.
pub struct Outgoing<'a> {
    pub message_id: &'a str,
    pub subject: &'a str,
    pub sender: &'a str,
    pub body_text: &'a str,
}

impl<'a> Outgoing<'a> {
    /// Its row on `ticket_id`'s thread, sent `at`.
    pub fn on(&self, ticket_id: TicketNumber, at: NaiveDateTime) -> NewTicketMessage<'a> {
        NewTicketMessage {
            ticket_id,
            direction: MessageDirection::Out,
            message_id: self.message_id,
            at,
            sender: self.sender,
            subject: self.subject,
            body_text: self.body_text,
            inbound_message_id: None,
        }
    }
}

/// Records in the thread an email Keydesk queued for the ticket.
pub fn add_outgoing(
    conn: &mut DbConnection,
    ticket_id: TicketNumber,
    outgoing: Outgoing<'_>,
    at: NaiveDateTime,
) -> QueryResult<()> {
    add_message(conn, outgoing.on(ticket_id, at))
}

pub fn messages(conn: &mut DbConnection, ticket_id: TicketNumber) -> QueryResult<Vec<TicketMessage>> {
    ticket_messages::table
        .filter(ticket_messages::ticket_id.eq(ticket_id))
        .order((ticket_messages::at.asc(), ticket_messages::id.asc()))
        .select(TicketMessage::as_select())
        .load(conn)
}

/// Tickets that still need someone (new, open, waiting on the user).
pub fn count_unresolved(conn: &mut DbConnection) -> QueryResult<i64> {
    let unresolved: Vec<&str> = TicketStatus::UNRESOLVED.iter().map(|s| s.as_str()).collect();
    tickets::table.filter(tickets::status.eq_any(unresolved)).count().get_result(conn)
}

/// Newest first, optionally of one status.
pub fn list(conn: &mut DbConnection, status: Option<TicketStatus>, limit: i64) -> QueryResult<Vec<Ticket>> {
    let mut query = tickets::table.select(Ticket::as_select()).into_boxed();
    if let Some(status) = status {
        query = query.filter(tickets::status.eq(status.as_str()));
    }
    query.order((tickets::received_at.desc(), tickets::id.desc())).limit(limit).load(conn)
}

pub fn assign(
    conn: &mut DbConnection,
    id: TicketNumber,
    assignee: Option<UserId>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(tickets::table.find(id))
        .set((tickets::assignee_id.eq(assignee), tickets::updated_at.eq(now)))
        .execute(conn)
        .map(drop)
}

/// Records a verification of the sender, replacing `replacing` (the verification the caller
/// saw, `None` for none): a compare-and-set, so of two agents verifying at once one wins and
/// the other is told; false when the ticket's verification changed meanwhile.
pub fn mark_verified(
    conn: &mut DbConnection,
    id: TicketNumber,
    replacing: Option<NaiveDateTime>,
    by: Option<UserId>,
    method: VerificationMethod,
    note: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let update = diesel::update(tickets::table.find(id)).into_boxed();
    let update = match replacing {
        Some(at) => update.filter(tickets::verified_at.eq(at)),
        None => update.filter(tickets::verified_at.is_null()),
    };
    update
        .set((
            tickets::verified_at.eq(now),
            tickets::verified_by_id.eq(by),
            tickets::verification_method.eq(method.as_str()),
            tickets::verification_note.eq(note),
            tickets::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|rows| rows == 1)
}

pub fn confirm_mailbox(conn: &mut DbConnection, id: TicketNumber, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(tickets::table.find(id))
        .set((tickets::mailbox_confirmed_at.eq(now), tickets::updated_at.eq(now)))
        .execute(conn)
        .map(drop)
}

/// Records a manager's approval of the unlock.
pub fn mark_approved(
    conn: &mut DbConnection,
    id: TicketNumber,
    by: UserId,
    note: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(tickets::table.find(id))
        .set((
            tickets::approved_at.eq(now),
            tickets::approved_by_id.eq(by),
            tickets::approval_note.eq(note),
            tickets::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Resolves a ticket that is not resolved or closed yet; false if another request did first.
pub fn resolve_if_open(conn: &mut DbConnection, id: TicketNumber, now: NaiveDateTime) -> QueryResult<bool> {
    let unresolved = tickets::status.ne_all(TicketStatus::RESOLVED.map(TicketStatus::as_str));
    diesel::update(tickets::table.find(id).filter(unresolved))
        .set((tickets::status.eq(TicketStatus::Resolved.as_str()), tickets::updated_at.eq(now)))
        .execute(conn)
        .map(|rows| rows == 1)
}

/// Takes the ticket's row lock for the rest of the transaction (PostgreSQL; SQLite's write
/// transaction holds the whole database already): concurrent writers of it wait here.
pub fn lock_row(conn: &mut DbConnection, id: TicketNumber) -> QueryResult<()> {
    diesel::update(tickets::table.find(id)).set(tickets::updated_at.eq(tickets::updated_at)).execute(conn).map(drop)
}

/// The id of the thread's newest message (0 when it has none), without reading the thread.
pub fn newest_message_id(conn: &mut DbConnection, ticket_id: TicketNumber) -> QueryResult<i64> {
    ticket_messages::table
        .filter(ticket_messages::ticket_id.eq(ticket_id))
        .select(diesel::dsl::max(ticket_messages::id))
        .first::<Option<i64>>(conn)
        .map(Option::unwrap_or_default)
}
