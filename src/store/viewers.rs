//! Who has a ticket's page open: one row per ticket and staff member, refreshed by each
//! page view and each presence poll.

use crate::db::schema::{ticket_viewers, users};
use crate::db::DbConnection;
use crate::ids::{TicketNumber, UserId};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// Records that `user` is looking at the ticket now (an upsert: two tabs are one row).
pub fn seen(conn: &mut DbConnection, ticket: TicketNumber, user: UserId, now: NaiveDateTime) -> QueryResult<()> {
    let updated = diesel::update(ticket_viewers::table.find((ticket, user)))
        .set(ticket_viewers::seen_at.eq(now))
        .execute(conn)?;
    if updated == 0 {
        let inserted = diesel::insert_into(ticket_viewers::table)
            .values((
                ticket_viewers::ticket_id.eq(ticket),
                ticket_viewers::user_id.eq(user),
                ticket_viewers::seen_at.eq(now),
            ))
            .execute(conn);
        match inserted {
            // The other tab (or process) inserted it first: it is recorded either way.
            Err(error) if crate::store::is_unique_violation(&error) => {}
            other => other.map(drop)?,
        }
    }
    Ok(())
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
