//! Creating and updating organisations, users and API tokens: from the command line (the
//! operator) and from Manage Users (an organisation's admins and owner).

use super::login::event;
use crate::app::{AppError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::ids::UserId;
use crate::mail::emails::SignInAddressChanged;
use crate::store::events::{self, Actor};
use crate::store::orgs::Organisation;
use crate::store::users::{NewUser, User};
use crate::store::{self, is_unique_violation};
use chrono::NaiveDateTime;
use keydesk_core::{EmailAddress, EventKind, OrgRole, Role, UnlockPolicy};

pub fn create_organisation(
    conn: &mut DbConnection,
    name: &str,
    slug: &str,
    policy: UnlockPolicy,
    now: NaiveDateTime,
) -> Result<Organisation, AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::Invalid("the organisation needs a name".into()));
    }
    let valid_slug = !slug.is_empty()
        && slug.len() <= 63
        && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid_slug {
        return Err(AppError::Invalid(format!("slug {slug:?} must be lower-case letters, digits and dashes")));
    }
    store::orgs::create(conn, name, slug, policy, now).map_err(|e| {
        if is_unique_violation(&e) {
            AppError::Invalid(format!("an organisation with slug {slug:?} already exists"))
        } else {
            e.into()
        }
    })
}

/// What someone asks to create or change.
pub struct UserDetails<'a> {
    pub email: &'a str,
    pub full_name: &'a str,
    pub role: Role,
    pub organisation: Option<&'a Organisation>,
}

fn checked(details: &UserDetails<'_>) -> Result<(EmailAddress, String), AppError> {
    let email = EmailAddress::parse(details.email).map_err(|e| AppError::Invalid(e.to_string()))?;
    let full_name = details.full_name.split_whitespace().collect::<Vec<_>>().join(" ");
    if full_name.is_empty() {
        return Err(AppError::Invalid("enter the person's full name".into()));
    }
    match (details.role, details.organisation) {
        (Role::Org(_), None) => Err(AppError::Invalid(format!("role {} needs an organisation (--org)", details.role))),
        (Role::Staff(_), Some(_)) => {
            Err(AppError::Invalid(format!("role {} is support staff and has no organisation", details.role)))
        }
        _ => Ok((email, full_name)),
    }
}

/// For the operator, who may know: the address is taken.
const DUPLICATE: &str = "a user with this email address already exists";

/// For an organisation's admins and owner, the same answer whether the address belongs to a
/// colleague, to another organisation's user or to staff: Manage Users must not reveal who
/// has an account anywhere.
const UNAVAILABLE: &str =
    "this address cannot be used here. If the person already has a Keydesk account, ask support to help";

fn duplicate_email(e: diesel::result::Error) -> AppError {
    if is_unique_violation(&e) {
        AppError::Invalid(DUPLICATE.into())
    } else {
        e.into()
    }
}

/// A refusal as an organisation's admin or owner may hear it.
fn for_the_organisation(error: AppError) -> AppError {
    match error {
        AppError::Invalid(problem) if problem == DUPLICATE => AppError::Invalid(UNAVAILABLE.into()),
        other => other,
    }
}

/// Creates a user with the given password hash; `actor` is `Actor::System` from the command line.
pub fn create_user(
    conn: &mut DbConnection,
    details: UserDetails<'_>,
    password_hash: &str,
    actor: &Actor,
    ip: Option<&str>,
    now: NaiveDateTime,
) -> Result<User, AppError> {
    let (email, full_name) = checked(&details)?;
    write_transaction(conn, |conn| {
        let new = NewUser {
            organisation_id: details.organisation.map(|o| o.id),
            email: &email,
            full_name: &full_name,
            role: details.role,
            password_hash,
        };
        let user = store::users::insert(conn, new, now).map_err(duplicate_email)?;
        let detail = format!("role {}", user.role);
        events::record(conn, event(actor, &user, now, EventKind::UserCreated, ip, &detail))?;
        Ok(user)
    })
}

/// Roles an organisation's admins and owner may hand out: only an owner makes owners.
pub fn assignable_roles(actor: &User) -> Vec<Role> {
    match actor.role {
        Role::Org(OrgRole::Owner) => {
            vec![Role::Org(OrgRole::Member), Role::Org(OrgRole::Admin), Role::Org(OrgRole::Owner)]
        }
        Role::Org(OrgRole::Admin) => vec![Role::Org(OrgRole::Member), Role::Org(OrgRole::Admin)],
        _ => vec![],
    }
}

