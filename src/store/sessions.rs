//! Signed-in sessions. The cookie holds a random token; only its hash is stored, so ending
//! a session (logout, lock, password reset) is deleting rows.

use crate::db::schema::sessions;
use crate::db::{DbConnection, Write};
use crate::ids::UserId;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use keydesk_core::second_factor::SessionStage;
use keydesk_core::HashedToken;

/// A live session as the guards need it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub user_id: UserId,
    #[diesel(deserialize_as = String)]
    pub stage: SessionStage,
    /// When this session last passed a second factor.
    pub second_factor_at: Option<NaiveDateTime>,
}

pub struct NewSession<'a> {
    pub user_id: UserId,
    pub token: &'a HashedToken,
    pub stage: SessionStage,
    pub second_factor_at: Option<NaiveDateTime>,
    pub expires_at: NaiveDateTime,
}

/// The statement that opens a session, sent with the sign-in's other writes
/// (`db::execute_guarded`).
pub fn create_write(session: NewSession<'_>, now: NaiveDateTime) -> impl Write + '_ {
    diesel::insert_into(sessions::table).values((
        sessions::token_hash.eq(&session.token.0),
        sessions::user_id.eq(session.user_id),
        sessions::created_at.eq(now),
        sessions::expires_at.eq(session.expires_at),
        sessions::stage.eq(session.stage.as_str()),
        sessions::second_factor_at.eq(session.second_factor_at),
    ))
}

/// A live session.
pub fn find(conn: &mut DbConnection, token: &HashedToken, now: NaiveDateTime) -> QueryResult<Option<Session>> {
    sessions::table
        .filter(sessions::token_hash.eq(&token.0))
        .filter(sessions::expires_at.gt(now))
        .select(Session::as_select())
        .first(conn)
        .optional()
}

/// The session passed a second factor at `now` (and is fully signed in).
pub fn passed_second_factor(conn: &mut DbConnection, token: &HashedToken, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(sessions::table.filter(sessions::token_hash.eq(&token.0)))
        .set((sessions::stage.eq(SessionStage::SignedIn.as_str()), sessions::second_factor_at.eq(now)))
        .execute(conn)
        .map(drop)
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
