//! The page a mailbox challenge links to. Opening the link only shows a button: mail
//! scanners fetch links on their own, and a GET must not confirm anything. When the account
//! has an authenticator app, the page also asks for its current code.

use super::csrf::CsrfForm;
use super::page::Layout;
use crate::app::{AppError, Services};
use crate::queue::challenge::{self, ChallengeState, Confirmed, CHALLENGE_CODE_TRIES};
use keydesk_core::PlainToken;
use rocket::form::FromForm;
use rocket::State;
use rocket_dyn_templates::Template;
use serde_json::json;

#[rocket::get("/confirm/<token>")]
pub async fn page(token: &str, layout: Layout, services: &State<Services>) -> Result<Template, AppError> {
    let link = PlainToken::from_client(token);
    let state = services.run(move |conn, services| challenge::state(conn, services, &link)).await?;
    let context = match state {
        ChallengeState::Dead => json!({"done": false}),
        ChallengeState::Mailbox => json!({"token": token, "done": null, "ask_code": false}),
        ChallengeState::MailboxAndCode => json!({"token": token, "done": null, "ask_code": true}),
    };
    Ok(layout.render("confirm", "Confirm it is you", context))
}

#[derive(FromForm)]
pub struct ConfirmForm {
    code: Option<String>,
}

#[rocket::post("/confirm/<token>", data = "<form>")]
pub async fn submit(
    token: &str,
    form: CsrfForm<ConfirmForm>,
    layout: Layout,
    services: &State<Services>,
) -> Result<Template, AppError> {
    let link = PlainToken::from_client(token);
    let code = form.0.code;
    let confirmed =
        services.run(move |conn, services| challenge::confirm(conn, services, &link, code.as_deref())).await?;
    let context = match confirmed {
        Confirmed::Mailbox | Confirmed::Verified => json!({"done": true, "verified": confirmed == Confirmed::Verified}),
        Confirmed::Dead | Confirmed::WrongCode { tries_left: 0 } => json!({"done": false}),
        Confirmed::WrongCode { tries_left } => json!({
            "token": token,
            "done": null,
            "ask_code": true,
            "error": format!("That is not the code your authenticator app shows now. {tries_left} of {CHALLENGE_CODE_TRIES} tries left."),
        }),
    };
    Ok(layout.render("confirm", "Confirm it is you", context))
}
