//! The outbox: every email is a row, written in the same transaction as the change that
//! caused it; the sender claims due rows, delivers them and marks them sent.

use crate::db::schema::outbox;
use crate::db::DbConnection;
use crate::store::dialect::on_backend;
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
    /// When it was found undeliverable as it stands: no longer tried.
    pub given_up_at: Option<NaiveDateTime>,
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
    enqueue_many(conn, &[message], now)?.pop().ok_or(diesel::result::Error::NotFound)
}

/// Several messages in one statement (intake's acknowledgements for a batch); their ids in
/// the same order.
pub fn enqueue_many(
    conn: &mut DbConnection,
    messages: &[NewOutboxMessage<'_>],
    now: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    let values: Vec<_> = messages
        .iter()
        .map(|message| {
            (
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
            )
        })
        .collect();
    if values.is_empty() {
        return Ok(Vec::new());
    }
    // Matched back by Message-ID, unique to each message: neither database promises
    // RETURNING's order.
    let inserted: Vec<(i64, String)> = on_backend!(conn, |c, _dialect| diesel::insert_into(outbox::table)
        .values(values)
        .returning((outbox::id, outbox::message_id))
        .get_results(c))?;
    let ids: std::collections::HashMap<&str, i64> = inserted.iter().map(|(id, m)| (m.as_str(), *id)).collect();
    messages.iter().map(|m| ids.get(m.message_id).copied().ok_or(diesel::result::Error::NotFound)).collect()
}

/// Claims the oldest due message until `lease_until`, or `None` when nothing is due. The row
/// is chosen under a lock and leased in the same transaction, with the conditions checked
/// again by the update, so two senders (two processes) never hold the same message. On
/// PostgreSQL a row another sender is claiming is skipped (`SKIP LOCKED`) rather than waited
/// for, so concurrent senders take different messages instead of queueing on one.
pub fn claim_next(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> QueryResult<Option<OutboxMessage>> {
    let free = outbox::claimed_until.is_null().or(outbox::claimed_until.lt(now));
    // A kind this version does not know (written by a newer one during a rolling upgrade)
    // is left to a process that does: taken here, it would fail to load at every claim and
    // hold up everything behind it.
    let known = EmailKind::ALL.map(EmailKind::as_str);
    let due = outbox::table
        .filter(outbox::kind.eq_any(known))
        .filter(outbox::sent_at.is_null())
        .filter(outbox::given_up_at.is_null())
        .filter(outbox::next_attempt_at.le(now))
        .filter(free)
        .order(outbox::id.asc())
        .limit(1)
        .select(outbox::id);
    let claim = |chosen: Option<i64>, conn: &mut DbConnection| -> QueryResult<Option<OutboxMessage>> {
        let Some(id) = chosen else { return Ok(None) };
        let won = diesel::update(outbox::table.find(id).filter(outbox::sent_at.is_null()).filter(free))
            .set(outbox::claimed_until.eq(lease_until))
            .execute(conn)?
            == 1;
        if !won {
            return Ok(None);
        }
        outbox::table.find(id).select(OutboxMessage::as_select()).first(conn).optional()
    };
    crate::db::write_transaction(conn, |conn| {
        let chosen = match conn {
            DbConnection::Postgres(pg) => due.for_update().skip_locked().first(pg).optional()?,
            // SQLite has one writer at a time: the (immediate) transaction is the lock.
            DbConnection::Sqlite(sqlite) => due.first(sqlite).optional()?,
        };
        claim(chosen, conn)
    })
}

/// Records message `id` (of `kind`) as sent; a body holding a one-time secret is cleared in
/// the same statement (`carries_a_secret`).
pub fn mark_sent(conn: &mut DbConnection, id: i64, kind: EmailKind, now: NaiveDateTime) -> QueryResult<()> {
    let sent = (
        outbox::sent_at.eq(now),
        outbox::attempts.eq(outbox::attempts + 1),
        outbox::claimed_until.eq(None::<NaiveDateTime>),
    );
    let row = outbox::table.find(id);
    if kind.carries_a_secret() {
        let cleared = (outbox::text_body.eq(SECRET_CLEARED), outbox::html_body.eq(SECRET_CLEARED));
        diesel::update(row).set((sent, cleared)).execute(conn)
    } else {
        diesel::update(row).set(sent).execute(conn)
    }
    .map(drop)
}

/// What a body holding a one-time secret reads once its message has gone or was given up.
pub const SECRET_CLEARED: &str = "(cleared once sent: it held a one-time secret)";

/// Clears message `id`'s bodies when they hold a one-time secret (`carries_a_secret`).
fn clear_secret(conn: &mut DbConnection, id: i64) -> QueryResult<()> {
    let secret_kinds = EmailKind::ALL.into_iter().filter(|kind| kind.carries_a_secret()).map(EmailKind::as_str);
    diesel::update(outbox::table.find(id).filter(outbox::kind.eq_any(secret_kinds)))
        .set((outbox::text_body.eq(SECRET_CLEARED), outbox::html_body.eq(SECRET_CLEARED)))
        .execute(conn)
        .map(drop)
}

/// What follows a failed try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Tried again from this instant.
    RetryAt(NaiveDateTime),
    /// Never tried again: it can never be sent as it stands (given up at this instant).
    GiveUp(NaiveDateTime),
}

/// Records a failed try, what follows it, and releases the claim — only if the claim is
/// still this sender's (`lease`): a sender that overran its lease must not free a message
/// another is now sending.
pub fn mark_failed(
    conn: &mut DbConnection,
    id: i64,
    lease: NaiveDateTime,
    after: AfterFailure,
    error: &str,
) -> QueryResult<()> {
    let mine = outbox::table.find(id).filter(outbox::claimed_until.eq(lease));
    let failed = (
        outbox::attempts.eq(outbox::attempts + 1),
        outbox::claimed_until.eq(None::<NaiveDateTime>),
        outbox::last_error.eq(error),
    );
    match after {
        AfterFailure::RetryAt(at) => diesel::update(mine).set((failed, outbox::next_attempt_at.eq(at))).execute(conn),
        AfterFailure::GiveUp(at) => {
            if diesel::update(mine).set((failed, outbox::given_up_at.eq(at))).execute(conn)? == 1 {
                clear_secret(conn, id)?;
            }
            Ok(1)
        }
    }
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
    /// Not sent yet and still tried (including those failing).
    pub queued: i64,
    /// Given up as undeliverable (see [`AfterFailure::GiveUp`]).
    pub given_up: i64,
    /// Not sent yet, with at least one failed attempt.
    pub failing: i64,
    pub oldest_queued_at: Option<NaiveDateTime>,
    pub last_sent_at: Option<NaiveDateTime>,
    /// The most recent failure's error, among those still unsent.
    pub last_error: Option<String>,
}

pub fn health(conn: &mut DbConnection) -> QueryResult<OutboxHealth> {
    use diesel::dsl::{count_star, max, min};
    let unsent = outbox::table.filter(outbox::sent_at.is_null()).filter(outbox::given_up_at.is_null());
    let (queued, oldest_queued_at) = unsent.select((count_star(), min(outbox::created_at))).get_result(conn)?;
    let given_up = outbox::table.filter(outbox::given_up_at.is_not_null()).count().get_result(conn)?;
    let failing = unsent.filter(outbox::attempts.gt(0)).count().get_result(conn)?;
    let last_sent_at = outbox::table.select(max(outbox::sent_at)).get_result(conn)?;
    let last_error = unsent
        .filter(outbox::last_error.is_not_null())
        .order(outbox::next_attempt_at.desc())
        .select(outbox::last_error)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten();
    Ok(OutboxHealth { queued, given_up, failing, oldest_queued_at, last_sent_at, last_error })
}
