//! Logging in, with lockout: the password is one counted attempt (`attempts`), so concurrent
//! guesses cannot get more verifications than the policy allows and a crash cannot leave an
//! account at the limit without its lock. Every failure, whatever its cause, looks the same
//! from outside and costs the same time.

use super::attempts::{reserve, settle, shadow_reserve, shadow_settle, Checked, Completion, Reserved, Secret};
use super::throttle::{self, Bucket};
use super::verification::Verification;
use crate::app::{AppError, Services};
use crate::db::{unflushed_transaction, write_transaction, AnyWrite, DbConnection};
use crate::mail::emails::{AccountLocked, AccountLockedAdmin};
use crate::metrics::{Login, UnlockSource};
use crate::store::events::{self, Actor, NewEvent};
use crate::store::sessions::NewSession;
use crate::store::{self, users::User};
use chrono::NaiveDateTime;
use keydesk_core::roles::UnlockPermission;
use keydesk_core::second_factor::SessionStage;
use keydesk_core::{EmailAddress, EventKind, HashedToken, OrgRole, PlainToken, Role};

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
            let (outcome, counted) = attempt(conn, services, &typed_email, &password, ip.as_deref())?;
            services.metrics.login(counted);
            Ok(outcome)
        })
        .await
}

/// What the login's counting transaction settled.
enum Counted {
    Throttled(chrono::Duration),
    UnknownAccount,
    Attempt(Reserved),
}

/// The attempt's outcome, and how the metrics count it. The throttle's count and the
/// attempt's share one transaction; a right password gives the throttle's count back in the
/// transaction that opens the session.
fn attempt(
    conn: &mut DbConnection,
    services: &Services,
    typed_email: &str,
    password: &str,
    ip: Option<&str>,
) -> Result<(LoginOutcome, Login), AppError> {
    let found = match EmailAddress::parse(typed_email) {
        Ok(email) => store::users::find_by_email(conn, &email)?,
        Err(_) => None,
    };
    if let Some(user) = &found {
        lift_lock_if_expired(conn, services, user, ip)?;
    }
    let bucket = Bucket::LoginsFrom(ip);
    let policy = services.config.throttle.logins_per_ip();
    let secret = Secret::Password { second_factor_follows: found.as_ref().is_some_and(User::has_second_factor) };
    let now = services.stored_now();
    // Only where the count's round trips cost more than handing the verification to another
    // thread: on PostgreSQL. SQLite counts in about 0.1 ms, inside this process.
    let beside_the_count =
        matches!(conn, DbConnection::Postgres(_)) && !services.throttled_addresses.is_throttled(ip, now);
    let hash = found.as_ref().map(|user| user.password_hash.as_str());
    let verification = Verification::start(&services.verifiers, password, hash, beside_the_count);
    let mut check = found.as_ref().map(|_| || verification.verdict());
    // Counted in one statement with its check: a burst of concurrent attempts from one
    // address cannot slip past the limit. The verdict is read only once this allows it.
    let counted = unflushed_transaction(conn, |conn| {
        if let Err(wait) = throttle::take(conn, services, &bucket, policy)? {
            return Ok::<_, AppError>(Counted::Throttled(wait));
        }
        Ok(match &found {
            None => {
                shadow_reserve(conn)?;
                Counted::UnknownAccount
            }
            Some(user) => Counted::Attempt(reserve(conn, services, user, ip, secret, &mut check)?),
        })
    })?;
    let (user, reserved) = match (counted, found.as_ref()) {
        (Counted::Throttled(wait), _) => {
            services.throttled_addresses.refused(ip, now + wait, now);
            return Ok((LoginOutcome::Throttled { wait }, Login::Throttled));
        }
        (Counted::Attempt(reserved), Some(user)) => (user, reserved),
        _ => {
            // Unknown addresses leave no activity entry: what was typed may be a password.
            shadow_settle(conn, services, || verification.spend())?;
            return Ok((LoginOutcome::Refused, Login::UnknownAccount));
        }
    };
    let password_attempt = PasswordAttempt { user, ip, secret, bucket: &bucket };
    settle_login(conn, services, password_attempt, reserved, check, || verification.spend())
}

/// A counted login attempt at one account's password, from one address.
struct PasswordAttempt<'a> {
    user: &'a User,
    ip: Option<&'a str>,
    secret: Secret,
    bucket: &'a Bucket<'a>,
}

