//! Who has a ticket's page open: one row per ticket and staff member, refreshed by each
//! page view and each presence poll.

use crate::db::schema::{ticket_viewers, users};
use crate::db::DbConnection;
use crate::ids::{TicketNumber, UserId};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use super::dialect::on_backend;

/// Records that `user` is looking at the ticket now: one upsert, so two tabs (or two
/// processes) at once are one row.
pub fn seen(conn: &mut DbConnection, ticket: TicketNumber, user: UserId, now: NaiveDateTime) -> QueryResult<()> {
    let sql = "INSERT INTO ticket_viewers (ticket_id, user_id, seen_at) VALUES ($1, $2, $3) \
               ON CONFLICT (ticket_id, user_id) DO UPDATE SET seen_at = excluded.seen_at";
    on_backend!(conn, |c, dialect| {
        diesel::sql_query(dialect.statement(sql))
            .bind::<BigInt, _>(ticket.0)
            .bind::<BigInt, _>(user.0)
            .bind::<Timestamp, _>(now)
            .execute(c)
    })
    .map(drop)
}

/// The others seen on the ticket since `since`: their names, by name.
pub fn others_since(
    conn: &mut DbConnection,
    ticket: TicketNumber,
    me: UserId,
    since: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    ticket_viewers::table
        .inner_join(users::table)
        .filter(ticket_viewers::ticket_id.eq(ticket))
        .filter(ticket_viewers::user_id.ne(me))
        .filter(ticket_viewers::seen_at.ge(since))
        .select(users::full_name)
        .order(users::full_name.asc())
        .load(conn)
}
