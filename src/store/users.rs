//! Users and their lock state. The lockout counters change only through the atomic
//! statements here, each a single UPDATE, so concurrent logins cannot race past them.

use crate::db::schema::users;
use crate::db::{DbConnection, Write};
use crate::ids::UserId;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use keydesk_core::{EmailAddress, Role, StaffRole};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub organisation_id: Option<i64>,
    pub email: String,
    pub full_name: String,
    /// An unknown stored role fails the read rather than granting anything.
    #[diesel(deserialize_as = String)]
    pub role: Role,
    pub password_hash: String,
    pub failed_attempts: i32,
    pub locked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The authenticator's shared secret (base32), once enrolled.
    pub totp_secret: Option<String>,
    /// A secret shown for enrolment and not confirmed yet.
    pub totp_pending_secret: Option<String>,
    pub totp_enrolled_at: Option<NaiveDateTime>,
    /// The last code's time step accepted: every code works once.
    pub totp_last_step: Option<i64>,
    /// When the sign-in address last changed (never: None).
    pub email_changed_at: Option<NaiveDateTime>,
}

impl User {
    pub fn has_second_factor(&self) -> bool {
        self.totp_secret.is_some()
    }
}

pub struct NewUser<'a> {
    pub organisation_id: Option<i64>,
    pub email: &'a EmailAddress,
    pub full_name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
}

pub fn insert(conn: &mut DbConnection, new: NewUser<'_>, now: NaiveDateTime) -> QueryResult<User> {
    diesel::insert_into(users::table)
        .values((
            users::organisation_id.eq(new.organisation_id),
            users::email.eq(new.email.as_str()),
            users::full_name.eq(new.full_name),
            users::role.eq(new.role.as_str()),
            users::password_hash.eq(new.password_hash),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .returning(users::id)
        .get_result::<UserId>(conn)
        .and_then(|id| users::table.find(id).select(User::as_select()).first(conn))
}

pub fn find(conn: &mut DbConnection, id: UserId) -> QueryResult<Option<User>> {
    users::table.find(id).select(User::as_select()).first(conn).optional()
}

pub fn find_by_email(conn: &mut DbConnection, email: &EmailAddress) -> QueryResult<Option<User>> {
    users::table.filter(users::email.eq(email.as_str())).select(User::as_select()).first(conn).optional()
}

/// The accounts of several addresses at once (those that have one).
pub fn by_emails(conn: &mut DbConnection, emails: &[&str]) -> QueryResult<Vec<User>> {
    if emails.is_empty() {
        return Ok(Vec::new());
    }
    users::table.filter(users::email.eq_any(emails)).select(User::as_select()).load(conn)
}

pub fn list_for_organisation(conn: &mut DbConnection, organisation_id: i64) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::organisation_id.eq(organisation_id))
        .order(users::full_name.asc())
        .select(User::as_select())
        .load(conn)
}

