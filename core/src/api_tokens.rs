//! When an API token still speaks for its user. A token is issued by the operator on the
//! server for one staff member in one role; it stops working the moment that stops being
//! true — the user is locked, deleted, given another role — or when it expires or is revoked.

use crate::Role;
use chrono::{DateTime, Utc};

/// A stored token and its user as they stand now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenFacts {
    /// The role the token was issued for.
    pub issued_for: Role,
    /// The user's role now, if the user still exists.
    pub user_role: Option<Role>,
    pub user_locked: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    #[error("the token was revoked")]
    Revoked,
    #[error("the token has expired")]
    Expired,
    #[error("the token's user no longer exists")]
    UserGone,
    #[error("the token's user is locked")]
    UserLocked,
    #[error("the token's user no longer has the role it was issued for")]
    RoleChanged,
    #[error("API tokens are for support staff")]
    NotStaff,
}

/// Whether the token may act for its user at `now`.
pub fn token_admits(token: &TokenFacts, now: DateTime<Utc>) -> Result<(), TokenRefusal> {
    if token.revoked {
        return Err(TokenRefusal::Revoked);
    }
    if token.expires_at.is_some_and(|expires| expires <= now) {
        return Err(TokenRefusal::Expired);
    }
    let role = token.user_role.ok_or(TokenRefusal::UserGone)?;
    if token.user_locked {
        return Err(TokenRefusal::UserLocked);
    }
    if role != token.issued_for {
        return Err(TokenRefusal::RoleChanged);
    }
    if !role.is_staff() {
        return Err(TokenRefusal::NotStaff);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OrgRole, StaffRole};
    use chrono::Duration;

    #[test]
    fn a_token_follows_its_user() {
        let now = DateTime::parse_from_rfc3339("2026-11-24T12:00:00Z").unwrap().with_timezone(&Utc);
        let manager = Role::Staff(StaffRole::Manager);
        let good = TokenFacts {
            issued_for: manager,
            user_role: Some(manager),
            user_locked: false,
            expires_at: None,
            revoked: false,
        };
        let cases = [
            (good, Ok(())),
            (TokenFacts { expires_at: Some(now + Duration::days(1)), ..good }, Ok(())),
            (TokenFacts { expires_at: Some(now), ..good }, Err(TokenRefusal::Expired)),
            (TokenFacts { revoked: true, ..good }, Err(TokenRefusal::Revoked)),
            (TokenFacts { user_role: None, ..good }, Err(TokenRefusal::UserGone)),
            (TokenFacts { user_locked: true, ..good }, Err(TokenRefusal::UserLocked)),
            (TokenFacts { user_role: Some(Role::Staff(StaffRole::Agent)), ..good }, Err(TokenRefusal::RoleChanged)),
            (
                TokenFacts {
                    issued_for: Role::Org(OrgRole::Owner),
                    user_role: Some(Role::Org(OrgRole::Owner)),
                    ..good
                },
                Err(TokenRefusal::NotStaff),
            ),
        ];
        for (token, expected) in cases {
            assert_eq!(token_admits(&token, now), expected, "{token:?}");
        }
    }
}
