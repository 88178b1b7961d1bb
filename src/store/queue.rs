//! The support queue's reads: tickets by the filters SQL answers well (status, organisation,
//! verification, assignee), oldest first, and the people and organisations a page of them
//! names, fetched in one query each rather than one per row.

use crate::db::schema::{organisations, tickets, users};
use crate::db::DbConnection;
use crate::ids::UserId;
use crate::store::{orgs::Organisation, tickets::Ticket, users::User};
use diesel::prelude::*;
use keydesk_core::TicketStatus;

/// Which tickets to list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub statuses: Option<Vec<TicketStatus>>,
    /// Tickets whose linked account belongs to this organisation.
    pub organisation_id: Option<i64>,
    pub verified: Option<bool>,
    pub assignee_id: Option<UserId>,
}

/// Oldest first (by arrival, then number).
pub fn tickets(conn: &mut DbConnection, filter: &QueueFilter) -> QueryResult<Vec<Ticket>> {
    let mut query = tickets::table.select(Ticket::as_select()).into_boxed();
    if let Some(statuses) = &filter.statuses {
        query = query.filter(tickets::status.eq_any(statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>()));
    }
    if let Some(organisation) = filter.organisation_id {
        let members =
            users::table.filter(users::organisation_id.eq(organisation)).select(users::id).load::<i64>(conn)?;
        query = query.filter(tickets::account_user_id.eq_any(members));
    }
    match filter.verified {
        Some(true) => query = query.filter(tickets::verified_at.is_not_null()),
        Some(false) => query = query.filter(tickets::verified_at.is_null()),
        None => {}
    }
    if let Some(assignee) = filter.assignee_id {
        query = query.filter(tickets::assignee_id.eq(assignee));
    }
    query.order((tickets::received_at.asc(), tickets::id.asc())).load(conn)
}

/// The users with these ids (in any order; unknown ids are left out).
pub fn users_by_id(conn: &mut DbConnection, ids: &[UserId]) -> QueryResult<Vec<User>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    users::table.filter(users::id.eq_any(ids.to_vec())).select(User::as_select()).load(conn)
}

/// Every organisation, by name (for the queue's organisation filter and its rows).
pub fn organisations(conn: &mut DbConnection) -> QueryResult<Vec<Organisation>> {
    organisations::table.order(organisations::name.asc()).select(Organisation::as_select()).load(conn)
}
