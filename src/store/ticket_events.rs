//! Each ticket's history: who did what and when. Reports are rebuilt from these rows.

use crate::db::schema::ticket_events;
use crate::db::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use keydesk_core::events::one_line;
use keydesk_core::TicketEventKind;

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = ticket_events)]
pub struct TicketEvent {
    pub id: i64,
    pub ticket_id: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub kind: String,
    pub detail: String,
}

pub fn record(
    conn: &mut DbConnection,
    ticket_id: i64,
    actor: Option<(i64, &str)>,
    kind: TicketEventKind,
    detail: &str,
) -> QueryResult<()> {
    diesel::insert_into(ticket_events::table)
        .values((
            ticket_events::ticket_id.eq(ticket_id),
            ticket_events::at.eq(super::now()),
            ticket_events::actor_id.eq(actor.map(|a| a.0)),
            ticket_events::actor_label.eq(actor.map(|a| a.1).unwrap_or("Keydesk")),
            ticket_events::kind.eq(kind.as_str()),
            ticket_events::detail.eq(one_line(detail)),
        ))
        .execute(conn)
        .map(drop)
}

/// Oldest first.
pub fn of_ticket(conn: &mut DbConnection, ticket_id: i64) -> QueryResult<Vec<TicketEvent>> {
    ticket_events::table
        .filter(ticket_events::ticket_id.eq(ticket_id))
        .order((ticket_events::at.asc(), ticket_events::id.asc()))
        .select(TicketEvent::as_select())
        .load(conn)
}
