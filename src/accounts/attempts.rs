//! A counted attempt at a secret (a password, an authenticator code): the heart of lockout.
//!
//! The attempt is counted in the database *before* the secret is checked, with one atomic
//! `UPDATE … SET failed_attempts = failed_attempts + 1 … RETURNING`, so concurrent guesses
//! cannot buy more checks than the policy allows. The attempt that reaches the limit keeps
//! that transaction open while the secret is checked, and commits the outcome with it: the
//! lock, its "Account locked" entry and its emails, or the reset count. So whatever instant
//! the process dies at, the account ends either locked (with its entry and emails, all in one
//! commit) or with its count below the limit — never with the limit reached and no lock,
//! which would refuse the right secret forever. Attempts below the limit commit their count
//! first and are checked outside any transaction: a crash then leaves the count below the
//! limit, and on SQLite the database's single writer is held only for the rare last attempt.
//!
//! On PostgreSQL the count and the outcome that follows it (the failure's entry, or the
//! reset count with the session) commit without waiting for the disk
//! (`db::unflushed_transaction`), so a login waits for the disk only when it locks: a lock
//! always commits ordinarily.
//!
//! The attempt is two steps, so the login can count its throttle in the same transaction as
//! the attempt ([`reserve`], then [`settle`]); [`counted_check`] does both for one secret.
//! A right secret's reset commits with what it completes (the session), in one transaction;
//! the writes that always go with it are sent with it as one statement (`Completion`,
//! `db::execute_guarded`), one round trip after the verdict on PostgreSQL. The reset matches
//! no row once the account is locked: then the whole transaction rolls back and the lock wins.
//!
//! "Checked" here means the verdict is read: a login's Argon2 verification may already be
//! running beside the count (`verification`), but its verdict is read only where this module
//! asks for it, for an attempt the count allowed.
//!
//! Every refusal has the same shape, so none can be told apart by its time: one transaction
//! that counts, one secret verification (a dummy one when there is nothing to check), one
//! statement that records. An unknown address goes through the same three steps
//! ([`shadow_reserve`], [`shadow_settle`]) without touching any account or recording what
//! was typed.

use super::login::{lift_lock_if_expired, lock_account, record};
use crate::app::{AppError, Services};
use crate::db::{
    commit_waiting_for_disk, execute, execute_guarded, unflushed_transaction, unflushed_transaction_after, AnyWrite,
    DbConnection,
};
use crate::store::{self, users::User};
use keydesk_core::{AttemptOutcome, EventKind};

/// How a counted attempt ended (the caller answers every refusal alike; the metrics tell
/// them apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked<T> {
    /// The secret was right: the count is back to zero, and what the right secret completes
    /// (the sign-in's session, a code's use) committed with it.
    Passed(T),
    /// The secret was wrong (this attempt may have locked the account).
    Wrong,
    /// The account is locked: the secret was not checked, or a concurrent lock won.
    Locked,
}

/// The secret an attempt is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// A password; with a second factor still to come, a right one only gives back its own
    /// attempt, so the count stays where wrong codes left it: someone who knows the password
    /// cannot guess codes forever by typing it again between guesses.
    Password { second_factor_follows: bool },
    /// An authenticator or recovery code: a right one completes the sign-in.
    SecondFactor,
}

impl Secret {
    /// The activity entry a wrong one records.
    fn failed_event(self) -> EventKind {
        match self {
            Secret::Password { .. } => EventKind::LoginFailed,
            Secret::SecondFactor => EventKind::MfaCodeFailed,
        }
    }

    /// Whether a right one is the whole sign-in (the count goes back to zero) or only its
    /// first half (the count goes back to what it was).
    fn completes_sign_in(self) -> bool {
        !matches!(self, Secret::Password { second_factor_follows: true })
    }
}

/// The bucket that counts login attempts for addresses with no account (a figure for the
/// operator; what was typed is never kept).
const UNKNOWN_ADDRESS_ATTEMPTS: &str = "attempts:unknown-address";

