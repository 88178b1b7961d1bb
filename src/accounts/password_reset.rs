//! Forgot password. The answer to a request is the same, and takes the same time, whatever
//! the address: the lookups and the email happen in the background after the page has been
//! answered. A locked account gets no link (the seed: "you will not be able to reset your
//! password using the Forgot Password? feature"); an address asking too often, or an account
//! already sent `throttle.max_reset_emails_per_account` links this hour, gets none either.
//! Every refusal for a known account is logged.

use super::login::event;
use super::throttle::{self, Bucket};
use crate::app::{AppError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::mail::emails::PasswordReset;
use crate::store;
use crate::store::events::{self, Actor};
use keydesk_core::{EmailAddress, EventKind, PlainToken};

/// Takes a forgot-password request in the background and returns at once, so that nothing
/// about the address shows in how long the answer takes.
///
/// The work starts once the answer has gone (a normal answer takes well under a millisecond):
/// for an unknown address it is over in tens of microseconds, and finishing while the answer
/// was still being written made that answer 3-5 µs slower than a registered address's (in
/// 10 of 12 runs of `--bench timing`). A stopping server finishes it before it exits
/// (`main.rs`). Under a load that holds an answer past 20 ms the two may meet again, and then
/// the load's own jitter is far larger than the difference.
pub fn request_in_background(services: &Services, typed_email: String, ip: Option<String>) {
    let worker = services.clone();
    services.background.spawn(async move {
        rocket::tokio::time::sleep(AFTER_THE_ANSWER).await;
        let asked = worker.run(move |conn, services| request_from(conn, services, &typed_email, ip.as_deref())).await;
        if let Err(error) = asked {
            error.log_if_fault("forgot password");
        }
    });
}

/// Long past an answer's tens of microseconds, and nothing to the person waiting for the
/// email.
const AFTER_THE_ANSWER: std::time::Duration = std::time::Duration::from_millis(20);

/// A request from a client address, within that address's allowance.
fn request_from(
    conn: &mut DbConnection,
    services: &Services,
    typed_email: &str,
    ip: Option<&str>,
) -> Result<(), AppError> {
    let policy = services.config.throttle.reset_requests_per_ip();
    if throttle::take(conn, services, &Bucket::ResetRequestsFrom(ip), policy)?.is_err() {
        // The address has asked too often: nothing is looked up, nothing is sent.
        return Ok(());
    }
    request(conn, services, typed_email, ip)
}

/// Sends a reset link to the account, unless it is locked or has had its share this hour
/// (also the welcome of a user added in Manage Users).
pub fn request(
    conn: &mut DbConnection,
    services: &Services,
    typed_email: &str,
    ip: Option<&str>,
) -> Result<(), AppError> {
    let Ok(email) = EmailAddress::parse(typed_email) else { return Ok(()) };
    let Some(user) = store::users::find_by_email(conn, &email)? else { return Ok(()) };
    let actor = Actor::Anonymous { typed: user.email.clone() };
    let policy = services.config.lockout_policy();
    let now = services.stored_now();
    write_transaction(conn, |conn| {
        if policy.is_locked(user.locked_at, now) {
            let detail = "refused: the account is locked, no link sent";
            events::record(conn, event(&actor, &user, now, EventKind::PasswordResetRequested, ip, detail))?;
            return Ok(());
        }
        let policy = services.config.throttle.reset_emails_per_account();
        if throttle::take(conn, services, &Bucket::ResetEmailsTo(user.id), policy)?.is_err() {
            let detail = "refused: enough reset emails sent to this account for now, no link sent";
            events::record(conn, event(&actor, &user, now, EventKind::PasswordResetRequested, ip, detail))?;
            return Ok(());
        }
        let token = PlainToken::generate();
        let ttl = chrono::Duration::from_std(services.config.password_reset_ttl).unwrap_or(chrono::Duration::hours(1));
        store::secrets::create_password_reset(conn, user.id, &token.hashed(), now, now + ttl)?;
        let email = PasswordReset {
            full_name: &user.full_name,
            email: &user.email,
            reset_link: services.config.link(&format!("/reset-password/{}", token.expose())),
            valid_for: humantime::format_duration(services.config.password_reset_ttl).to_string(),
        };
        services.outbox(now).queue(conn, &user.email, &email)?;
        events::record(conn, event(&actor, &user, now, EventKind::PasswordResetRequested, ip, "link sent"))?;
        Ok(())
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResetOutcome {
    Done,
    /// Unknown, used, expired, or voided by a lock: one answer for all.
    LinkInvalid,
    WeakPassword(&'static str),
}

/// Whether a reset link can still be used (to show the form or an error).
pub fn link_is_live(conn: &mut DbConnection, services: &Services, token: &PlainToken) -> Result<bool, AppError> {
    Ok(store::secrets::live_password_reset(conn, &token.hashed(), services.stored_now())?.is_some())
}

pub fn complete(
    conn: &mut DbConnection,
    services: &Services,
    token: &PlainToken,
    new_password: &str,
    ip: Option<&str>,
) -> Result<ResetOutcome, AppError> {
    let now = services.stored_now();
    // The link first: a dead link never shows the form again, whatever password came with it.
    let Some((reset_id, user_id)) = store::secrets::live_password_reset(conn, &token.hashed(), now)? else {
        return Ok(ResetOutcome::LinkInvalid);
    };
    if let Err(problem) = keydesk_core::secret::check_new_password(new_password) {
        return Ok(ResetOutcome::WeakPassword(problem));
    }
    let Some(user) = store::users::find(conn, user_id)? else { return Ok(ResetOutcome::LinkInvalid) };
    if services.config.lockout_policy().is_locked(user.locked_at, now) {
        return Ok(ResetOutcome::LinkInvalid);
    }
    let hash = services.passwords.hash(new_password);
    write_transaction(conn, |conn| {
        if !store::secrets::use_password_reset(conn, reset_id, now)? {
            return Ok(ResetOutcome::LinkInvalid);
        }
        store::users::set_password_hash(conn, user.id, &hash, now)?;
        store::secrets::void_password_resets(conn, user.id, now)?;
        store::sessions::delete_for_user(conn, user.id, None)?;
        let actor = Actor::Anonymous { typed: user.email.clone() };
        events::record(conn, event(&actor, &user, now, EventKind::PasswordResetCompleted, ip, ""))?;
        Ok(ResetOutcome::Done)
    })
}