pub fn update_profile(
    conn: &mut DbConnection,
    id: UserId,
    full_name: &str,
    email: &EmailAddress,
    role: Role,
    now: NaiveDateTime,
) -> QueryResult<User> {
    diesel::update(users::table.find(id))
        .set((
            users::full_name.eq(full_name),
            users::email.eq(email.as_str()),
            users::role.eq(role.as_str()),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    users::table.find(id).select(User::as_select()).first(conn)
}

/// Records that the user's sign-in address was set (added or changed in Manage Users) at `now`.
pub fn address_set_at(conn: &mut DbConnection, id: UserId, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(users::table.find(id)).set(users::email_changed_at.eq(now)).execute(conn).map(drop)
}

pub fn set_password_hash(conn: &mut DbConnection, id: UserId, hash: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
        .execute(conn)
        .map(drop)
}

/// Takes the next attempt number for an unlocked account: one atomic increment, done before
/// the password is checked. `None` means the account is locked.
pub fn reserve_login_attempt(conn: &mut DbConnection, id: UserId) -> QueryResult<Option<i32>> {
    diesel::update(users::table.find(id).filter(users::locked_at.is_null()))
        .set(users::failed_attempts.eq(users::failed_attempts + 1))
        .returning(users::failed_attempts)
        .get_result(conn)
        .optional()
}

/// The statement that resets the count after a successful login, sent with the sign-in's
/// other writes (`db::execute_guarded`); it changes no row once the account is locked.
pub fn reset_failures_write(id: UserId) -> impl Write {
    diesel::update(users::table.find(id).filter(users::locked_at.is_null())).set(users::failed_attempts.eq(0))
}

/// The statement that takes back one counted attempt (a right password with a code still to
/// come); it changes no row once the account is locked.
pub fn give_back_attempt_write(id: UserId) -> impl Write {
    diesel::update(users::table.find(id).filter(users::locked_at.is_null()).filter(users::failed_attempts.gt(0)))
        .set(users::failed_attempts.eq(users::failed_attempts - 1))
}

/// Locks the account; false when it was locked already (so the caller records one lock).
pub fn lock(conn: &mut DbConnection, id: UserId, at: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(users::table.find(id).filter(users::locked_at.is_null()))
        .set(users::locked_at.eq(at))
        .execute(conn)
        .map(|rows| rows == 1)
}

/// Lifts the lock that began at `lock_began` and resets the count; false when the account is
/// not under that lock — not locked (so two unlocks at once record one), or unlocked and
/// locked again since it was read: whatever was decided about one lock never lifts another.
pub fn unlock(conn: &mut DbConnection, id: UserId, lock_began: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(users::table.find(id).filter(users::locked_at.eq(lock_began)))
        .set((users::locked_at.eq(None::<NaiveDateTime>), users::failed_attempts.eq(0)))
        .execute(conn)
        .map(|rows| rows == 1)
}

/// Lifts a lock set before `cutoff` (temporary locks); false when there was none to lift.
pub fn unlock_if_locked_before(conn: &mut DbConnection, id: UserId, cutoff: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(users::table.find(id).filter(users::locked_at.lt(cutoff)))
        .set((users::locked_at.eq(None::<NaiveDateTime>), users::failed_attempts.eq(0)))
        .execute(conn)
        .map(|rows| rows == 1)
}

pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

/// Support staff (agents, managers, operators), by name.
pub fn staff(conn: &mut DbConnection) -> QueryResult<Vec<User>> {
    let staff = [StaffRole::Agent, StaffRole::Manager, StaffRole::Operator].map(|r| Role::Staff(r).as_str());
    users::table.filter(users::role.eq_any(staff)).order(users::full_name.asc()).select(User::as_select()).load(conn)
}

/// Agents and managers, by name: the people a report can be filtered by.
pub fn support_staff(conn: &mut DbConnection) -> QueryResult<Vec<User>> {
    let desk = [Role::Staff(StaffRole::Agent), Role::Staff(StaffRole::Manager)].map(Role::as_str);
    users::table.filter(users::role.eq_any(desk)).order(users::full_name.asc()).select(User::as_select()).load(conn)
}

/// Keeps a new authenticator secret until its first code confirms it.
pub fn set_pending_totp(conn: &mut DbConnection, id: UserId, secret: &str) -> QueryResult<()> {
    diesel::update(users::table.find(id)).set(users::totp_pending_secret.eq(secret)).execute(conn).map(drop)
}

/// Makes the pending secret the authenticator, with its first code's step; false when the
/// pending secret changed meanwhile.
pub fn enrol_totp(
    conn: &mut DbConnection,
    id: UserId,
    secret: &str,
    step: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(users::table.find(id).filter(users::totp_pending_secret.eq(secret)))
        .set((
            users::totp_secret.eq(secret),
            users::totp_pending_secret.eq(None::<String>),
            users::totp_enrolled_at.eq(now),
            users::totp_last_step.eq(step),
            users::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|rows| rows == 1)
}

/// Records a code's step as used, only if it is later than the last one: two requests with
/// the same code cannot both pass.
pub fn use_totp_step(conn: &mut DbConnection, id: UserId, step: i64) -> QueryResult<bool> {
    let fresh = users::totp_last_step.is_null().or(users::totp_last_step.lt(step));
    diesel::update(users::table.find(id).filter(fresh))
        .set(users::totp_last_step.eq(step))
        .execute(conn)
        .map(|rows| rows == 1)
}

/// Forgets the authenticator (an MFA reset): the user sets up a new one.
pub fn clear_totp(conn: &mut DbConnection, id: UserId, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::totp_secret.eq(None::<String>),
            users::totp_pending_secret.eq(None::<String>),
            users::totp_enrolled_at.eq(None::<NaiveDateTime>),
            users::totp_last_step.eq(None::<i64>),
            users::updated_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}
