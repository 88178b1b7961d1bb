//! The managers' canned replies.

use crate::db::schema::canned_replies;
use crate::db::DbConnection;
use crate::ids::UserId;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = canned_replies)]
pub struct CannedReply {
    pub id: i64,
    pub title: String,
    pub body: String,
}

/// Every canned reply, by title.
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<CannedReply>> {
    canned_replies::table.order(canned_replies::title.asc()).select(CannedReply::as_select()).load(conn)
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<CannedReply>> {
    canned_replies::table.find(id).select(CannedReply::as_select()).first(conn).optional()
}

pub fn create(conn: &mut DbConnection, title: &str, body: &str, by: UserId, now: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(canned_replies::table)
        .values((
            canned_replies::title.eq(title),
            canned_replies::body.eq(body),
            canned_replies::updated_at.eq(now),
            canned_replies::updated_by_id.eq(by),
        ))
        .execute(conn)
        .map(drop)
}

/// False when it no longer exists.
pub fn update(
    conn: &mut DbConnection,
    id: i64,
    title: &str,
    body: &str,
    by: UserId,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(canned_replies::table.find(id))
        .set((
            canned_replies::title.eq(title),
            canned_replies::body.eq(body),
            canned_replies::updated_at.eq(now),
            canned_replies::updated_by_id.eq(by),
        ))
        .execute(conn)
        .map(|rows| rows == 1)
}

pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<bool> {
    diesel::delete(canned_replies::table.find(id)).execute(conn).map(|rows| rows == 1)
}
