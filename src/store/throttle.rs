//! The throttle's counters, shared by every Keydesk process on the database: one row per
//! bucket (a client address's logins, an account's reset emails, …), raised by one atomic
//! upsert that also starts a new window when the old one is over. Counting and checking are
//! one statement, so a burst of concurrent requests cannot slip past the limit between them.

use super::dialect::on_backend;
use crate::db::schema::throttle;
use crate::db::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct Counted {
    /// What the bucket holds now, this event included.
    #[diesel(sql_type = Integer)]
    pub count: i32,
    /// When its window began.
    #[diesel(sql_type = Timestamp)]
    pub window_start: NaiveDateTime,
}

/// Counts one event in `bucket` at `now`; a window that began at or before `expired_before`
/// is over, and the count starts again at one.
pub fn count(
    conn: &mut DbConnection,
    bucket: &str,
    now: NaiveDateTime,
    expired_before: NaiveDateTime,
) -> QueryResult<Counted> {
    const UPSERT: &str = "INSERT INTO throttle (bucket, window_start, count) VALUES ($1, $2, 1) \
        ON CONFLICT (bucket) DO UPDATE SET \
        count = CASE WHEN throttle.window_start <= $3 THEN 1 ELSE throttle.count + 1 END, \
        window_start = CASE WHEN throttle.window_start <= $3 THEN $2 ELSE throttle.window_start END \
        RETURNING count, window_start";
    on_backend!(conn, |c, dialect| {
        diesel::sql_query(dialect.statement(UPSERT))
            .bind::<Text, _>(bucket)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(expired_before)
            .get_result(c)
    })
}

/// Takes one event back (a login that turned out right does not use up the allowance).
pub fn uncount(conn: &mut DbConnection, bucket: &str) -> QueryResult<()> {
    diesel::update(throttle::table.find(bucket).filter(throttle::count.gt(0)))
        .set(throttle::count.eq(throttle::count - 1))
        .execute(conn)
        .map(drop)
}

/// Forgets windows that are over (kept small; any process may run it).
pub fn forget_before(conn: &mut DbConnection, expired_before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(throttle::table.filter(throttle::window_start.le(expired_before))).execute(conn)
}
