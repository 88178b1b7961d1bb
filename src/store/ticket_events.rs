//! Each ticket's history: who did what and when. Reports are rebuilt from these rows.

use crate::db::schema::ticket_events;
use crate::db::DbConnection;
use crate::ids::{TicketNumber, UserId};
use crate::store::dialect::on_backend;
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
    record_many(conn, &[NewTicketEvent { ticket_id, at, actor, kind, detail }])
}

/// A history row to be recorded.
pub struct NewTicketEvent<'a> {
    pub ticket_id: TicketNumber,
    pub at: NaiveDateTime,
    pub actor: TicketActor<'a>,
    pub kind: TicketEventKind,
    pub detail: &'a str,
}

/// Several history rows, of one ticket or many, in one statement.
pub fn record_many(conn: &mut DbConnection, events: &[NewTicketEvent<'_>]) -> QueryResult<()> {
    let values: Vec<_> = events
        .iter()
        .map(|event| {
            (
                ticket_events::ticket_id.eq(event.ticket_id),
                ticket_events::at.eq(event.at),
                ticket_events::actor_id.eq(event.actor.map(|a| a.0)),
                ticket_events::actor_label.eq(event.actor.map(|a| a.1).unwrap_or("Keydesk")),
                ticket_events::kind.eq(event.kind.as_str()),
                ticket_events::detail.eq(one_line(event.detail)),
            )
        })
        .collect();
    if values.is_empty() {
        return Ok(());
    }
    on_backend!(conn, |c, _dialect| diesel::insert_into(ticket_events::table).values(values).execute(c).map(drop))
}

/// Oldest first.
pub fn of_ticket(conn: &mut DbConnection, ticket_id: TicketNumber) -> QueryResult<Vec<TicketEvent>> {
    ticket_events::table
        .filter(ticket_events::ticket_id.eq(ticket_id))
        .order((ticket_events::at.asc(), ticket_events::id.asc()))
        .select(TicketEvent::as_select())
        .load(conn)
}
