//! Signed-in sessions. The cookie holds a random token; only its hash is stored, so ending
//! a session (logout, lock, password reset) is deleting rows.

use crate::db::schema::sessions;
use crate::db::DbConnection;
use crate::ids::UserId;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use keydesk_core::HashedToken;

pub fn create(
    conn: &mut DbConnection,
    user_id: UserId,
    token: &HashedToken,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(&token.0),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map(drop)
}

/// The user a live session belongs to.
pub fn user_for(conn: &mut DbConnection, token: &HashedToken, now: NaiveDateTime) -> QueryResult<Option<UserId>> {
    sessions::table
        .filter(sessions::token_hash.eq(&token.0))
        .filter(sessions::expires_at.gt(now))
        .select(sessions::user_id)
        .first(conn)
        .optional()
}

pub fn delete(conn: &mut DbConnection, token: &HashedToken) -> QueryResult<()> {
    diesel::delete(sessions::table.filter(sessions::token_hash.eq(&token.0))).execute(conn).map(drop)
}

/// Ends every session of a user, or every one but `keep`.
pub fn delete_for_user(conn: &mut DbConnection, user_id: UserId, keep: Option<&HashedToken>) -> QueryResult<usize> {
    let mut query = diesel::delete(sessions::table).filter(sessions::user_id.eq(user_id)).into_boxed();
    if let Some(keep) = keep {
        query = query.filter(sessions::token_hash.ne(&keep.0));
    }
    query.execute(conn)
}

pub fn count_for_user(conn: &mut DbConnection, user_id: UserId) -> QueryResult<i64> {
    sessions::table.filter(sessions::user_id.eq(user_id)).count().get_result(conn)
}
