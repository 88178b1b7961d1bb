//! Logging in, with lockout: the password is one counted attempt (`attempts`), so concurrent
//! guesses cannot get more verifications than the policy allows and a crash cannot leave an
//! account at the limit without its lock. Every failure, whatever its cause, looks the same
//! from outside and costs the same time.

use super::attempts::{counted_check, shadow_attempt, Checked, Secret};
use super::throttle::{self, Bucket};
use crate::app::{AppError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::mail::emails::{AccountLocked, AccountLockedAdmin};
use crate::metrics::{Login, UnlockSource};
use crate::store::events::{self, Actor, NewEvent};
use crate::store::sessions::NewSession;
use crate::store::{self, users::User};
use chrono::NaiveDateTime;
use keydesk_core::roles::UnlockPermission;
use keydesk_core::second_factor::SessionStage;
use keydesk_core::throttle::ThrottlePolicy;
use keydesk_core::{EmailAddress, EventKind, OrgRole, PlainToken, Role};

pub enum LoginOutcome {
    /// The password was right: the cookie gets this new session token, signed in or (with a
    /// second factor to come) not yet.
    LoggedIn { session: PlainToken, stage: SessionStage },
    /// Unknown email, wrong password or locked account: deliberately indistinguishable.
    Refused,
    /// This client address has used up its attempts for now; no account was touched.
    Throttled { wait: chrono::Duration },
}

pub async fn log_in(
    services: &Services,
    typed_email: &str,
    password: &str,
    ip: Option<String>,
) -> Result<LoginOutcome, AppError> {
    let (typed_email, password) = (typed_email.to_owned(), password.to_owned());
    services
        .run(move |conn, services| {
            // Counted before anything else, in one statement with its check: a burst of
            // concurrent attempts from one address cannot slip past the limit.
            let bucket = Bucket::LoginsFrom(ip.as_deref());
            let policy = services.config.throttle.logins_per_ip();
            if let Err(wait) = throttle::take(conn, services, &bucket, policy)? {
                services.metrics.login(Login::Throttled);
                return Ok(LoginOutcome::Throttled { wait });
            }
            let allowance = (&bucket, policy);
            let (outcome, counted) = attempt(conn, services, &typed_email, &password, ip.as_deref(), allowance)?;
            services.metrics.login(counted);
            Ok(outcome)
        })
        .await
}

/// The attempt's outcome, and how the metrics count it; a right password gives its count back
/// to `allowance`, the throttle bucket it was taken from.
fn attempt(
    conn: &mut DbConnection,
    services: &Services,
    typed_email: &str,
    password: &str,
    ip: Option<&str>,
    allowance: (&Bucket<'_>, ThrottlePolicy),
) -> Result<(LoginOutcome, Login), AppError> {
    let found = match EmailAddress::parse(typed_email) {
        Ok(email) => store::users::find_by_email(conn, &email)?,
        Err(_) => None,
    };
    let spend = || services.passwords.verify_dummy(password);
    let Some(user) = found else {
        // Unknown addresses leave no activity entry: what was typed may be a password.
        shadow_attempt(conn, services, spend)?;
        return Ok((LoginOutcome::Refused, Login::UnknownAccount));
    };
    let check = || services.passwords.verify(password, &user.password_hash);
    let secret = Secret::Password { second_factor_follows: user.has_second_factor() };
    match counted_check(conn, services, &user, ip, secret, check, spend)? {
        Checked::Wrong => Ok((LoginOutcome::Refused, Login::WrongPassword)),
        Checked::Locked => Ok((LoginOutcome::Refused, Login::Locked)),
        Checked::Passed => {
            let now = services.stored_now();
            // With an authenticator the code comes next; a role that requires one and has
            // none may only set one up.
            let stage = if user.has_second_factor() {
                SessionStage::AwaitingCode
            } else if services.config.mfa_policy().requires(user.role) {
                SessionStage::MustEnrol
            } else {
                SessionStage::SignedIn
            };
            write_transaction(conn, |conn| {
                // A right password uses up none of the address's allowance.
                throttle::give_back(conn, allowance.0, allowance.1)?;
                let session = PlainToken::generate();
                let ttl =
                    chrono::Duration::from_std(services.config.session_ttl).unwrap_or(chrono::Duration::hours(12));
                let new = NewSession {
                    user_id: user.id,
                    token: &session.hashed(),
                    stage,
                    second_factor_at: None,
                    expires_at: now + ttl,
                };
                store::sessions::create(conn, new, now)?;
                // With a code to come, the login succeeds when the code is right (`mfa`).
                match stage {
                    SessionStage::SignedIn => record(conn, &user, now, EventKind::LoginSucceeded, ip, "")?,
                    SessionStage::MustEnrol => {
                        record(conn, &user, now, EventKind::LoginSucceeded, ip, "must set up a second factor")?
                    }
                    SessionStage::AwaitingCode => {}
                }
                let counted =
                    if stage == SessionStage::AwaitingCode { Login::SecondFactorRequired } else { Login::Success };
                Ok((LoginOutcome::LoggedIn { session, stage }, counted))
            })
        }
    }
}

/// Locks the account once (call inside the transaction that decides it): ends its sessions, voids its reset links, records the lock and
/// queues the emails to the user and to the organisation's owner and admins. False when it
/// was locked already.
pub(super) fn lock_account(
    conn: &mut DbConnection,
    services: &Services,
    user: &User,
    now: NaiveDateTime,
    ip: Option<&str>,
) -> Result<bool, AppError> {
    if !store::users::lock(conn, user.id, now)? {
        return Ok(false);
    }
    store::sessions::delete_for_user(conn, user.id, None)?;
    store::secrets::void_password_resets(conn, user.id, now)?;
    let max = services.config.lockout.max_failed_attempts;
    record(conn, user, now, EventKind::AccountLocked, ip, &format!("{max} consecutive failed logins"))?;

    let outbox = services.outbox(now);
    let locked_at = now.format("%Y-%m-%d %H:%M").to_string();
    let email = AccountLocked {
        full_name: &user.full_name,
        email: &user.email,
        locked_at: locked_at.clone(),
        max_failed_attempts: max,
    };
    outbox.queue(conn, &user.email, &email)?;

    if let Some(org_id) = user.organisation_id {
        let organisation = store::orgs::find(conn, org_id)?.ok_or(AppError::NotFound)?;
        let colleagues = store::users::list_for_organisation(conn, org_id)?;
        let owner = colleagues.iter().find(|u| u.role == Role::Org(OrgRole::Owner)).map(|u| u.full_name.as_str());
        let unlockers = colleagues.iter().filter(|u| u.id != user.id && u.role.may_manage_users());
        for unlocker in unlockers {
            let may_unlock = unlocker.role.unlock_permission(organisation.unlock_policy) != UnlockPermission::Denied;
            let note = AccountLockedAdmin {
                full_name: &user.full_name,
                email: &user.email,
                locked_at: locked_at.clone(),
                max_failed_attempts: max,
                organisation: &organisation.name,
                unlock_link: services.config.link(&format!("/org/users/{}/unlock", user.id)),
                may_unlock,
                owner_name: owner,
            };
            outbox.queue(conn, &unlocker.email, &note)?;
        }
    }
    Ok(true)
}

pub(super) fn lift_expired_lock(
    conn: &mut DbConnection,
    services: &Services,
    user: &User,
    cutoff: NaiveDateTime,
    now: NaiveDateTime,
    ip: Option<&str>,
) -> Result<(), AppError> {
    let lifted = write_transaction(conn, |conn| {
        let lifted = store::users::unlock_if_locked_before(conn, user.id, cutoff)?;
        if lifted {
            let actor = Actor::System("Keydesk (lock expired)");
            events::record(conn, event(&actor, user, now, EventKind::AccountUnlocked, ip, "temporary lock expired"))?;
        }
        Ok::<_, AppError>(lifted)
    })?;
    if lifted {
        services.metrics.unlock(UnlockSource::Auto);
    }
    Ok(())
}

pub(super) fn record(
    conn: &mut DbConnection,
    user: &User,
    now: NaiveDateTime,
    kind: EventKind,
    ip: Option<&str>,
    detail: &str,
) -> Result<(), AppError> {
    let actor = Actor::Anonymous { typed: user.email.clone() };
    Ok(events::record(conn, event(&actor, user, now, kind, ip, detail))?)
}

/// An event about `user`, filed under their organisation.
pub fn event<'a>(
    actor: &'a Actor,
    user: &'a User,
    at: NaiveDateTime,
    kind: EventKind,
    ip: Option<&'a str>,
    detail: &'a str,
) -> NewEvent<'a> {
    NewEvent {
        at,
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
pub async fn log_out(services: &Services, session: PlainToken, user: User, ip: Option<String>) -> Result<(), AppError> {
    services
        .run(move |conn, services| {
            store::sessions::delete(conn, &session.hashed())?;
            let actor = Actor::User { id: user.id, email: user.email.clone() };
            events::record(conn, event(&actor, &user, services.stored_now(), EventKind::Logout, ip.as_deref(), ""))?;
            Ok(())
        })
        .await
}
