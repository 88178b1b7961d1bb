//! Attachments of inbound messages, kept apart from the raw bytes so a ticket can list them
//! and staff can download one without anything parsing mail again.

use crate::db::schema::{attachments, ticket_messages};
use crate::db::DbConnection;
use crate::ids::{LedgerId, TicketNumber};
use diesel::prelude::*;
use keydesk_core::intake::Attachment;

/// An attachment as a ticket lists it (without its bytes).
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = attachments)]
pub struct Listed {
    pub id: i64,
    pub inbound_message_id: LedgerId,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub note: String,
}

pub fn insert_all(conn: &mut DbConnection, message: LedgerId, found: &[Attachment]) -> QueryResult<()> {
    let rows: Vec<_> = found
        .iter()
        .enumerate()
        .map(|(position, a)| {
            (
                attachments::inbound_message_id.eq(message),
                attachments::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
                attachments::filename.eq(&a.filename),
                attachments::content_type.eq(&a.content_type),
                attachments::size_bytes.eq(i64::try_from(a.size_bytes).unwrap_or(i64::MAX)),
                attachments::content.eq(a.kept.then_some(a.bytes.as_slice())),
                attachments::note.eq(a.note.as_deref().unwrap_or_default()),
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    // One statement per row: SQLite's bind limit and PostgreSQL's both stay far away.
    for row in rows {
        diesel::insert_into(attachments::table).values(row).execute(conn)?;
    }
    Ok(())
}

/// The attachments of a ticket's messages, in thread order.
pub fn of_ticket(conn: &mut DbConnection, ticket: TicketNumber) -> QueryResult<Vec<Listed>> {
    attachments::table
        .inner_join(
            ticket_messages::table
                .on(ticket_messages::inbound_message_id.eq(attachments::inbound_message_id.nullable())),
        )
        .filter(ticket_messages::ticket_id.eq(ticket))
        .order((ticket_messages::at.asc(), attachments::position.asc()))
        .select(Listed::as_select())
        .load(conn)
}

/// One attachment's bytes with its listing, if it belongs to `ticket` and was kept.
pub fn download(conn: &mut DbConnection, ticket: TicketNumber, id: i64) -> QueryResult<Option<(Listed, Vec<u8>)>> {
    let found: Option<(Listed, Option<Vec<u8>>)> = attachments::table
        .inner_join(
            ticket_messages::table
                .on(ticket_messages::inbound_message_id.eq(attachments::inbound_message_id.nullable())),
        )
        .filter(ticket_messages::ticket_id.eq(ticket))
        .filter(attachments::id.eq(id))
        .select((Listed::as_select(), attachments::content))
        .first(conn)
        .optional()?;
    Ok(found.and_then(|(listed, content)| content.map(|bytes| (listed, bytes))))
}
