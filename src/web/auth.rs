//! Logging in and out, and forgotten passwords. Thin handlers: parse, call one account
//! action, answer.

use super::csrf::{CsrfForm, TokenOnly};
use super::guards::{start_session, AnySession, ClientIp, SignedIn, SESSION_COOKIE};
use super::landing;
use super::page::Layout;
use super::support_link::support_mailto;
use crate::accounts::login::{self, LoginOutcome};
use crate::accounts::password_reset::{self, ResetOutcome};
use crate::app::{AppError, Services};
use keydesk_core::second_factor::SessionStage;
use keydesk_core::PlainToken;
use rocket::form::FromForm;
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::response::{Flash, Redirect};
use rocket::State;
use rocket_dyn_templates::Template;
use serde_json::json;

/// Where a completed sign-in goes: back to the page the person was going to, or to their
/// role's start page (`landing`).
#[rocket::get("/start")]
pub fn start(signed_in: SignedIn, cookies: &CookieJar<'_>) -> Redirect {
    Redirect::to(landing::after_sign_in(cookies, signed_in.user.role))
}

/// The login page; `next` (a path on this site) is where to return after signing in.
#[rocket::get("/login?<next>")]
pub fn login_page(next: Option<&str>, layout: Layout, cookies: &CookieJar<'_>, services: &State<Services>) -> Template {
    if let Some(next) = next {
        landing::remember(cookies, next);
    }
    login_form(&layout, services, "", None, Status::Ok, 0).1
}

/// Failed logins in this browser since its last success, whatever the address: past the
/// lockout limit the page says the account may be locked (it tells nothing about any account).
const FAILURES_COOKIE: &str = "keydesk_failed_logins";

fn failures_here(cookies: &CookieJar<'_>) -> u32 {
    cookies.get(FAILURES_COOKIE).and_then(|c| c.value().parse().ok()).unwrap_or(0)
}

fn login_form(
    layout: &Layout,
    services: &Services,
    email: &str,
    error: Option<String>,
    status: Status,
    failures_here: u32,
) -> (Status, Template) {
    let max = services.config.lockout.max_failed_attempts;
    let context = json!({
        "email": email,
        "error": error,
        "max_failed_attempts": max,
        "may_be_locked": failures_here >= max,
        "support_email": services.config.support_email,
        "support_mailto": support_mailto(&services.config.support_email, email),
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
            cookies.remove(FAILURES_COOKIE);
            Ok(Ok(Redirect::to(match stage {
                SessionStage::SignedIn => "/start",
                SessionStage::AwaitingCode => "/login/code",
                SessionStage::MustEnrol => "/security",
            })))
        }
        LoginOutcome::Refused => {
            let failures = failures_here(cookies).saturating_add(1);
            let mut cookie = Cookie::new(FAILURES_COOKIE, failures.to_string());
            cookie.set_same_site(SameSite::Lax);
            cookie.set_http_only(true);
            cookies.add(cookie);
            Ok(Err(login_form(&layout, services, &email, Some(LOGIN_REFUSED.into()), Status::Ok, failures)))
        }
        LoginOutcome::Throttled { wait } => {
            let minutes = wait.num_seconds().div_euclid(60) + 1;
            let message = format!("Too many failed logins from your network. Please try again in {minutes} minute(s).");
            Ok(Err(login_form(
                &layout,
                services,
                &email,
                Some(message),
                Status::TooManyRequests,
                failures_here(cookies),
            )))
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

fn forgot_context(services: &Services, sent: bool) -> serde_json::Value {
    json!({
        "sent": sent,
        "support_email": services.config.support_email,
        "support_mailto": support_mailto(&services.config.support_email, ""),
    })
}

#[rocket::get("/forgot-password")]
pub fn forgot_page(layout: Layout, services: &State<Services>) -> Template {
    layout.render("forgot_password", "Forgot password", forgot_context(services, false))
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
    Ok(layout.render("forgot_password", "Forgot password", forgot_context(services, true)))
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
