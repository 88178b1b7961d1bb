//! Manage Users: an organisation's admins and owner list, add and update their users and
//! unlock the locked ones with the key icon (and, under the owner-PIN policy, a PIN).

use super::csrf::CsrfForm;
use super::guards::{ClientIp, UserManager};
use super::page::Layout;
use super::security::step_up;
use crate::accounts::unlock::{self, UnlockOutcome};
use crate::accounts::users::UserDetails;
use crate::accounts::users::{self, assignable_roles};
use crate::app::{AppError, Services};
use crate::ids::UserId;
use crate::store::{self, users::User};
use keydesk_core::roles::UnlockPermission;
use keydesk_core::{OrgRole, Role};
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::State;
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

fn user_row(user: &User, permission: UnlockPermission, lock_is_live: bool) -> Value {
    json!({
        "id": user.id,
        "full_name": user.full_name,
        "email": user.email,
        "role": user.role,
        "locked": lock_is_live,
        "locked_at": user.locked_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
        "failed_attempts": user.failed_attempts,
        "unlock": permission,
    })
}

#[rocket::get("/org/users")]
pub async fn list(manager: UserManager, layout: Layout, services: &State<Services>) -> Result<Template, AppError> {
    let me = manager.0.user;
    let (organisation, people) = services
        .run(move |conn, _| {
            let org =
                store::orgs::find(conn, me.organisation_id.ok_or(AppError::Forbidden)?)?.ok_or(AppError::NotFound)?;
            let people = store::users::list_for_organisation(conn, org.id)?;
            Ok((org, people))
        })
        .await?;
    let viewer = layout.signed_in.as_ref().map(|s| s.user.role);
    let permission = |target: &User| {
        viewer.map_or(UnlockPermission::Denied, |role| role.unlock_permission(target.role, organisation.unlock_policy))
    };
    let policy = services.config.lockout_policy();
    let now = services.stored_now();
    // Locked people first (longest locked first): they are why an owner opens this page.
    let mut people: Vec<_> = people.iter().map(|u| (u, policy.is_locked(u.locked_at, now))).collect();
    people.sort_by_key(|(u, locked)| (!locked, locked.then_some(u.locked_at).flatten()));
    let rows: Vec<Value> = people.iter().map(|(u, locked)| user_row(u, permission(u), *locked)).collect();
    Ok(layout.render(
        "users/list",
        "Manage Users",
        json!({"organisation": organisation, "users": rows, "owner_pin": organisation.unlock_policy == keydesk_core::UnlockPolicy::OwnerPin}),
    ))
}

/// The confirmation the key icon leads to (works without JavaScript).
#[rocket::get("/org/users/<id>/unlock")]
pub async fn unlock_confirm(
    id: UserId,
    manager: UserManager,
    layout: Layout,
    services: &State<Services>,
) -> Result<Template, AppError> {
    let me = manager.0.user;
    let (target, policy) = services
        .run(move |conn, _| {
            let target = unlock::colleague(conn, &me, id)?;
            let org = store::orgs::find(conn, target.organisation_id.unwrap_or_default())?.ok_or(AppError::NotFound)?;
            Ok((target, org.unlock_policy))
        })
        .await?;
    let permission = layout
        .signed_in
        .as_ref()
        .map_or(UnlockPermission::Denied, |s| s.user.role.unlock_permission(target.role, policy));
    let locked = services.config.lockout_policy().is_locked(target.locked_at, services.stored_now());
    Ok(layout.render(
        "users/unlock_confirm",
        "Unlock account",
        json!({"target": user_row(&target, permission, locked)}),
    ))
}

#[derive(FromForm)]
pub struct UnlockForm {
    /// A fresh second factor, when the step-up page asked for one.
    code: Option<String>,
}

/// The key icon's confirmed click: after a fresh second factor (the PIN step, under
/// `owner_pin`, comes after the owner's own code).
#[rocket::post("/org/users/<id>/unlock", data = "<form>")]
pub async fn unlock_submit(
    id: UserId,
    form: CsrfForm<UnlockForm>,
    manager: UserManager,
    layout: Layout,
    ip: ClientIp,
    services: &State<Services>,
) -> Result<Result<Flash<Redirect>, (Status, Template)>, AppError> {
    let action = format!("/org/users/{id}/unlock");
    if let Err(ask) = step_up(&manager.0, services, &layout, form.0.code, ip.0.clone(), &action, vec![]).await? {
        return Ok(Err(ask));
    }
    let me = manager.0.user;
    let outcome = services.run(move |conn, services| unlock::request(conn, services, &me, id, ip.0.as_deref())).await?;
    Ok(Ok(flash_for(id, outcome)))
}