/// Manage Users: add a colleague; they choose their password from a link emailed to them.
/// The user, their "User created" entry and the welcome link commit together or not at all.
pub fn add_colleague(
    conn: &mut DbConnection,
    services: &Services,
    actor: &User,
    email: &str,
    full_name: &str,
    role: Role,
    ip: Option<&str>,
) -> Result<User, AppError> {
    if !assignable_roles(actor).contains(&role) {
        return Err(AppError::Forbidden);
    }
    let organisation =
        store::orgs::find(conn, actor.organisation_id.ok_or(AppError::Forbidden)?)?.ok_or(AppError::NotFound)?;
    let who = Actor::user(actor);
    let details = UserDetails { email, full_name, role, organisation: Some(&organisation) };
    let unusable = super::passwords::Passwords::unusable_hash();
    write_transaction(conn, |conn| {
        let now = services.stored_now();
        let user = create_user(conn, details, &unusable, &who, ip, now).map_err(for_the_organisation)?;
        // An address someone in the organisation just typed, as a changed one is: an owner
        // added by a stolen session gets no unlock PIN for a day.
        store::users::address_set_at(conn, user.id, now)?;
        // The welcome is a password-reset link: one mechanism for choosing a password.
        super::password_reset::request(conn, services, &user.email, ip)?;
        Ok(user)
    })
}

/// Manage Users: change a colleague's name, email or role.
pub fn update_colleague(
    conn: &mut DbConnection,
    services: &Services,
    actor: &User,
    target_id: UserId,
    change: UserDetails<'_>,
    ip: Option<&str>,
) -> Result<User, AppError> {
    let target = super::unlock::colleague(conn, actor, target_id)?;
    let allowed = assignable_roles(actor);
    // Admins may not touch an owner, nor hand out a role they could not.
    if !allowed.contains(&change.role) || !allowed.contains(&target.role) {
        return Err(AppError::Forbidden);
    }
    let organisation =
        store::orgs::find(conn, target.organisation_id.unwrap_or_default())?.ok_or(AppError::NotFound)?;
    let (email, full_name) = checked(&UserDetails { organisation: Some(&organisation), ..change })?;
    let who = Actor::user(actor);
    let now = services.stored_now();
    write_transaction(conn, |conn| {
        let updated = store::users::update_profile(conn, target.id, &full_name, &email, change.role, now)
            .map_err(duplicate_email)
            .map_err(for_the_organisation)?;
        let detail = format!("name {:?}, email {}, role {}", updated.full_name, updated.email, updated.role);
        events::record(conn, event(&who, &updated, now, EventKind::UserUpdated, ip, &detail))?;
        after_identity_change(conn, services, actor, (&target, &updated), &organisation, now)?;
        Ok(updated)
    })
}

/// What a changed sign-in address or role undoes, in the change's transaction. A new
/// address: the old one is told (it is the one an impostor does not hold: whoever holds the
/// new one can now reset the password), and reset links sent before are void. Either change:
/// the user's sessions end, so the next one is made under the new address and role (a role
/// that needs a second factor asks for it at sign-in).
fn after_identity_change(
    conn: &mut DbConnection,
    services: &Services,
    actor: &User,
    (before, after): (&User, &User),
    organisation: &Organisation,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let address_changed = before.email != after.email;
    if address_changed {
        store::users::address_set_at(conn, after.id, now)?;
        store::secrets::void_password_resets(conn, after.id, now)?;
        let changed_by =
            if actor.id == after.id { "you".to_owned() } else { format!("{} ({})", actor.full_name, actor.email) };
        let notice = SignInAddressChanged {
            full_name: &after.full_name,
            old_email: &before.email,
            new_email: &after.email,
            changed_by: &changed_by,
            organisation: &organisation.name,
        };
        services.outbox(now).queue(conn, &before.email, &notice)?;
    }
    if address_changed || before.role != after.role {
        store::sessions::delete_for_user(conn, after.id, None)?;
    }
    Ok(())
}