/// What the counting transaction settled.
pub enum Reserved {
    /// Below the limit: check outside any transaction.
    Below(u32),
    /// Locked: nothing to check.
    Locked,
    /// The attempt that reached the limit, settled in the transaction (which locked the
    /// account when `locked_now`).
    Settled { checked: Checked<()>, locked_now: bool },
}

/// Counts one attempt at `user`'s `secret` and checks it with `check` (or, when there is
/// nothing to check, spends the same time with `spend`). A right secret's reset count and
/// `on_right` (what the right secret completes) commit together.
#[allow(clippy::too_many_arguments)]
pub fn counted_check<T>(
    conn: &mut DbConnection,
    services: &Services,
    user: &User,
    ip: Option<&str>,
    secret: Secret,
    check: impl FnOnce() -> bool,
    spend: impl FnOnce(),
    on_right: impl FnOnce(&mut DbConnection) -> Result<T, AppError>,
) -> Result<Checked<T>, AppError> {
    lift_lock_if_expired(conn, services, user, ip)?;
    let mut check = Some(check);
    let reserved = unflushed_transaction(conn, |conn| reserve(conn, services, user, ip, secret, &mut check))?;
    let right = Completion { writes: &[], then: on_right };
    settle(conn, services, user, ip, secret, reserved, check, spend, right)
}

/// What a right secret completes, committed with its count's reset: `writes` sent in one
/// statement with the reset (built before the verdict, so a right password costs one round
/// trip after Argon2, not one per write), then `then` (work that reads or decides, run once
/// the reset has gone through).
pub struct Completion<'w, F> {
    pub writes: &'w [AnyWrite<'w>],
    pub then: F,
}

/// Why a right secret's transaction did not commit.
enum Stopped {
    /// A concurrent attempt locked the account while this one was verified: what the
    /// transaction wrote is rolled back, and the lock wins.
    LockWon,
    Failed(AppError),
}

impl<E: Into<AppError>> From<E> for Stopped {
    fn from(error: E) -> Self {
        Stopped::Failed(error.into())
    }
}

/// The first step: counts the attempt. Call inside a `db::unflushed_transaction` (the caller's,
/// so other counts can share it). The attempt that reaches the limit is settled here, with
/// `check` taken and run inside the transaction.
pub fn reserve(
    conn: &mut DbConnection,
    services: &Services,
    user: &User,
    ip: Option<&str>,
    secret: Secret,
    check: &mut Option<impl FnOnce() -> bool>,
) -> Result<Reserved, AppError> {
    let policy = services.config.lockout_policy();
    let max = policy.max_failed_attempts;
    let Some(number) = store::users::reserve_login_attempt(conn, user.id)? else {
        return Ok(Reserved::Locked);
    };
    let number = u32::try_from(number).unwrap_or(u32::MAX);
    if number < max {
        return Ok(Reserved::Below(number));
    }
    // The attempt that reaches the limit (or, for an account an older version left at the
    // limit without a lock, any attempt past it): settled in this transaction, which is no
    // longer only a count.
    commit_waiting_for_disk(conn)?;
    let right = number == max && check.take().is_some_and(|check| check());
    // Read after the verification (Argon2's time): the lock is dated when it is decided, so
    // nothing done before it is ever taken for something done under it.
    let now = services.stored_now();
    match policy.outcome(number, right) {
        AttemptOutcome::Succeeded => {
            // The account's row is this transaction's since its count: the reset cannot miss.
            execute(conn, count_right(user, secret).as_ref())?;
            Ok(Reserved::Settled { checked: Checked::Passed(()), locked_now: false })
        }
        outcome => {
            let checked = if outcome == AttemptOutcome::FailedAndLocked {
                record(conn, user, now, secret.failed_event(), ip, &format!("attempt {number} of {max}"))?;
                Checked::Wrong
            } else {
                record(conn, user, now, EventKind::LoginFailedLocked, ip, "")?;
                Checked::Locked
            };
            let locked_now = lock_account(conn, services, user, now, ip)?;
            Ok(Reserved::Settled { checked, locked_now })
        }
    }
}

