//! Second factors: setting up an authenticator (with ten recovery codes shown once), the
//! code that completes a sign-in, the fresh code a sensitive action asks for (step-up), and
//! the reset a manager or an owner does for someone who lost their phone.
//!
//! Every code typed at sign-in or step-up is a counted attempt (`attempts`): wrong codes lock
//! the account like wrong passwords, so an authenticator cannot be guessed either. Each app
//! code works once, and each recovery code once.

use super::attempts::{counted_check, Checked, Secret};
use super::login::event;
use crate::app::{AppError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::metrics::Login;
use crate::store::events::{self, Actor};
use crate::store::{self, users::User};
use keydesk_core::second_factor::{
    generate_recovery_codes, is_recovery_code, may_reset_second_factor, recovery_code_hash, TotpSecret,
};
use keydesk_core::{EventKind, PlainToken};
use std::cell::Cell;

/// An authenticator being set up: what the enrolment page shows.
pub struct Enrolment {
    pub secret: TotpSecret,
    pub otpauth_uri: String,
}

/// Starts (or, after a reload, resumes) setting up an authenticator for `user`.
pub fn start_enrolment(conn: &mut DbConnection, user: &User) -> Result<Enrolment, AppError> {
    if user.has_second_factor() {
        return Err(AppError::Invalid("an authenticator is set up already: ask for a reset to change it".into()));
    }
    let secret = match user.totp_pending_secret.as_deref().and_then(TotpSecret::from_base32) {
        Some(pending) => pending,
        None => {
            let fresh = TotpSecret::generate();
            store::users::set_pending_totp(conn, user.id, &fresh.to_base32())?;
            fresh
        }
    };
    Ok(Enrolment { otpauth_uri: secret.otpauth_uri(&user.email), secret })
}

pub enum Enrolled {
    /// Set up; these recovery codes are shown now and never again.
    Done {
        recovery_codes: Vec<String>,
    },
    WrongCode,
}

/// Confirms the pending authenticator with its first code; the session then counts as having
/// passed a second factor.
pub fn confirm_enrolment(
    conn: &mut DbConnection,
    services: &Services,
    user: &User,
    session: &PlainToken,
    typed: &str,
    ip: Option<&str>,
) -> Result<Enrolled, AppError> {
    let now = services.stored_now();
    let pending = user.totp_pending_secret.clone().ok_or_else(|| AppError::Invalid("start the set-up first".into()))?;
    let secret = TotpSecret::from_base32(&pending).ok_or_else(|| AppError::Invalid("start the set-up again".into()))?;
    let Ok(step) = secret.verify(typed, services.now(), None) else { return Ok(Enrolled::WrongCode) };
    let recovery_codes = generate_recovery_codes();
    let hashes: Vec<_> = recovery_codes.iter().map(|code| recovery_code_hash(code)).collect();
    write_transaction(conn, |conn| {
        if !store::users::enrol_totp(conn, user.id, &pending, step, now)? {
            return Ok(Enrolled::WrongCode);
        }
        store::recovery_codes::replace(conn, user.id, &hashes, now)?;
        store::sessions::passed_second_factor(conn, &session.hashed(), now)?;
        let who = Actor::user(user);
        events::record(conn, event(&who, user, now, EventKind::MfaEnrolled, ip, "authenticator app"))?;
        Ok(Enrolled::Done { recovery_codes })
    })
}

/// What a second factor is typed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeFor {
    /// Finishing a sign-in: its success is the login's.
    SignIn,
    /// A fresh code before unlocking, verifying or approving.
    StepUp,
}

/// How a typed second factor ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeOutcome {
    Passed,
    /// Wrong, reused, or the account is (now) locked: one answer.
    Refused,
}

