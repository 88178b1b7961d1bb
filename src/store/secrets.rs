//! Stored secrets other than sessions: API tokens, password-reset links and unlock PINs.
//! Only hashes are kept.

use crate::db::schema::{api_tokens, password_resets, unlock_pins};
use crate::db::DbConnection;
use crate::ids::UserId;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use keydesk_core::HashedToken;

/// An API token as stored (never the token itself, only its hash).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: UserId,
    pub created_at: NaiveDateTime,
    /// The role it was issued for.
    #[diesel(deserialize_as = String)]
    pub role: keydesk_core::Role,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

pub struct NewApiToken<'a> {
    pub user_id: UserId,
    pub hash: &'a HashedToken,
    pub role: keydesk_core::Role,
    pub expires_at: Option<NaiveDateTime>,
}

pub fn create_api_token(conn: &mut DbConnection, token: NewApiToken<'_>, now: NaiveDateTime) -> QueryResult<i64> {
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::token_hash.eq(&token.hash.0),
            api_tokens::user_id.eq(token.user_id),
            api_tokens::created_at.eq(now),
            api_tokens::role.eq(token.role.as_str()),
            api_tokens::expires_at.eq(token.expires_at),
        ))
        .returning(api_tokens::id)
        .get_result(conn)
}

pub fn api_token(conn: &mut DbConnection, token: &HashedToken) -> QueryResult<Option<ApiToken>> {
    api_tokens::table.filter(api_tokens::token_hash.eq(&token.0)).select(ApiToken::as_select()).first(conn).optional()
}

/// A user's tokens, newest first.
pub fn api_tokens_of(conn: &mut DbConnection, user_id: UserId) -> QueryResult<Vec<ApiToken>> {
    api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .order(api_tokens::id.desc())
        .select(ApiToken::as_select())
        .load(conn)
}

pub fn find_api_token(conn: &mut DbConnection, id: i64) -> QueryResult<Option<ApiToken>> {
    api_tokens::table.find(id).select(ApiToken::as_select()).first(conn).optional()
}

/// Revokes a token that is not revoked yet; false when it already was.
pub fn revoke_api_token(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(api_tokens::table.find(id).filter(api_tokens::revoked_at.is_null()))
        .set(api_tokens::revoked_at.eq(now))
        .execute(conn)
        .map(|rows| rows == 1)
}

pub fn create_password_reset(
    conn: &mut DbConnection,
    user_id: UserId,
    token: &HashedToken,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(password_resets::table)
        .values((
            password_resets::token_hash.eq(&token.0),
            password_resets::user_id.eq(user_id),
            password_resets::created_at.eq(now),
            password_resets::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map(drop)
}

/// The user of an unused, unexpired reset token.
pub fn live_password_reset(
    conn: &mut DbConnection,
    token: &HashedToken,
    now: NaiveDateTime,
) -> QueryResult<Option<(i64, UserId)>> {
    password_resets::table
        .filter(password_resets::token_hash.eq(&token.0))
        .filter(password_resets::used_at.is_null())
        .filter(password_resets::expires_at.gt(now))
        .select((password_resets::id, password_resets::user_id))
        .first(conn)
        .optional()
}

/// Marks a reset token used; false if another request used it first.
pub fn use_password_reset(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(password_resets::table.find(id).filter(password_resets::used_at.is_null()))
        .set(password_resets::used_at.eq(now))
        .execute(conn)
        .map(|rows| rows == 1)
}

/// Voids every outstanding reset link of a user (when the account locks, or the password
/// changes).
pub fn void_password_resets(conn: &mut DbConnection, user_id: UserId, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        password_resets::table.filter(password_resets::user_id.eq(user_id)).filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(now))
    .execute(conn)
}

pub fn count_password_resets(conn: &mut DbConnection, user_id: UserId) -> QueryResult<i64> {
    password_resets::table.filter(password_resets::user_id.eq(user_id)).count().get_result(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = unlock_pins)]
pub struct UnlockPin {
    pub id: i64,
    pub owner_id: UserId,
    pub target_user_id: UserId,
    pub pin_hash: String,
    pub tries: i32,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

/// Starts a PIN challenge; the hash is set right after, salted with the new row's id.
pub fn create_unlock_pin(
    conn: &mut DbConnection,
    owner_id: UserId,
    target_user_id: UserId,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<i64> {
    // A new PIN replaces any earlier one for the same owner and user.
    diesel::update(
        unlock_pins::table
            .filter(unlock_pins::owner_id.eq(owner_id))
            .filter(unlock_pins::target_user_id.eq(target_user_id))
            .filter(unlock_pins::used_at.is_null()),
    )
    .set(unlock_pins::used_at.eq(created_at))
    .execute(conn)?;
    diesel::insert_into(unlock_pins::table)
        .values((
            unlock_pins::owner_id.eq(owner_id),
            unlock_pins::target_user_id.eq(target_user_id),
            unlock_pins::pin_hash.eq(""),
            unlock_pins::created_at.eq(created_at),
            unlock_pins::expires_at.eq(expires_at),
        ))
        .returning(unlock_pins::id)
        .get_result(conn)
}

pub fn set_unlock_pin_hash(conn: &mut DbConnection, id: i64, hash: &HashedToken) -> QueryResult<()> {
    diesel::update(unlock_pins::table.find(id)).set(unlock_pins::pin_hash.eq(&hash.0)).execute(conn).map(drop)
}

/// The PIN tries spent on `target_user_id` by any owner since `since` (the current lock's
/// start).
pub fn unlock_pin_tries_since(
    conn: &mut DbConnection,
    target_user_id: UserId,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    let tries: Option<i64> = unlock_pins::table
        .filter(unlock_pins::target_user_id.eq(target_user_id))
        .filter(unlock_pins::created_at.ge(since))
        .select(diesel::dsl::sum(unlock_pins::tries))
        .first(conn)?;
    Ok(tries.unwrap_or(0))
}

/// The newest unused PIN challenge of this owner for this user.
pub fn open_unlock_pin(
    conn: &mut DbConnection,
    owner_id: UserId,
    target_user_id: UserId,
) -> QueryResult<Option<UnlockPin>> {
    unlock_pins::table
        .filter(unlock_pins::owner_id.eq(owner_id))
        .filter(unlock_pins::target_user_id.eq(target_user_id))
        .filter(unlock_pins::used_at.is_null())
        .order(unlock_pins::id.desc())
        .select(UnlockPin::as_select())
        .first(conn)
        .optional()
}

/// Counts one try atomically; returns the try number, or None if the challenge is closed.
pub fn take_unlock_pin_try(conn: &mut DbConnection, id: i64) -> QueryResult<Option<i32>> {
    diesel::update(unlock_pins::table.find(id).filter(unlock_pins::used_at.is_null()))
        .set(unlock_pins::tries.eq(unlock_pins::tries + 1))
        .returning(unlock_pins::tries)
        .get_result(conn)
        .optional()
}

pub fn close_unlock_pin(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(unlock_pins::table.find(id).filter(unlock_pins::used_at.is_null()))
        .set(unlock_pins::used_at.eq(now))
        .execute(conn)
        .map(|rows| rows == 1)
}
