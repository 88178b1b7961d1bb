//! Self-serve unlock by an organisation's admins or owner (the key icon in Manage Users),
//! and the owner-PIN variant. Refusals are recorded as "Account unlock failed" in the same
//! transaction that decides them, so they are outcomes here rather than errors.

use super::login::event;
use crate::app::{AppError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::ids::UserId;
use crate::mail::emails::{AccountUnlocked, UnlockPin};
use crate::metrics::UnlockSource;
use crate::store::events::{self, Actor};
use crate::store::{self, users::User};
use chrono::NaiveDateTime;
use keydesk_core::roles::UnlockPermission;
use keydesk_core::{EventKind, Pin};
use subtle::ConstantTimeEq;

/// Tries a PIN allows, and how long it lives (the second seed's product).
pub const PIN_TRIES: i32 = 5;
pub const PIN_TTL_MINUTES: i64 = 10;
/// Wrong tries all of one lock's PINs allow together: two PINs' worth for an owner's typos.
/// Without it, asking for a fresh PIN after every five wrong tries would let whoever holds an
/// owner's session guess on for good (each PIN is one in a million; the guesses add up).
pub const PIN_TRIES_PER_LOCK: i64 = 2 * PIN_TRIES as i64;
/// How long an owner's new address must have been theirs before a PIN is sent to it: a
/// stolen session could otherwise point the PIN at the thief's mailbox, and the old address,
/// told of the change, has this long to raise the alarm.
pub const PIN_ADDRESS_SETTLES_HOURS: i64 = 24;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnlockOutcome {
    Unlocked,
    /// A PIN went to the owner's mailbox; the unlock completes when it is entered.
    PinSent,
    /// Nothing to do: someone or something unlocked it already.
    NotLocked,
    /// This person may not unlock (shown greyed out; recorded).
    NotPermitted,
    /// An admin may not unlock an owner: another owner, or support, does.
    OwnersOnly,
    /// This lock's PINs have had all their tries ([`PIN_TRIES_PER_LOCK`]): support unlocks.
    PinsUsedUp,
    /// The owner's address changed less than [`PIN_ADDRESS_SETTLES_HOURS`] ago: no PIN goes to it.
    PinAddressTooNew,
    PinWrong {
        tries_left: i32,
    },
    PinExpired,
    /// No open PIN challenge: never requested, used, or out of tries.
    PinMissing,
}

/// The user `actor` may act on: one of their own organisation, never another's.
pub fn colleague(conn: &mut DbConnection, actor: &User, target_id: UserId) -> Result<User, AppError> {
    match (actor.organisation_id, store::users::find(conn, target_id)?) {
        (Some(org), Some(target)) if target.organisation_id == Some(org) => Ok(target),
        _ => Err(AppError::NotFound),
    }
}

/// The first step: the key icon's confirmed click.
pub fn request(
    conn: &mut DbConnection,
    services: &Services,
    actor: &User,
    target_id: UserId,
    ip: Option<&str>,
) -> Result<UnlockOutcome, AppError> {
    let target = colleague(conn, actor, target_id)?;
    let organisation =
        store::orgs::find(conn, target.organisation_id.unwrap_or_default())?.ok_or(AppError::NotFound)?;
    let who = Actor::user(actor);
    let now = services.stored_now();
    let outcome = write_transaction(conn, |conn| {
        let Some(lock_began) = target.locked_at else { return Ok(UnlockOutcome::NotLocked) };
        let refused = |conn: &mut DbConnection, outcome: UnlockOutcome, detail: &str| {
            events::record(conn, event(&who, &target, now, EventKind::AccountUnlockFailed, ip, detail))?;
            Ok::<_, AppError>(outcome)
        };
        match actor.role.unlock_permission(target.role, organisation.unlock_policy) {
            UnlockPermission::OwnersOnly => {
                refused(conn, UnlockOutcome::OwnersOnly, "an admin may not unlock an owner")
            }
            UnlockPermission::Denied => {
                let detail =
                    format!("{} may not unlock under the {} policy", actor.role, organisation.unlock_policy.as_str());
                refused(conn, UnlockOutcome::NotPermitted, &detail)
            }
            UnlockPermission::Unlock => {
                unlock_now(conn, services, &who, &target, now, ip, "unlocked from Manage Users")
            }
            UnlockPermission::UnlockWithPin => {
                if pins_used_up(conn, &target, lock_began)? {
                    return refused(conn, UnlockOutcome::PinsUsedUp, PINS_USED_UP);
                }
                let settles = chrono::Duration::hours(PIN_ADDRESS_SETTLES_HOURS);
                if actor.email_changed_at.is_some_and(|since| now < since + settles) {
                    let detail = "the owner's address is less than a day old";
                    return refused(conn, UnlockOutcome::PinAddressTooNew, detail);
                }
                let expires = now + chrono::Duration::minutes(PIN_TTL_MINUTES);
                let challenge = store::secrets::create_unlock_pin(conn, actor.id, target.id, now, expires)?;
                let pin = Pin::generate();
                store::secrets::set_unlock_pin_hash(conn, challenge, &pin.hashed(&challenge.to_string()))?;
                let email = UnlockPin { full_name: &target.full_name, pin: pin.expose() };
                services.outbox(now).queue(conn, &actor.email, &email)?;
                events::record(
                    conn,
                    event(&who, &target, now, EventKind::UnlockPinSent, ip, "PIN emailed to the owner"),
                )?;
                Ok(UnlockOutcome::PinSent)
            }
        }
    })?;
    count_unlock(services, &outcome, UnlockSource::Admin);
    Ok(outcome)
}

/// Whether the PINs asked for about `target` since `lock_began` have had the lock's
/// allowance of tries ([`PIN_TRIES_PER_LOCK`]), whichever owner asked.
fn pins_used_up(conn: &mut DbConnection, target: &User, lock_began: NaiveDateTime) -> Result<bool, AppError> {
    Ok(store::secrets::unlock_pin_tries_since(conn, target.id, lock_began)? >= PIN_TRIES_PER_LOCK)
}

/// How a refusal for [`pins_used_up`] is recorded.
const PINS_USED_UP: &str = "this lock's PINs have had all their tries";

/// Counts a committed unlock.
fn count_unlock(services: &Services, outcome: &UnlockOutcome, source: UnlockSource) {
    if *outcome == UnlockOutcome::Unlocked {
        services.metrics.unlock(source);
    }
}

/// The second step of an owner-PIN unlock: the PIN as typed.
pub fn confirm_pin(
    conn: &mut DbConnection,
    services: &Services,
    actor: &User,
    target_id: UserId,
    typed: &str,
    ip: Option<&str>,
) -> Result<UnlockOutcome, AppError> {
    let target = colleague(conn, actor, target_id)?;
    let organisation =
        store::orgs::find(conn, target.organisation_id.unwrap_or_default())?.ok_or(AppError::NotFound)?;
    let who = Actor::user(actor);
    let now = services.stored_now();
    let outcome = write_transaction(conn, |conn| {
        let failed = |conn: &mut DbConnection, outcome: UnlockOutcome, detail: &str| {
            events::record(conn, event(&who, &target, now, EventKind::AccountUnlockFailed, ip, detail))?;
            Ok::<_, AppError>(outcome)
        };
        // Asked for when the actor could, entered when they no longer can (demoted, or the
        // policy changed): the PIN confirms a permission that is gone.
        if actor.role.unlock_permission(target.role, organisation.unlock_policy) != UnlockPermission::UnlockWithPin {
            return failed(conn, UnlockOutcome::NotPermitted, "no longer permitted to unlock with a PIN");
        }
        let Some(challenge) = store::secrets::open_unlock_pin(conn, actor.id, target.id)? else {
            return failed(conn, UnlockOutcome::PinMissing, "no open PIN");
        };
        if challenge.expires_at <= now {
            store::secrets::close_unlock_pin(conn, challenge.id, now)?;
            return failed(conn, UnlockOutcome::PinExpired, "PIN expired");
        }
        // Asked for under an earlier lock (unlocked another way and locked again since), it
        // confirms nothing about this one.
        if target.locked_at.is_some_and(|lock_began| challenge.created_at < lock_began) {
            store::secrets::close_unlock_pin(conn, challenge.id, now)?;
            return failed(conn, UnlockOutcome::PinExpired, "PIN from before the current lock");
        }
        // This PIN's tries so far count too.
        if pins_used_up(conn, &target, target.locked_at.unwrap_or(challenge.created_at))? {
            store::secrets::close_unlock_pin(conn, challenge.id, now)?;
            return failed(conn, UnlockOutcome::PinsUsedUp, PINS_USED_UP);
        }
        let Some(try_number) = store::secrets::take_unlock_pin_try(conn, challenge.id)? else {
            return failed(conn, UnlockOutcome::PinMissing, "no open PIN");
        };
        let right = Pin::from_input(typed)
            .map(|pin| pin.hashed(&challenge.id.to_string()))
            .is_some_and(|hash| bool::from(hash.0.as_bytes().ct_eq(challenge.pin_hash.as_bytes())));
        if !right {
            let tries_left = (PIN_TRIES - try_number).max(0);
            if tries_left == 0 {
                store::secrets::close_unlock_pin(conn, challenge.id, now)?;
            }
            return failed(
                conn,
                UnlockOutcome::PinWrong { tries_left },
                &format!("wrong PIN (try {try_number} of {PIN_TRIES})"),
            );
        }
        store::secrets::close_unlock_pin(conn, challenge.id, now)?;
        unlock_now(conn, services, &who, &target, now, ip, "unlocked by the owner with a PIN")
    })?;
    count_unlock(services, &outcome, UnlockSource::OwnerPin);
    Ok(outcome)
}

/// Unlocks, resets the count, records it and tells the user, or reports it was not locked.
/// Call inside a transaction; the caller counts the unlock once it has committed.
pub fn unlock_now(
    conn: &mut DbConnection,
    services: &Services,
    who: &Actor,
    target: &User,
    now: NaiveDateTime,
    ip: Option<&str>,
    detail: &str,
) -> Result<UnlockOutcome, AppError> {
    // The lock as `target` was read: the decision to unlock was made about that one.
    let Some(lock_began) = target.locked_at else { return Ok(UnlockOutcome::NotLocked) };
    if !store::users::unlock(conn, target.id, lock_began)? {
        return Ok(UnlockOutcome::NotLocked);
    }
    events::record(conn, event(who, target, now, EventKind::AccountUnlocked, ip, detail))?;
    let email = AccountUnlocked {
        full_name: &target.full_name,
        email: &target.email,
        forgot_password_link: services.config.link("/forgot-password"),
    };
    services.outbox(now).queue(conn, &target.email, &email)?;
    Ok(UnlockOutcome::Unlocked)
}
