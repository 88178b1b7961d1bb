//! Logging in and out, and forgotten passwords. Thin handlers: parse, call one account
//! action, answer.

use super::csrf::{CsrfForm, TokenOnly};
use super::guards::{start_session, AnySession, ClientIp, SESSION_COOKIE};
use super::page::Layout;
use crate::accounts::login::{self, LoginOutcome};
use crate::accounts::password_reset::{self, ResetOutcome};
use crate::app::{AppError, Services};
use keydesk_core::second_factor::SessionStage;
use keydesk_core::PlainToken;
use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::response::{Flash, Redirect};
use rocket::State;
use rocket_dyn_templates::Template;
use serde_json::json;

#[rocket::get("/login")]
pub fn login_page(layout: Layout, services: &State<Services>) -> Template {
    login_form(&layout, services, "", None, Status::Ok).1
}

fn login_form(
    layout: &Layout,
    services: &Services,
    email: &str,
    error: Option<String>,
    status: Status,
) -> (Status, Template) {
    let context = json!({
        "email": email,
        "error": error,
        "max_failed_attempts": services.config.lockout.max_failed_attempts,
        "support_email": services.config.support_email,
    });
    (status, layout.render("login", "Log in", context))
}

#[derive(FromForm)]
pub struct LoginForm {
    email: String,
    password: String,
}

/// One message for every refusal: whether the address exists, the password was right or the
/// account is locked is not told here (the lock is told by email, to the account's owner).
const LOGIN_REFUSED: &str = "We couldn't log you in with that email address and password.";

#[rocket::post("/login", data = "<form>")]
pub async fn login_submit(
    form: CsrfForm<LoginForm>,
    layout: Layout,
    ip: ClientIp,
    cookies: &CookieJar<'_>,
    services: &State<Services>,
) -> Result<Result<Redirect, (Status, Template)>, AppError> {
    let LoginForm { email, password } = form.0;
    match login::log_in(services, &email, &password, ip.0).await? {
        LoginOutcome::LoggedIn { session, stage, .. } => {
            start_session(cookies, services, &session);
            Ok(Ok(Redirect::to(match stage {
                SessionStage::SignedIn => "/",
                SessionStage::AwaitingCode => "/login/code",
                SessionStage::MustEnrol => "/security",
            })))
        }
        LoginOutcome::Refused => Ok(Err(login_form(&layout, services, &email, Some(LOGIN_REFUSED.into()), Status::Ok))),
        LoginOutcome::Throttled { wait } => {
            let minutes = wait.num_seconds().div_euclid(60) + 1;
            let message = format!("Too many failed logins from your network. Please try again in {minutes} minute(s).");
            Ok(Err(login_form(&layout, services, &email, Some(message), Status::TooManyRequests)))
        }
    }
}

#[rocket::post("/logout", data = "<_form>")]
pub async fn logout(
    _form: CsrfForm<TokenOnly>,
    signed_in: AnySession,
    ip: ClientIp,
    cookies: &CookieJar<'_>,
    services: &State<Services>,
) -> Result<Flash<Redirect>, AppError> {
    // Also halfway through signing in: a session waiting for its code can be ended.
    login::log_out(services, signed_in.session, signed_in.user, ip.0).await?;
    cookies.remove_private(SESSION_COOKIE);
    Ok(Flash::success(Redirect::to("/login"), "You have logged out."))
}

#[rocket::get("/forgot-password")]
pub fn forgot_page(layout: Layout) -> Template {
    layout.render("forgot_password", "Forgot password", json!({"sent": false}))
}

#[derive(FromForm)]
pub struct ForgotForm {
    email: String,
}

#[rocket::post("/forgot-password", data = "<form>")]
pub async fn forgot_submit(
    form: CsrfForm<ForgotForm>,
    layout: Layout,
    ip: ClientIp,
    services: &State<Services>,
) -> Result<Template, AppError> {
    password_reset::request_in_background(services, form.0.email, ip.0);
    Ok(layout.render("forgot_password", "Forgot password", json!({"sent": true})))
}

#[rocket::get("/reset-password/<token>")]
pub async fn reset_page(token: &str, layout: Layout, services: &State<Services>) -> Result<Template, AppError> {
    let token = PlainToken::from_client(token);
    let live = services.run(move |conn, services| password_reset::link_is_live(conn, services, &token)).await?;
    Ok(layout.render("reset_password", "Choose a new password", json!({"live": live, "error": null})))
}

#[derive(FromForm)]
pub struct ResetForm {
    password: String,
}

#[rocket::post("/reset-password/<token>", data = "<form>")]
pub async fn reset_submit(
    token: &str,
    form: CsrfForm<ResetForm>,
    layout: Layout,
    ip: ClientIp,
    services: &State<Services>,
) -> Result<Result<Flash<Redirect>, Template>, AppError> {
    let token = PlainToken::from_client(token);
    let password = form.0.password;
    let outcome = services
        .run(move |conn, services| password_reset::complete(conn, services, &token, &password, ip.0.as_deref()))
        .await?;
    let render = |live: bool, error: &str| {
        layout.render("reset_password", "Choose a new password", json!({"live": live, "error": error}))
    };
    Ok(match outcome {
        ResetOutcome::Done => {
            Ok(Flash::success(Redirect::to("/login"), "Your password has been changed. You can log in now."))
        }
        ResetOutcome::LinkInvalid => Err(render(false, "")),
        ResetOutcome::WeakPassword(problem) => Err(render(true, problem)),
    })
}
