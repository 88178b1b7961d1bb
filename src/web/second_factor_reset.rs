//! Resetting someone's second factor after a lost phone: an organisation's owner for their
//! people (from Manage Users), a manager for support staff (from the Staff page). Never one's
//! own; always with a reason, recorded as "MFA reset".

use super::csrf::CsrfForm;
use super::guards::{ClientIp, Manager, UserManager};
use super::page::Layout;
use crate::accounts::{mfa, unlock};
use crate::app::{AppError, Services};
use crate::db::DbConnection;
use crate::ids::UserId;
use crate::store::{self, users::User};
use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::State;
use rocket_dyn_templates::Template;
use serde_json::json;

#[derive(FromForm)]
pub struct ResetForm {
    reason: String,
}

/// An owner resets one of their organisation's people.
#[rocket::post("/org/users/<id>/second-factor/reset", data = "<form>")]
pub async fn for_colleague(
    id: UserId,
    form: CsrfForm<ResetForm>,
    manager: UserManager,
    ip: ClientIp,
    services: &State<Services>,
) -> Result<Flash<Redirect>, AppError> {
    let find = move |conn: &mut DbConnection, me: &User| unlock::colleague(conn, me, id);
    reset_and_say(services, manager.0.user, find, form.0.reason, ip, "/org/users").await
}

/// Resets the second factor of the person `find` finds for `me` (not found: 404), and says so
/// on the page at `back`.
async fn reset_and_say(
    services: &Services,
    me: User,
    find: impl FnOnce(&mut DbConnection, &User) -> Result<User, AppError> + Send + 'static,
    reason: String,
    ip: ClientIp,
    back: &'static str,
) -> Result<Flash<Redirect>, AppError> {
    let name = services
        .run(move |conn, services| {
            let target = find(conn, &me)?;
            mfa::reset(conn, services, &me, &target, &reason, ip.0.as_deref())?;
            Ok(target.full_name)
        })
        .await;
    match name {
        Ok(name) => Ok(Flash::success(
            Redirect::to(back),
            format!("{name}'s second factor is reset: they set up a new authenticator when they next sign in."),
        )),
        Err(AppError::Invalid(problem)) => {
            Ok(Flash::error(Redirect::to(back), crate::queue::wording::sentence(&problem)))
        }
        Err(other) => Err(other),
    }
}

/// Managers: support staff and their second factors.
#[rocket::get("/staff")]
pub async fn staff(manager: Manager, layout: Layout, services: &State<Services>) -> Result<Template, AppError> {
    let me = manager.0.user;
    let people = services.run(|conn, _| Ok(store::users::staff(conn)?)).await?;
    let rows: Vec<_> = people
        .iter()
        .map(|u| {
            json!({
                "id": u.id,
                "full_name": u.full_name,
                "email": u.email,
                "role": u.role,
                "enrolled": u.has_second_factor(),
                "may_reset": u.id != me.id && u.has_second_factor(),
            })
        })
        .collect();
    Ok(layout.render("staff", "Staff", json!({"staff": rows})))
}

/// A manager resets a staff member's second factor.
#[rocket::post("/staff/<id>/second-factor/reset", data = "<form>")]
pub async fn for_staff(
    id: UserId,
    form: CsrfForm<ResetForm>,
    manager: Manager,
    ip: ClientIp,
    services: &State<Services>,
) -> Result<Flash<Redirect>, AppError> {
    let find = move |conn: &mut DbConnection, _: &User| store::users::find(conn, id)?.ok_or(AppError::NotFound);
    reset_and_say(services, manager.0.user, find, form.0.reason, ip, "/staff").await
}
