//! Managers keep the canned replies agents insert into the reply box (`/canned-replies`).

use super::csrf::{CsrfForm, TokenOnly};
use super::guards::Manager;
use super::page::Layout;
use crate::app::{AppError, Services};
use crate::queue::canned;
use crate::queue::wording::sentence;
use crate::store;
use keydesk_core::tickets::canned::PLACEHOLDERS;
use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::State;
use rocket_dyn_templates::Template;
use serde_json::json;

#[rocket::get("/canned-replies")]
pub async fn list(_manager: Manager, layout: Layout, services: &State<Services>) -> Result<Template, AppError> {
    let replies = services.run(|conn, _| Ok(store::canned_replies::all(conn)?)).await?;
    let placeholders: Vec<_> = PLACEHOLDERS.iter().map(|(name, what)| json!({"name": name, "what": what})).collect();
    Ok(layout.render("canned_replies", "Canned replies", json!({"replies": replies, "placeholders": placeholders})))
}

#[derive(FromForm)]
pub struct ReplyForm {
    title: String,
    body: String,
}

fn back() -> Redirect {
    Redirect::to("/canned-replies")
}

async fn save(
    services: &Services,
    manager: Manager,
    id: Option<i64>,
    form: ReplyForm,
) -> Result<Flash<Redirect>, AppError> {
    let me = manager.0.user;
    let title = form.title.trim().to_owned();
    let saved =
        services.run(move |conn, services| canned::save(conn, services, &me, id, &form.title, &form.body)).await;
    match saved {
        Ok(()) => Ok(Flash::success(back(), format!("Canned reply \"{title}\" saved."))),
        Err(AppError::Invalid(problem)) => Ok(Flash::error(back(), format!("Not saved. {}", sentence(&problem)))),
        Err(other) => Err(other),
    }
}

#[rocket::post("/canned-replies", data = "<form>")]
pub async fn create(
    form: CsrfForm<ReplyForm>,
    manager: Manager,
    services: &State<Services>,
) -> Result<Flash<Redirect>, AppError> {
    save(services, manager, None, form.0).await
}

#[rocket::post("/canned-replies/<id>", data = "<form>")]
pub async fn update(
    id: i64,
    form: CsrfForm<ReplyForm>,
    manager: Manager,
    services: &State<Services>,
) -> Result<Flash<Redirect>, AppError> {
    save(services, manager, Some(id), form.0).await
}

#[rocket::post("/canned-replies/<id>/delete", data = "<_form>")]
pub async fn delete(
    id: i64,
    _form: CsrfForm<TokenOnly>,
    _manager: Manager,
    services: &State<Services>,
) -> Result<Flash<Redirect>, AppError> {
    let deleted = services.run(move |conn, _| Ok(store::canned_replies::delete(conn, id)?)).await?;
    if !deleted {
        return Err(AppError::NotFound);
    }
    Ok(Flash::success(back(), "Canned reply deleted."))
}