/// A code typed to finish signing in, or before a sensitive action: an app's current code or
/// a recovery code, counted like a password. On success the session has passed a second
/// factor now.
pub fn check_second_factor(
    conn: &mut DbConnection,
    services: &Services,
    user: &User,
    session: &PlainToken,
    typed: &str,
    purpose: CodeFor,
    ip: Option<&str>,
) -> Result<CodeOutcome, AppError> {
    let now = services.now();
    let secret = user.totp_secret.as_deref().and_then(TotpSecret::from_base32);
    let recovery = is_recovery_code(typed).then(|| recovery_code_hash(typed));
    let unused = match &recovery {
        Some(_) => store::recovery_codes::unused_hashes(conn, user.id)?,
        None => Vec::new(),
    };
    let step = Cell::new(None);
    let check = || match &recovery {
        Some(hash) => unused.contains(&hash.0),
        None => {
            let verified = secret.as_ref().and_then(|s| s.verify(typed, now, user.totp_last_step).ok());
            step.set(verified);
            verified.is_some()
        }
    };
    // Nothing to check (a locked account) costs about what checking costs.
    let spend = || {
        let _ = secret.as_ref().map(|s| s.verify(typed, now, None));
    };
    // Only a code that finishes a sign-in is a login step; a step-up is not.
    let count = |counted: Login| {
        if purpose == CodeFor::SignIn {
            services.metrics.login(counted);
        }
    };
    let stored_now = now.naive_utc();
    // In the transaction that resets the count.
    let use_code = |conn: &mut DbConnection| {
        // The same code sent twice at once: only one request may use it.
        let used = match (&recovery, step.get()) {
            (Some(hash), _) => store::recovery_codes::use_code(conn, user.id, hash, stored_now)?,
            (None, Some(step)) => store::users::use_totp_step(conn, user.id, step)?,
            (None, None) => false,
        };
        if !used {
            return Ok(CodeOutcome::Refused);
        }
        store::sessions::passed_second_factor(conn, &session.hashed(), stored_now)?;
        let who = Actor::user(user);
        if recovery.is_some() {
            let left = store::recovery_codes::unused(conn, user.id)?;
            let detail = format!("{left} recovery codes left");
            events::record(conn, event(&who, user, stored_now, EventKind::RecoveryCodeUsed, ip, &detail))?;
        }
        if purpose == CodeFor::SignIn {
            let detail = if recovery.is_some() { "with a recovery code" } else { "with an authenticator code" };
            let anonymous = Actor::Anonymous { typed: user.email.clone() };
            events::record(conn, event(&anonymous, user, stored_now, EventKind::LoginSucceeded, ip, detail))?;
        }
        Ok::<_, AppError>(CodeOutcome::Passed)
    };
    let outcome = match counted_check(conn, services, user, ip, Secret::SecondFactor, check, spend, use_code)? {
        Checked::Passed(outcome) => outcome,
        Checked::Wrong => {
            count(Login::WrongSecondFactor);
            return Ok(CodeOutcome::Refused);
        }
        Checked::Locked => {
            count(Login::Locked);
            return Ok(CodeOutcome::Refused);
        }
    };
    count(if outcome == CodeOutcome::Passed { Login::Success } else { Login::WrongSecondFactor });
    Ok(outcome)
}

/// Resets `target`'s second factor after a lost phone: a manager for staff, an owner for
/// their organisation's people, never one's own. The target's sessions end; they set up a new
/// authenticator at their next sign-in. Recorded as "MFA reset" with the reason.
pub fn reset(
    conn: &mut DbConnection,
    services: &Services,
    actor: &User,
    target: &User,
    reason: &str,
    ip: Option<&str>,
) -> Result<(), AppError> {
    let allowed = may_reset_second_factor(
        (actor.id.0, actor.role, actor.organisation_id),
        (target.id.0, target.role, target.organisation_id),
    );
    if !allowed {
        return Err(AppError::NotFound);
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::Invalid("say why the second factor is reset".into()));
    }
    let now = services.stored_now();
    write_transaction(conn, |conn| {
        store::users::clear_totp(conn, target.id, now)?;
        store::recovery_codes::delete_for(conn, target.id)?;
        store::sessions::delete_for_user(conn, target.id, None)?;
        events::record(conn, event(&Actor::user(actor), target, now, EventKind::MfaReset, ip, reason))?;
        Ok(())
    })
}
