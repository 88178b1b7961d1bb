//! API tokens: issued by the operator on the server (`keydesk token create`) for one staff
//! member in one role, optionally expiring; listed and revoked there too. Only a token's hash
//! is stored. Whether a token still speaks for its user is the core's rule
//! (`keydesk_core::api_tokens::token_admits`), asked on every request.

use super::login::event;
use crate::app::{AppError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::store::events::{self, Actor};
use crate::store::secrets::{ApiToken, NewApiToken};
use crate::store::{self, users::User};
use chrono::NaiveDateTime;
use keydesk_core::api_tokens::{token_admits, TokenFacts};
use keydesk_core::{EmailAddress, EventKind, PlainToken};

fn staff_member(conn: &mut DbConnection, typed_email: &str) -> Result<User, AppError> {
    let email = EmailAddress::parse(typed_email).map_err(|e| AppError::Invalid(e.to_string()))?;
    let user =
        store::users::find_by_email(conn, &email)?.ok_or_else(|| AppError::Invalid(format!("no user {email}")))?;
    if !user.role.is_staff() {
        return Err(AppError::Invalid(format!(
            "{email} is not support staff: API tokens are for agents, managers and operators"
        )));
    }
    Ok(user)
}

/// A new API token for a staff user, recorded as "API token created"; the plain token is
/// shown once, only its hash is kept.
pub fn create(
    conn: &mut DbConnection,
    typed_email: &str,
    expires_at: Option<NaiveDateTime>,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<PlainToken, AppError> {
    let user = staff_member(conn, typed_email)?;
    let token = PlainToken::generate();
    write_transaction(conn, |conn| {
        let new = NewApiToken { user_id: user.id, hash: &token.hashed(), role: user.role, expires_at };
        let id = store::secrets::create_api_token(conn, new, now)?;
        let until =
            expires_at.map_or("no expiry".to_owned(), |at| format!("expires {}", at.format("%Y-%m-%d %H:%M UTC")));
        let detail = format!("token {id} for the JSON API, {until}");
        events::record(conn, event(actor, &user, now, EventKind::ApiTokenCreated, None, &detail))?;
        Ok::<_, AppError>(())
    })?;
    Ok(token)
}

/// A staff member's tokens, newest first.
pub fn list(conn: &mut DbConnection, typed_email: &str) -> Result<Vec<ApiToken>, AppError> {
    let user = staff_member(conn, typed_email)?;
    Ok(store::secrets::api_tokens_of(conn, user.id)?)
}

/// Revokes one token, recorded as "API token revoked"; false when it was revoked already.
pub fn revoke(conn: &mut DbConnection, id: i64, actor: &Actor, now: NaiveDateTime) -> Result<bool, AppError> {
    write_transaction(conn, |conn| {
        let token =
            store::secrets::find_api_token(conn, id)?.ok_or_else(|| AppError::Invalid(format!("no token {id}")))?;
        if !store::secrets::revoke_api_token(conn, id, now)? {
            return Ok(false);
        }
        if let Some(user) = store::users::find(conn, token.user_id)? {
            let detail = format!("token {id}");
            events::record(conn, event(actor, &user, now, EventKind::ApiTokenRevoked, None, &detail))?;
        }
        Ok(true)
    })
}

/// The user a token presented now speaks for, if it still does.
pub fn user_for(conn: &mut DbConnection, services: &Services, token: &PlainToken) -> Result<Option<User>, AppError> {
    let Some(stored) = store::secrets::api_token(conn, &token.hashed())? else { return Ok(None) };
    let user = store::users::find(conn, stored.user_id)?;
    let now = services.now();
    let facts = TokenFacts {
        issued_for: stored.role,
        user_role: user.as_ref().map(|u| u.role),
        user_locked: user
            .as_ref()
            .is_some_and(|u| services.config.lockout_policy().is_locked(u.locked_at, now.naive_utc())),
        expires_at: stored.expires_at.map(|at| at.and_utc()),
        revoked: stored.revoked_at.is_some(),
    };
    Ok(token_admits(&facts, now).ok().and(user))
}
