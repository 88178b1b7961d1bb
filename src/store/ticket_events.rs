//! Each ticket's history: who did what and when. Reports are rebuilt from these rows.

use crate::db::schema::ticket_events;
use crate::db::DbConnection;
use crate::ids::{TicketNumber, UserId};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use keydesk_core::events::one_line;
use keydesk_core::TicketEventKind;

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = ticket_events)]
pub struct TicketEvent {
    pub id: i64,
    pub ticket_id: TicketNumber,
    pub at: NaiveDateTime,
    pub actor_id: Option<UserId>,
    pub actor_label: String,
    #[diesel(deserialize_as = String)]
    pub kind: TicketEventKind,
    pub detail: String,
}

/// Who acted on a ticket: a staff member (id and email, as the history names them), or
/// `None` for Keydesk itself and what the user did by mail or by following a link.
pub type TicketActor<'a> = Option<(UserId, &'a str)>;

pub fn record(
    conn: &mut DbConnection,
    ticket_id: TicketNumber,
    at: NaiveDateTime,
    actor: TicketActor<'_>,
    kind: TicketEventKind,
    detail: &str,
) -> QueryResult<()> {
    diesel::insert_into(ticket_events::table)
        .values((
            ticket_events::ticket_id.eq(ticket_id),
            ticket_events::at.eq(at),
            ticket_events::actor_id.eq(actor.map(|a| a.0)),
            ticket_events::actor_label.eq(actor.map(|a| a.1).unwrap_or("Keydesk")),
            ticket_events::kind.eq(kind.as_str()),
            ticket_events::detail.eq(one_line(detail)),
        ))
        .execute(conn)
        .map(drop)
}

/// Oldest first.
pub fn of_ticket(conn: &mut DbConnection, ticket_id: TicketNumber) -> QueryResult<Vec<TicketEvent>> {
    ticket_events::table
        .filter(ticket_events::ticket_id.eq(ticket_id))
        .order((ticket_events::at.asc(), ticket_events::id.asc()))
        .select(TicketEvent::as_select())
        .load(conn)
}
