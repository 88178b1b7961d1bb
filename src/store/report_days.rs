//! A report's kept rows, per local day (`report_days`; keydesk_core::reports::settled).
//! Triggers forget a day whenever one of its tickets' report rows changes (migration
//! `report_days`); `reports::keep` writes them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::report_days;
use crate::db::DbConnection;

/// One day's kept rows.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = report_days)]
pub struct KeptDay {
    pub day_start: NaiveDateTime,
    pub day_end: NaiveDateTime,
    pub rules: String,
    pub latest_at: Option<NaiveDateTime>,
    /// The day's tickets still open when it was kept, comma-separated: a report reads them.
    pub open_ticket_ids: String,
    /// `keydesk_core::reports::encode_settled`.
    pub settled: Vec<u8>,
}

impl KeptDay {
    pub fn open_ticket_ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.open_ticket_ids.split(',').filter_map(|id| id.parse().ok())
    }
}

/// The days within `[start, end)` kept with `rules`, whose every counted history row is
/// before `as_of`, by start.
pub fn usable(
    conn: &mut DbConnection,
    start: NaiveDateTime,
    end: NaiveDateTime,
    rules: &str,
    as_of: NaiveDateTime,
) -> QueryResult<Vec<KeptDay>> {
    use report_days::dsl as d;
    let query = d::report_days
        .filter(d::day_start.ge(start))
        .filter(d::day_end.le(end))
        .filter(d::rules.eq(rules))
        .filter(d::latest_at.is_null().or(d::latest_at.lt(as_of)))
        .order(d::day_start);
    query.load(conn)
}

/// The starts of the days kept with `rules` from `since` on.
pub fn kept_since(conn: &mut DbConnection, since: NaiveDateTime, rules: &str) -> QueryResult<Vec<NaiveDateTime>> {
    use report_days::dsl as d;
    let query = d::report_days.select(d::day_start).filter(d::day_start.ge(since)).filter(d::rules.eq(rules));
    query.load(conn)
}

/// Keeps `day`, in place of whatever was kept for it.
pub fn keep(conn: &mut DbConnection, day: &KeptDay) -> QueryResult<()> {
    use report_days::dsl as d;
    diesel::delete(d::report_days.filter(d::day_start.eq(day.day_start))).execute(conn)?;
    diesel::insert_into(d::report_days).values(day).execute(conn).map(drop)
}

/// Forgets the days kept with other rules (the working hours or targets have changed since).
pub fn forget_other_rules(conn: &mut DbConnection, rules: &str) -> QueryResult<usize> {
    use report_days::dsl as d;
    diesel::delete(d::report_days.filter(d::rules.ne(rules))).execute(conn)
}

/// How many days are kept (for tests and checks).
pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    report_days::table.count().get_result(conn)
}
