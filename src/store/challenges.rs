//! Mailbox challenges: single-use, expiring links sent to a ticket's *registered* address.
//! Only the token's hash is stored.

use crate::db::schema::mailbox_challenges;
use crate::db::DbConnection;
use crate::ids::TicketNumber;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use keydesk_core::HashedToken;

pub fn create(
    conn: &mut DbConnection,
    ticket_id: TicketNumber,
    token: &HashedToken,
    email: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(mailbox_challenges::table)
        .values((
            mailbox_challenges::ticket_id.eq(ticket_id),
            mailbox_challenges::token_hash.eq(&token.0),
            mailbox_challenges::email.eq(email),
            mailbox_challenges::created_at.eq(now),
            mailbox_challenges::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map(drop)
}

/// Uses a live challenge once; returns its ticket and the address it was sent to.
pub fn redeem(
    conn: &mut DbConnection,
    token: &HashedToken,
    now: NaiveDateTime,
) -> QueryResult<Option<(TicketNumber, String)>> {
    let live = mailbox_challenges::table
        .filter(mailbox_challenges::token_hash.eq(&token.0))
        .filter(mailbox_challenges::used_at.is_null())
        .filter(mailbox_challenges::expires_at.gt(now))
        .select((mailbox_challenges::id, mailbox_challenges::ticket_id, mailbox_challenges::email))
        .first::<(i64, TicketNumber, String)>(conn)
        .optional()?;
    let Some((id, ticket_id, email)) = live else { return Ok(None) };
    let won = diesel::update(mailbox_challenges::table.find(id).filter(mailbox_challenges::used_at.is_null()))
        .set(mailbox_challenges::used_at.eq(now))
        .execute(conn)?
        == 1;
    Ok(won.then_some((ticket_id, email)))
}

/// A live challenge as the confirmation page needs it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mailbox_challenges)]
pub struct Challenge {
    pub id: i64,
    pub ticket_id: TicketNumber,
    pub email: String,
    pub tries: i32,
}

/// An unused, unexpired challenge.
pub fn find_live(conn: &mut DbConnection, token: &HashedToken, now: NaiveDateTime) -> QueryResult<Option<Challenge>> {
    mailbox_challenges::table
        .filter(mailbox_challenges::token_hash.eq(&token.0))
        .filter(mailbox_challenges::used_at.is_null())
        .filter(mailbox_challenges::expires_at.gt(now))
        .select(Challenge::as_select())
        .first(conn)
        .optional()
}

/// Counts one wrong code; the try's number, or None when the challenge is closed.
pub fn take_try(conn: &mut DbConnection, id: i64) -> QueryResult<Option<i32>> {
    diesel::update(mailbox_challenges::table.find(id).filter(mailbox_challenges::used_at.is_null()))
        .set(mailbox_challenges::tries.eq(mailbox_challenges::tries + 1))
        .returning(mailbox_challenges::tries)
        .get_result(conn)
        .optional()
}

/// Uses the challenge up (answered, or out of tries); false when another request did first.
pub fn close(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(mailbox_challenges::table.find(id).filter(mailbox_challenges::used_at.is_null()))
        .set(mailbox_challenges::used_at.eq(now))
        .execute(conn)
        .map(|rows| rows == 1)
}

/// Which of these tickets have a challenge out: sent, unused and unexpired.
pub fn pending_for(
    conn: &mut DbConnection,
    ticket_ids: &[TicketNumber],
    now: NaiveDateTime,
) -> QueryResult<Vec<TicketNumber>> {
    if ticket_ids.is_empty() {
        return Ok(vec![]);
    }
    mailbox_challenges::table
        .filter(mailbox_challenges::ticket_id.eq_any(ticket_ids.to_vec()))
        .filter(mailbox_challenges::used_at.is_null())
        .filter(mailbox_challenges::expires_at.gt(now))
        .select(mailbox_challenges::ticket_id)
        .distinct()
        .load(conn)
}
