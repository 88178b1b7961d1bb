//! Logging in, with lockout. The attempt is counted in the database *before* the password
//! is checked (`store::users::reserve_login_attempt`), so concurrent guesses cannot get more
//! verifications than the policy allows; every failure, whatever its cause, looks the same
//! from outside and costs the same time.

use super::{AccountError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::mail::{self, EmailKind};
use crate::store::events::{self, Actor, NewEvent};
use crate::store::{self, users::User};
use keydesk_core::{AttemptOutcome, EmailAddress, EventKind, PlainToken};

pub enum LoginOutcome {
    /// Logged in: the cookie gets this new session token.
    LoggedIn { user: User, session: PlainToken },
    /// Unknown email, wrong password or locked account: deliberately indistinguishable.
    Refused,
}

pub async fn log_in(
    services: &Services,
    typed_email: &str,
    password: &str,
    ip: Option<String>,
) -> Result<LoginOutcome, AccountError> {
    let Ok(email) = EmailAddress::parse(typed_email) else {
        let passwords = services.passwords.clone();
        let password = password.to_owned();
        spawn_verify(move || passwords.verify_dummy(&password)).await?;
        return Ok(LoginOutcome::Refused);
    };
    let password = password.to_owned();
    services.run(move |conn, services| attempt(conn, services, &email, &password, ip.as_deref())).await
}

async fn spawn_verify<F: FnOnce() + Send + 'static>(work: F) -> Result<(), AccountError> {
    rocket::tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AccountError::Db(crate::db::DbError::Task(e.to_string())))
}

fn attempt(
    conn: &mut DbConnection,
    services: &Services,
    email: &EmailAddress,
    password: &str,
    ip: Option<&str>,
) -> Result<LoginOutcome, AccountError> {
    let Some(user) = store::users::find_by_email(conn, email)? else {
        // Unknown addresses leave no activity entry: what was typed may be a password.
        services.passwords.verify_dummy(password);
        return Ok(LoginOutcome::Refused);
    };
    let policy = services.config.lockout_policy();
    let now = store::now();
    if let Some(cutoff) = policy.expired_locks_before(now) {
        lift_expired_lock(conn, &user, cutoff, ip)?;
    }
    let Some(attempt_number) = store::users::reserve_login_attempt(conn, user.id)? else {
        services.passwords.verify_dummy(password);
        record(conn, &user, EventKind::LoginFailedLocked, ip, "")?;
        return Ok(LoginOutcome::Refused);
    };
    let attempt_number = u32::try_from(attempt_number).unwrap_or(u32::MAX);
    let matches = if policy.may_verify(attempt_number) {
        services.passwords.verify(password, &user.password_hash)
    } else {
        services.passwords.verify_dummy(password);
        false
    };
    let max = policy.max_failed_attempts;
    match policy.outcome(attempt_number, matches) {
        AttemptOutcome::Succeeded => write_transaction(conn, |conn| {
            // A concurrent attempt may have locked the account meanwhile: the lock wins.
            if !store::users::reset_failures(conn, user.id)? {
                record(conn, &user, EventKind::LoginFailedLocked, ip, "")?;
                return Ok(LoginOutcome::Refused);
            }
            let session = PlainToken::generate();
            let ttl = chrono::Duration::from_std(services.config.session_ttl).unwrap_or(chrono::Duration::hours(12));
            store::sessions::create(conn, user.id, &session.hashed(), now + ttl)?;
            record(conn, &user, EventKind::LoginSucceeded, ip, "")?;
            Ok(LoginOutcome::LoggedIn { user: user.clone(), session })
        }),
        AttemptOutcome::Failed => {
            record(conn, &user, EventKind::LoginFailed, ip, &format!("attempt {attempt_number} of {max}"))?;
            Ok(LoginOutcome::Refused)
        }
        AttemptOutcome::FailedAndLocked => write_transaction(conn, |conn| {
            record(conn, &user, EventKind::LoginFailed, ip, &format!("attempt {attempt_number} of {max}"))?;
            lock_account(conn, services, &user, ip)?;
            Ok(LoginOutcome::Refused)
        }),
        AttemptOutcome::RefusedLocked => {
            record(conn, &user, EventKind::LoginFailedLocked, ip, "")?;
            Ok(LoginOutcome::Refused)
        }
    }
}

