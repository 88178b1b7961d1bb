//! Recovery codes: single-use second factors for a lost phone. Only their hashes are kept.

use crate::db::schema::recovery_codes;
use crate::db::DbConnection;
use crate::ids::UserId;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use keydesk_core::HashedToken;

/// Replaces a user's codes with these.
pub fn replace(
    conn: &mut DbConnection,
    user_id: UserId,
    hashes: &[HashedToken],
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))).execute(conn)?;
    let rows: Vec<_> = hashes
        .iter()
        .map(|hash| {
            (
                recovery_codes::user_id.eq(user_id),
                recovery_codes::code_hash.eq(&hash.0),
                recovery_codes::created_at.eq(now),
            )
        })
        .collect();
    for row in rows {
        diesel::insert_into(recovery_codes::table).values(row).execute(conn)?;
    }
    Ok(())
}

/// Uses one of the user's unused codes; false when it is not one (or was used).
pub fn use_code(conn: &mut DbConnection, user_id: UserId, hash: &HashedToken, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::code_hash.eq(&hash.0))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(now))
    .execute(conn)
    .map(|rows| rows == 1)
}

/// The hashes of a user's unused codes.
pub fn unused_hashes(conn: &mut DbConnection, user_id: UserId) -> QueryResult<Vec<String>> {
    recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .filter(recovery_codes::used_at.is_null())
        .select(recovery_codes::code_hash)
        .load(conn)
}

pub fn unused(conn: &mut DbConnection, user_id: UserId) -> QueryResult<i64> {
    recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)
}

pub fn delete_for(conn: &mut DbConnection, user_id: UserId) -> QueryResult<usize> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))).execute(conn)
}
