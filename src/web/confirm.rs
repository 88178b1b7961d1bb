//! The page a mailbox challenge links to. Opening the link only shows a button: mail
//! scanners fetch links on their own, and a GET must not confirm anything.

use super::csrf::{CsrfForm, TokenOnly};
use super::page::Layout;
use crate::app::{AppError, Services};
use crate::queue::challenge;
use keydesk_core::PlainToken;
use rocket::State;
use rocket_dyn_templates::Template;
use serde_json::json;

#[rocket::get("/confirm/<token>")]
pub fn page(token: &str, layout: Layout) -> Template {
    layout.render("confirm", "Confirm it is you", json!({"token": token, "done": null}))
}

#[rocket::post("/confirm/<token>", data = "<_form>")]
pub async fn submit(
    token: &str,
    _form: CsrfForm<TokenOnly>,
    layout: Layout,
    services: &State<Services>,
) -> Result<Template, AppError> {
    let token = PlainToken::from_client(token);
    let confirmed = services.run(move |conn, services| challenge::confirm(conn, services, &token)).await?;
    Ok(layout.render("confirm", "Confirm it is you", json!({"done": confirmed})))
}