/// Locks the account once: ends its sessions, voids its reset links, records the lock and
/// queues the emails to the user and to the organisation's owner and admins.
fn lock_account(
    conn: &mut DbConnection,
    services: &Services,
    user: &User,
    ip: Option<&str>,
) -> Result<(), AccountError> {
    let now = store::now();
    if !store::users::lock(conn, user.id, now)? {
        return Ok(());
    }
    store::sessions::delete_for_user(conn, user.id, None)?;
    store::secrets::void_password_resets(conn, user.id, now)?;
    let max = services.config.lockout.max_failed_attempts;
    record(conn, user, EventKind::AccountLocked, ip, &format!("{max} consecutive failed logins"))?;

    let mut context = tera::Context::new();
    context.insert("full_name", &user.full_name);
    context.insert("email", &user.email);
    context.insert("locked_at", &now.format("%Y-%m-%d %H:%M").to_string());
    context.insert("max_failed_attempts", &max);
    mail::queue(conn, &services.config, &services.mail, EmailKind::AccountLocked, &user.email, &context)?;

    if let Some(org_id) = user.organisation_id {
        let organisation = store::orgs::find(conn, org_id)?.ok_or(AccountError::NotFound)?;
        context.insert("organisation", &organisation.name);
        context.insert("unlock_link", &services.config.link(&format!("/org/users/{}/unlock", user.id)));
        let unlockers = store::users::list_for_organisation(conn, org_id)?
            .into_iter()
            .filter(|u| u.id != user.id && u.role().may_manage_users());
        for unlocker in unlockers {
            mail::queue(
                conn,
                &services.config,
                &services.mail,
                EmailKind::AccountLockedAdmin,
                &unlocker.email,
                &context,
            )?;
        }
    }
    Ok(())
}

fn lift_expired_lock(
    conn: &mut DbConnection,
    user: &User,
    cutoff: chrono::NaiveDateTime,
    ip: Option<&str>,
) -> Result<(), AccountError> {
    write_transaction(conn, |conn| {
        if store::users::unlock_if_locked_before(conn, user.id, cutoff)? {
            let actor = Actor::System("Keydesk (lock expired)");
            events::record(conn, event(&actor, user, EventKind::AccountUnlocked, ip, "temporary lock expired"))?;
        }
        Ok(())
    })
}

fn record(
    conn: &mut DbConnection,
    user: &User,
    kind: EventKind,
    ip: Option<&str>,
    detail: &str,
) -> Result<(), AccountError> {
    let actor = Actor::Anonymous { typed: user.email.clone() };
    Ok(events::record(conn, event(&actor, user, kind, ip, detail))?)
}

/// An event about `user`, filed under their organisation.
pub fn event<'a>(
    actor: &'a Actor,
    user: &'a User,
    kind: EventKind,
    ip: Option<&'a str>,
    detail: &'a str,
) -> NewEvent<'a> {
    NewEvent {
        kind,
        actor,
        target_user_id: Some(user.id),
        target_label: &user.email,
        organisation_id: user.organisation_id,
        ip,
        detail,
    }
}

/// Ends a session (logout).
pub async fn log_out(
    services: &Services,
    session: PlainToken,
    user: User,
    ip: Option<String>,
) -> Result<(), AccountError> {
    services
        .run(move |conn, _| {
            store::sessions::delete(conn, &session.hashed())?;
            let actor = Actor::User { id: user.id, email: user.email.clone() };
            events::record(conn, event(&actor, &user, EventKind::Logout, ip.as_deref(), ""))?;
            Ok(())
        })
        .await
}
