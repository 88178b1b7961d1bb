//! The throttle's counters, shared by every Keydesk process on the database: one row per
//! bucket (a client address's logins, an account's reset emails, …), raised by one atomic
//! upsert that also starts a new window when the old one is over. Counting and checking are
//! one statement, so a burst of concurrent requests cannot slip past the limit between them.

use super::dialect::on_backend;
use crate::db::schema::throttle;
use crate::db::{DbConnection, Write};
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
    let counted = count_many(conn, &[bucket], now, expired_before)?;
    counted.into_iter().next().map(|c| c.counted).ok_or(diesel::result::Error::NotFound)
}

/// How a counted event meets its bucket's row: `$1` is now, `$2` when an older window is over.
const ON_CONFLICT: &str = "ON CONFLICT (bucket) DO UPDATE SET \
    count = CASE WHEN throttle.window_start <= $2 THEN 1 ELSE throttle.count + 1 END, \
    window_start = CASE WHEN throttle.window_start <= $2 THEN $1 ELSE throttle.window_start END \
    RETURNING bucket, count, window_start";

/// A bucket's count, as [`count_many`] returns it.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct CountedIn {
    #[diesel(sql_type = Text)]
    pub bucket: String,
    #[diesel(embed)]
    pub counted: Counted,
}

/// As [`count`], one event in each of several distinct buckets, in one statement (intake's
/// batch: one per new ticket). The buckets must differ: a statement may raise a row once.
pub fn count_many(
    conn: &mut DbConnection,
    buckets: &[&str],
    now: NaiveDateTime,
    expired_before: NaiveDateTime,
) -> QueryResult<Vec<CountedIn>> {
    if buckets.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<String> = (3..buckets.len() + 3).map(|n| format!("(${n}, $1, 1)")).collect();
    let upsert = format!("INSERT INTO throttle (bucket, window_start, count) VALUES {} {ON_CONFLICT}", rows.join(", "));
    on_backend!(conn, |c, dialect| {
        let statement = dialect.statement(&upsert);
        let mut query =
            diesel::sql_query(statement).into_boxed().bind::<Timestamp, _>(now).bind::<Timestamp, _>(expired_before);
        for bucket in buckets {
            query = query.bind::<Text, _>(*bucket);
        }
        query.load(c)
    })
}

/// The statement that takes one event back (a login that turned out right does not use up
/// the allowance), sent with the login's other writes (`db::execute_guarded`).
pub fn uncount_write(bucket: String) -> impl Write {
    diesel::update(throttle::table.find(bucket).filter(throttle::count.gt(0)))
        .set(throttle::count.eq(throttle::count - 1))
}

/// Forgets windows that are over (kept small; any process may run it).
pub fn forget_before(conn: &mut DbConnection, expired_before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(throttle::table.filter(throttle::window_start.le(expired_before))).execute(conn)
}