/// The login's second step, once its attempt is counted: the verdict, and the session a right
/// password opens.
fn settle_login(
    conn: &mut DbConnection,
    services: &Services,
    password_attempt: PasswordAttempt<'_>,
    reserved: Reserved,
    check: Option<impl FnOnce() -> bool>,
    spend: impl FnOnce(),
) -> Result<(LoginOutcome, Login), AppError> {
    let PasswordAttempt { user, ip, secret, bucket } = password_attempt;
    let sign_in = SignIn::prepare(services, user);
    let writes = sign_in.writes(services, user, bucket, ip);
    let right = Completion { writes: &writes, then: |_: &mut DbConnection| Ok(()) };
    let checked = settle(conn, services, user, ip, secret, reserved, check, spend, right)?;
    drop(writes);
    match checked {
        Checked::Wrong => Ok((LoginOutcome::Refused, Login::WrongPassword)),
        Checked::Locked => Ok((LoginOutcome::Refused, Login::Locked)),
        Checked::Passed(()) => {
            let SignIn { session, stage, .. } = sign_in;
            let counted =
                if stage == SessionStage::AwaitingCode { Login::SecondFactorRequired } else { Login::Success };
            Ok((LoginOutcome::LoggedIn { session, stage }, counted))
        }
    }
}

/// With an authenticator the code comes next; a role that requires one and has none may
/// only set one up.
fn session_stage(services: &Services, user: &User) -> SessionStage {
    if user.has_second_factor() {
        SessionStage::AwaitingCode
    } else if services.config.mfa_policy().requires(user.role) {
        SessionStage::MustEnrol
    } else {
        SessionStage::SignedIn
    }
}

/// The session a right password opens, prepared before its verdict: its writes go in one
/// statement with the count's reset (`attempts::Completion`).
struct SignIn {
    session: PlainToken,
    token: HashedToken,
    stage: SessionStage,
    actor: Actor,
    now: NaiveDateTime,
}

impl SignIn {
    fn prepare(services: &Services, user: &User) -> SignIn {
        let session = PlainToken::generate();
        let token = session.hashed();
        let actor = Actor::Anonymous { typed: user.email.clone() };
        SignIn { session, token, stage: session_stage(services, user), actor, now: services.stored_now() }
    }

    /// The address's attempt given back (a right password uses up none of its allowance), the
    /// session, and "Login succeeded" unless a code is still to come (then `mfa` records it).
    fn writes<'a>(
        &'a self,
        services: &Services,
        user: &'a User,
        bucket: &Bucket<'_>,
        ip: Option<&'a str>,
    ) -> Vec<AnyWrite<'a>> {
        let policy = services.config.throttle.logins_per_ip();
        let ttl = chrono::Duration::from_std(services.config.session_ttl).unwrap_or(chrono::Duration::hours(12));
        let (stage, now) = (self.stage, self.now);
        let new =
            NewSession { user_id: user.id, token: &self.token, stage, second_factor_at: None, expires_at: now + ttl };
        let mut writes: Vec<AnyWrite<'a>> = Vec::with_capacity(3);
        writes.extend(throttle::give_back_write(bucket, policy));
        writes.push(Box::new(store::sessions::create_write(new, now)));
        let detail = match stage {
            SessionStage::SignedIn => Some(""),
            SessionStage::MustEnrol => Some("must set up a second factor"),
            SessionStage::AwaitingCode => None,
        };
        if let Some(detail) = detail {
            let entry = event(&self.actor, user, now, EventKind::LoginSucceeded, ip, detail);
            writes.push(Box::new(events::record_write(entry)));
        }
        writes
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
        let owner = colleagues
            .iter()
            .find(|u| u.id != user.id && u.role == Role::Org(OrgRole::Owner))
            .map(|u| u.full_name.as_str());
        let unlockers = colleagues.iter().filter(|u| u.id != user.id && u.role.may_manage_users());
        for unlocker in unlockers {
            let may_unlock = match unlocker.role.unlock_permission(user.role, organisation.unlock_policy) {
                UnlockPermission::Unlock | UnlockPermission::UnlockWithPin => true,
                UnlockPermission::Denied => false,
                // A locked owner is unlocked by another owner or by support: an admin told to
                // "ask the owner" could only ask the locked one.
                UnlockPermission::OwnersOnly => continue,
            };
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

/// Lifts `user`'s lock when locks expire and theirs has (as loaded: a lock set since is
/// recent, so not expired; the update checks again).
pub(super) fn lift_lock_if_expired(
    conn: &mut DbConnection,
    services: &Services,
    user: &User,
    ip: Option<&str>,
) -> Result<(), AppError> {
    let now = services.stored_now();
    let Some(cutoff) = services.config.lockout_policy().expired_locks_before(now) else { return Ok(()) };
    if user.locked_at.is_none_or(|at| at >= cutoff) {
        return Ok(());
    }
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