#[rocket::get("/org/users/<id>/unlock/pin")]
pub async fn pin_page(
    id: UserId,
    manager: UserManager,
    layout: Layout,
    services: &State<Services>,
) -> Result<Template, AppError> {
    let me = manager.0.user;
    let target = services.run(move |conn, _| unlock::colleague(conn, &me, id)).await?;
    Ok(layout.render(
        "users/unlock_pin",
        "Enter the PIN",
        json!({"target": {"id": target.id, "full_name": target.full_name}}),
    ))
}

#[derive(FromForm)]
pub struct PinForm {
    pin: String,
}

#[rocket::post("/org/users/<id>/unlock/pin", data = "<form>")]
pub async fn pin_submit(
    id: UserId,
    form: CsrfForm<PinForm>,
    manager: UserManager,
    ip: ClientIp,
    services: &State<Services>,
) -> Result<Flash<Redirect>, AppError> {
    let me = manager.0.user;
    let pin = form.0.pin;
    let outcome =
        services.run(move |conn, services| unlock::confirm_pin(conn, services, &me, id, &pin, ip.0.as_deref())).await?;
    Ok(flash_for(id, outcome))
}

fn flash_for(id: UserId, outcome: UnlockOutcome) -> Flash<Redirect> {
    let list = || Redirect::to("/org/users");
    let pin = || Redirect::to(format!("/org/users/{id}/unlock/pin"));
    match outcome {
        UnlockOutcome::Unlocked => Flash::success(list(), "Account unlocked. We have emailed the user to reset their password with Forgot Password before logging in again."),
        UnlockOutcome::NotLocked => Flash::warning(list(), "That account is not locked (anymore): nothing to unlock."),
        UnlockOutcome::NotPermitted => Flash::error(list(), "Only the organisation's owner can unlock accounts here."),
        UnlockOutcome::OwnersOnly => Flash::error(list(), "An owner's account is unlocked by another owner, or by support."),
        UnlockOutcome::PinAddressTooNew => Flash::error(list(), "Your email address changed less than a day ago, and a PIN goes only to an address you have had for a day. Another owner, or support, can unlock the account meanwhile."),
        UnlockOutcome::PinsUsedUp => Flash::error(list(), "This lock's PINs have had all their tries. Support can unlock the account: the user can write to them."),
        UnlockOutcome::PinSent => Flash::success(pin(), "We have emailed you a PIN. It expires in 10 minutes."),
        UnlockOutcome::PinWrong { tries_left: 0 } => Flash::error(list(), "Wrong PIN, and no tries left. Start the unlock again for a new PIN."),
        UnlockOutcome::PinWrong { tries_left } => Flash::error(pin(), format!("Wrong PIN. {tries_left} tries left.")),
        UnlockOutcome::PinExpired => Flash::error(list(), "That PIN has expired. Start the unlock again for a new PIN."),
        UnlockOutcome::PinMissing => Flash::error(list(), "There is no PIN waiting for this account. Start the unlock again."),
    }
}

#[derive(FromForm)]
pub struct UserForm {
    email: String,
    full_name: String,
    role: String,
    /// A fresh second factor, when the step-up page asked for one (editing a user).
    code: Option<String>,
}

fn user_form(layout: &Layout, title: &str, action: &str, values: Value, error: Option<String>) -> Template {
    let roles: Vec<&str> = layout
        .signed_in
        .as_ref()
        .map(|s| assignable_roles(&s.user))
        .unwrap_or_default()
        .iter()
        .map(|r| r.as_str())
        .collect();
    layout.render("users/form", title, json!({"action": action, "values": values, "roles": roles, "error": error}))
}

#[rocket::get("/org/users/new")]
pub fn new_page(_manager: UserManager, layout: Layout) -> Template {
    user_form(&layout, "Add a user", "/org/users", json!({"role": Role::Org(OrgRole::Member)}), None)
}

