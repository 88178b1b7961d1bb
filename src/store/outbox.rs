//! The outbox: every email is a row, written in the same transaction as the change that
//! caused it; the sender claims due rows, delivers them and marks them sent.

use crate::db::schema::outbox;
use crate::db::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use keydesk_core::outgoing::EmailKind;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxMessage {
    pub id: i64,
    #[diesel(deserialize_as = String)]
    pub kind: EmailKind,
    pub to_address: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub auto_submitted: Option<String>,
    pub created_at: NaiveDateTime,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub claimed_until: Option<NaiveDateTime>,
    pub sent_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
}

pub struct NewOutboxMessage<'a> {
    pub kind: EmailKind,
    pub to_address: &'a str,
    pub subject: &'a str,
    pub text_body: &'a str,
    pub html_body: &'a str,
    pub message_id: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub auto_submitted: Option<&'a str>,
}

pub fn enqueue(conn: &mut DbConnection, message: NewOutboxMessage<'_>, now: NaiveDateTime) -> QueryResult<i64> {
    diesel::insert_into(outbox::table)
        .values((
            outbox::kind.eq(message.kind.as_str()),
            outbox::to_address.eq(message.to_address),
            outbox::subject.eq(message.subject),
            outbox::text_body.eq(message.text_body),
            outbox::html_body.eq(message.html_body),
            outbox::message_id.eq(message.message_id),
            outbox::in_reply_to.eq(message.in_reply_to),
            outbox::auto_submitted.eq(message.auto_submitted),
            outbox::created_at.eq(now),
            outbox::next_attempt_at.eq(now),
        ))
        .returning(outbox::id)
        .get_result(conn)
}

/// Claims up to `limit` due messages until `lease_until`. Each claim is its own conditional
/// UPDATE, so two senders (two processes) never hold the same message.
pub fn claim_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OutboxMessage>> {
    let free = outbox::claimed_until.is_null().or(outbox::claimed_until.lt(now));
    let candidates: Vec<i64> = outbox::table
        .filter(outbox::sent_at.is_null())
        .filter(outbox::next_attempt_at.le(now))
        .filter(free)
        .order(outbox::id.asc())
        .limit(limit)
        .select(outbox::id)
        .load(conn)?;
    let mut claimed = Vec::with_capacity(candidates.len());
    for id in candidates {
        let won = diesel::update(outbox::table.find(id).filter(outbox::sent_at.is_null()).filter(free))
            .set(outbox::claimed_until.eq(lease_until))
            .execute(conn)?
            == 1;
        if won {
            claimed.push(outbox::table.find(id).select(OutboxMessage::as_select()).first(conn)?);
        }
    }
    Ok(claimed)
}

pub fn mark_sent(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::sent_at.eq(now),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(drop)
}

pub fn mark_failed(conn: &mut DbConnection, id: i64, next_attempt_at: NaiveDateTime, error: &str) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::next_attempt_at.eq(next_attempt_at),
            outbox::claimed_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(error),
        ))
        .execute(conn)
        .map(drop)
}

/// Everything queued, oldest first (for tests and the operator).
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<OutboxMessage>> {
    outbox::table.order(outbox::id.asc()).select(OutboxMessage::as_select()).load(conn)
}

/// The outbox at a glance, for the operator: what waits, what keeps failing, when mail last
/// went out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxHealth {
    /// Not sent yet (including those failing).
    pub queued: i64,
    /// Not sent yet, with at least one failed attempt.
    pub failing: i64,
    pub oldest_queued_at: Option<NaiveDateTime>,
    pub last_sent_at: Option<NaiveDateTime>,
    /// The most recent failure's error, among those still unsent.
    pub last_error: Option<String>,
}

pub fn health(conn: &mut DbConnection) -> QueryResult<OutboxHealth> {
    use diesel::dsl::{count_star, max, min};
    let unsent = outbox::table.filter(outbox::sent_at.is_null());
    let (queued, oldest_queued_at) = unsent.select((count_star(), min(outbox::created_at))).get_result(conn)?;
    let failing = unsent.filter(outbox::attempts.gt(0)).count().get_result(conn)?;
    let last_sent_at = outbox::table.select(max(outbox::sent_at)).get_result(conn)?;
    let last_error = unsent
        .filter(outbox::last_error.is_not_null())
        .order(outbox::next_attempt_at.desc())
        .select(outbox::last_error)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten();
    Ok(OutboxHealth { queued, failing, oldest_queued_at, last_sent_at, last_error })
}
