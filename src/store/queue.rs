//! The support queue's reads: tickets by the filters SQL answers well (status, organisation,
//! verification, assignee), oldest first, and the people and organisations a page of them
//! names, fetched in one query each rather than one per row.

use crate::db::schema::{organisations, tickets, users};
use crate::db::DbConnection;
use crate::ids::UserId;
use crate::store::{orgs::Organisation, tickets::Ticket, users::User};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use keydesk_core::tickets::TicketSearch;
use keydesk_core::TicketStatus;
use std::collections::HashMap;

/// Which tickets to list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub statuses: Option<Vec<TicketStatus>>,
    /// Tickets whose linked account belongs to this organisation.
    pub organisation_id: Option<i64>,
    pub verified: Option<bool>,
    pub assignee_id: Option<UserId>,
    /// What was typed in the search box; a search lists the newest matches first.
    pub search: Option<TicketSearch>,
    /// At most this many tickets (a search's cap; the queue itself lists every open ticket).
    pub limit: Option<i64>,
}

/// Oldest first (by arrival, then number); a search newest first, from its index.
pub fn tickets(conn: &mut DbConnection, filter: &QueueFilter) -> QueryResult<Vec<Ticket>> {
    let sqlite = matches!(conn, DbConnection::Sqlite(_));
    let mut query = tickets::table.select(Ticket::as_select()).into_boxed();
    match &filter.search {
        None => {}
        Some(TicketSearch::Number(number)) => query = query.filter(tickets::id.eq(number)),
        Some(TicketSearch::Words(words)) if sqlite => {
            query = query.filter(
                sql::<Bool>("tickets.id IN (SELECT rowid FROM ticket_search WHERE ticket_search MATCH ")
                    .bind::<Text, _>(TicketSearch::fts5_query(words))
                    .sql(")"),
            )
        }
        Some(TicketSearch::Words(words)) => {
            query = query.filter(
                sql::<Bool>("tickets.search_words @@ to_tsquery('simple', ")
                    .bind::<Text, _>(TicketSearch::tsquery(words))
                    .sql(")"),
            )
        }
    }
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
    if let Some(limit) = filter.limit {
        query = query.limit(limit);
    }
    if filter.search.is_some() {
        query.order(tickets::id.desc()).load(conn)
    } else {
        query.order((tickets::received_at.asc(), tickets::id.asc())).load(conn)
    }
}

/// The users with these ids (in any order; unknown ids are left out).
pub fn users_by_id(conn: &mut DbConnection, ids: &[UserId]) -> QueryResult<Vec<User>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    users::table.filter(users::id.eq_any(ids.to_vec())).select(User::as_select()).load(conn)
}

/// The people these tickets name (linked accounts and assignees), by id, in one query.
pub fn people_of(conn: &mut DbConnection, tickets: &[Ticket]) -> QueryResult<HashMap<UserId, User>> {
    let mut ids: Vec<UserId> = tickets.iter().flat_map(|t| [t.account_user_id, t.assignee_id]).flatten().collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(users_by_id(conn, &ids)?.into_iter().map(|u| (u.id, u)).collect())
}

/// Every organisation, by name (for the queue's organisation filter and its rows).
pub fn organisations(conn: &mut DbConnection) -> QueryResult<Vec<Organisation>> {
    organisations::table.order(organisations::name.asc()).select(Organisation::as_select()).load(conn)
}
