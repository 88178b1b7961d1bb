//! The activity log's vocabulary. The first five labels are spelled exactly as the
//! help-centre article that Keydesk was born from shows them to clinic owners.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    LoginFailed,
    LoginFailedLocked,
    AccountLocked,
    AccountUnlocked,
    AccountUnlockFailed,
    LoginSucceeded,
    Logout,
    PasswordResetRequested,
    PasswordResetCompleted,
    UnlockPinSent,
    UserCreated,
    UserUpdated,
    ApiTokenCreated,
    ApiTokenRevoked,
    MfaEnrolled,
    MfaCodeFailed,
    RecoveryCodeUsed,
    MfaReset,
    RetentionApplied,
}

impl EventKind {
    pub const ALL: [EventKind; 19] = [
        EventKind::LoginFailed,
        EventKind::LoginFailedLocked,
        EventKind::AccountLocked,
        EventKind::AccountUnlocked,
        EventKind::AccountUnlockFailed,
        EventKind::LoginSucceeded,
        EventKind::Logout,
        EventKind::PasswordResetRequested,
        EventKind::PasswordResetCompleted,
        EventKind::UnlockPinSent,
        EventKind::UserCreated,
        EventKind::UserUpdated,
        EventKind::ApiTokenCreated,
        EventKind::ApiTokenRevoked,
        EventKind::MfaEnrolled,
        EventKind::MfaCodeFailed,
        EventKind::RecoveryCodeUsed,
        EventKind::MfaReset,
        EventKind::RetentionApplied,
    ];

    /// The label people read, and the value stored in the database.
    pub fn label(self) -> &'static str {
        match self {
            EventKind::LoginFailed => "Login failed",
            EventKind::LoginFailedLocked => "Login failed (locked)",
            EventKind::AccountLocked => "Account locked",
            EventKind::AccountUnlocked => "Account unlocked",
            EventKind::AccountUnlockFailed => "Account unlock failed",
            EventKind::LoginSucceeded => "Login succeeded",
            EventKind::Logout => "Logged out",
            EventKind::PasswordResetRequested => "Password reset requested",
            EventKind::PasswordResetCompleted => "Password reset completed",
            EventKind::UnlockPinSent => "Unlock PIN sent",
            EventKind::UserCreated => "User created",
            EventKind::UserUpdated => "User updated",
            EventKind::ApiTokenCreated => "API token created",
            EventKind::ApiTokenRevoked => "API token revoked",
            EventKind::MfaEnrolled => "MFA enrolled",
            EventKind::MfaCodeFailed => "MFA code failed",
            EventKind::RecoveryCodeUsed => "Recovery code used",
            EventKind::MfaReset => "MFA reset",
            EventKind::RetentionApplied => "Retention applied",
        }
    }

    pub fn from_label(label: &str) -> Option<EventKind> {
        Self::ALL.into_iter().find(|kind| kind.label() == label)
    }
}

/// A stored action that is not one of Keydesk's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown activity {0:?}")]
pub struct UnknownEventKind(pub String);

/// How the database layer reads a stored action (its label) back.
impl TryFrom<String> for EventKind {
    type Error = UnknownEventKind;
    fn try_from(label: String) -> Result<Self, Self::Error> {
        EventKind::from_label(&label).ok_or(UnknownEventKind(label))
    }
}

/// Makes free text safe to show on one line of the log: control characters (CR, LF, tabs,
/// escapes) become visible `\u{..}` escapes, so a typed value can never forge a second entry.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_article_labels_are_exact() {
        assert_eq!(EventKind::AccountLocked.label(), "Account locked");
        assert_eq!(EventKind::AccountUnlocked.label(), "Account unlocked");
        assert_eq!(EventKind::LoginFailed.label(), "Login failed");
        assert_eq!(EventKind::LoginFailedLocked.label(), "Login failed (locked)");
        assert_eq!(EventKind::AccountUnlockFailed.label(), "Account unlock failed");
    }

    #[test]
    fn labels_round_trip() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::from_label(kind.label()), Some(kind));
        }
    }

    #[test]
    fn line_breaks_cannot_forge_entries() {
        assert_eq!(one_line("a@b.test\r\nAccount unlocked"), "a@b.test\\u{d}\\u{a}Account unlocked");
    }
}