/// The second step, once the count has committed: checks the secret (below the limit) and
/// records the outcome. A right secret resets the count in the same transaction as what it
/// completes (`right`).
#[allow(clippy::too_many_arguments)]
pub fn settle<T>(
    conn: &mut DbConnection,
    services: &Services,
    user: &User,
    ip: Option<&str>,
    secret: Secret,
    reserved: Reserved,
    check: Option<impl FnOnce() -> bool>,
    spend: impl FnOnce(),
    right: Completion<'_, impl FnOnce(&mut DbConnection) -> Result<T, AppError>>,
) -> Result<Checked<T>, AppError> {
    let policy = services.config.lockout_policy();
    let now = services.stored_now();
    let number = match reserved {
        Reserved::Settled { checked: Checked::Passed(()), .. } => {
            // The count was reset with the attempt that reached the limit.
            return Ok(Checked::Passed(unflushed_transaction(conn, |conn| {
                for write in right.writes {
                    execute(conn, write.as_ref())?;
                }
                (right.then)(conn)
            })?));
        }
        Reserved::Settled { checked, locked_now } => {
            // Counted once the lock has committed.
            if locked_now {
                services.metrics.account_locked();
            }
            return Ok(if checked == Checked::Wrong { Checked::Wrong } else { Checked::Locked });
        }
        Reserved::Locked => {
            unflushed_transaction_after(conn, spend, |conn, ()| {
                record(conn, user, now, EventKind::LoginFailedLocked, ip, "")
            })?;
            return Ok(Checked::Locked);
        }
        Reserved::Below(number) => number,
    };
    let read_verdict = || check.is_some_and(|check| check());
    let count_right = count_right(user, secret);
    let settled = unflushed_transaction_after(conn, read_verdict, |conn, is_right| {
        if !is_right {
            let max = policy.max_failed_attempts;
            record(conn, user, now, secret.failed_event(), ip, &format!("attempt {number} of {max}"))?;
            return Ok(Checked::Wrong);
        }
        // The reset guards the rest: it changes nothing once the account is locked.
        if !execute_guarded(conn, count_right.as_ref(), right.writes)? {
            return Err(Stopped::LockWon);
        }
        Ok(Checked::Passed((right.then)(conn)?))
    });
    match settled {
        Ok(checked) => Ok(checked),
        Err(Stopped::LockWon) => {
            unflushed_transaction(conn, |conn| record(conn, user, now, EventKind::LoginFailedLocked, ip, ""))?;
            Ok(Checked::Locked)
        }
        Err(Stopped::Failed(error)) => Err(error),
    }
}

/// A right secret's effect on the count, which changes nothing once the account is locked.
fn count_right(user: &User, secret: Secret) -> AnyWrite<'static> {
    if secret.completes_sign_in() {
        Box::new(store::users::reset_failures_write(user.id))
    } else {
        Box::new(store::users::give_back_attempt_write(user.id))
    }
}

/// An attempt for an address with no account goes through the same three steps as any
/// refusal: a count that matches no account, `spend` (a dummy verification), and a count of
/// such attempts. Nothing about what was typed is kept.
///
/// The shadow attempt's first step, inside the caller's count transaction: the same
/// statement as `reserve`'s, matching no account.
pub fn shadow_reserve(conn: &mut DbConnection) -> Result<(), AppError> {
    Ok(store::users::reserve_login_attempt(conn, crate::ids::UserId(0)).map(drop)?)
}

/// The shadow attempt's second step, as long as `settle`'s for a wrong secret.
pub fn shadow_settle(conn: &mut DbConnection, services: &Services, spend: impl FnOnce()) -> Result<(), AppError> {
    let now = services.stored_now();
    let day = chrono::Duration::days(1);
    unflushed_transaction_after(conn, spend, |conn, ()| {
        store::throttle::count(conn, UNKNOWN_ADDRESS_ATTEMPTS, now, now - day)
    })?;
    Ok(())
}