#[rocket::post("/org/users", data = "<form>")]
pub async fn create(
    form: CsrfForm<UserForm>,
    manager: UserManager,
    layout: Layout,
    ip: ClientIp,
    services: &State<Services>,
) -> Result<Result<Flash<Redirect>, (Status, Template)>, AppError> {
    let UserForm { email, full_name, role, code } = form.0;
    // Adding someone (an owner, say) hands out power: a fresh second factor first, as
    // changing a user's address or role and unlocking ask.
    let action = "/org/users".to_owned();
    let fields = vec![("email", email.clone()), ("full_name", full_name.clone()), ("role", role.clone())];
    if let Err(ask) = step_up(&manager.0, services, &layout, code, ip.0.clone(), &action, fields).await? {
        return Ok(Err(ask));
    }
    let me = manager.0.user;
    let values = json!({"email": email, "full_name": full_name, "role": role});
    let parsed: Role = role.parse().map_err(|_| AppError::Forbidden)?;
    let result = services
        .run(move |conn, services| {
            users::add_colleague(conn, services, &me, &email, &full_name, parsed, ip.0.as_deref())
        })
        .await;
    match result {
        Ok(user) => Ok(Ok(Flash::success(
            Redirect::to("/org/users"),
            format!("{} added. We have emailed them a link to choose a password.", user.full_name),
        ))),
        Err(AppError::Invalid(problem)) => Ok(Err((
            Status::UnprocessableEntity,
            user_form(&layout, "Add a user", "/org/users", values, Some(problem)),
        ))),
        Err(other) => Err(other),
    }
}

#[rocket::get("/org/users/<id>/edit")]
pub async fn edit_page(
    id: UserId,
    manager: UserManager,
    layout: Layout,
    services: &State<Services>,
) -> Result<Template, AppError> {
    let me = manager.0.user;
    let actor = me.clone();
    let target = services.run(move |conn, _| unlock::colleague(conn, &me, id)).await?;
    let may_reset = keydesk_core::second_factor::may_reset_second_factor(
        (actor.id.0, actor.role, actor.organisation_id),
        (target.id.0, target.role, target.organisation_id),
    );
    let values = json!({
        "email": target.email,
        "full_name": target.full_name,
        "role": target.role,
        "second_factor": {"enrolled": target.has_second_factor(), "may_reset": may_reset && target.has_second_factor(), "id": target.id},
    });
    Ok(user_form(&layout, "Edit user", &format!("/org/users/{id}"), values, None))
}

#[rocket::post("/org/users/<id>", data = "<form>")]
pub async fn update(
    id: UserId,
    form: CsrfForm<UserForm>,
    manager: UserManager,
    layout: Layout,
    ip: ClientIp,
    services: &State<Services>,
) -> Result<Result<Flash<Redirect>, (Status, Template)>, AppError> {
    let UserForm { email, full_name, role, code } = form.0;
    // A new address or role is how an account is taken over (reset links go to the address):
    // it asks for a fresh second factor, as unlocking does.
    let action = format!("/org/users/{id}");
    let fields = vec![("email", email.clone()), ("full_name", full_name.clone()), ("role", role.clone())];
    if let Err(ask) = step_up(&manager.0, services, &layout, code, ip.0.clone(), &action, fields).await? {
        return Ok(Err(ask));
    }
    let me = manager.0.user;
    let values = json!({"email": email, "full_name": full_name, "role": role});
    let parsed: Role = role.parse().map_err(|_| AppError::Forbidden)?;
    let result = services
        .run(move |conn, services| {
            let change = UserDetails { email: &email, full_name: &full_name, role: parsed, organisation: None };
            users::update_colleague(conn, services, &me, id, change, ip.0.as_deref())
        })
        .await;
    match result {
        Ok(user) => Ok(Ok(Flash::success(Redirect::to("/org/users"), format!("{} updated.", user.full_name)))),
        Err(AppError::Invalid(problem)) => Ok(Err((
            Status::UnprocessableEntity,
            user_form(&layout, "Edit user", &format!("/org/users/{id}"), values, Some(problem)),
        ))),
        Err(other) => Err(other),
    }
}
