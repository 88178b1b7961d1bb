//! The web layer: thin handlers that parse a request, check who asks (a guard), make one
//! call into an action, and answer with a page, a redirect or JSON. Errors follow the policy
//! in `app::error`: pages render them through the catchers here, the API as JSON.

// A handler returns one response per request; boxing a large `Redirect` or `Template` in
// its `Err` would buy nothing but noise.
#![allow(clippy::result_large_err)]

pub mod activities;
pub mod api;
pub mod api_tickets;
pub mod assets;
pub mod auth;
pub mod canned_replies;
pub mod confirm;
pub mod csrf;
pub mod download;
pub mod guards;
pub mod home;
pub mod intake_page;
pub mod landing;
pub mod manage_users;
pub mod metrics;
pub mod page;
pub mod queue_pages;
pub mod reports;
pub mod second_factor_reset;
pub mod security;
pub mod support_link;
pub mod telemetry;

use crate::app::Services;
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::serde::json::Json;
use rocket::{Request, Route, State};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

pub fn page_routes() -> Vec<Route> {
    rocket::routes![
        home::home,
        assets::builtin_static,
        auth::login_page,
        auth::login_submit,
        auth::logout,
        auth::forgot_page,
        auth::forgot_submit,
        auth::reset_page,
        auth::reset_submit,
        security::overview,
        security::start,
        security::enrolment,
        security::confirm,
        security::sign_in_code,
        security::sign_in_code_submit,
        second_factor_reset::for_colleague,
        second_factor_reset::staff,
        second_factor_reset::for_staff,
        manage_users::list,
        manage_users::new_page,
        manage_users::create,
        manage_users::edit_page,
        manage_users::update,
        manage_users::unlock_confirm,
        manage_users::unlock_submit,
        manage_users::pin_page,
        manage_users::pin_submit,
        activities::activities,
        confirm::page,
        confirm::submit,
        intake_page::page,
        intake_page::reprocess,
        intake_page::confirm_discard,
        intake_page::discard,
        intake_page::raw,
        queue_pages::queue,
        queue_pages::ticket,
        queue_pages::presence,
        auth::start,
        queue_pages::next_ticket,
        canned_replies::list,
        canned_replies::create,
        canned_replies::update,
        canned_replies::delete,
        queue_pages::attachment,
        queue_pages::take,
        queue_pages::note,
        queue_pages::reply,
        queue_pages::challenge,
        queue_pages::verify,
        queue_pages::waiting,
        queue_pages::resolve,
        queue_pages::unlock,
        queue_pages::approve,
        reports::reports_page,
        reports::tickets_csv,
        reports::summary_csv,
        healthz,
        metrics::metrics,
    ]
}

pub fn api_routes() -> Vec<Route> {
    rocket::routes![
        api::account,
        api::events,
        api_tickets::tickets,
        api_tickets::ticket,
        api_tickets::quarantine,
        api_tickets::verify,
        api_tickets::challenge,
        api_tickets::unlock,
        api_tickets::approve,
        api_tickets::notes,
        reports::service_hours
    ]
}

pub fn page_catchers() -> Vec<rocket::Catcher> {
    rocket::catchers![bad_request, unauthorized, forbidden, not_found, too_large, unprocessable, internal_error, other]
}

pub fn api_catchers() -> Vec<rocket::Catcher> {
    rocket::catchers![api::any_error]
}

/// Liveness and the database's reachability, for load balancers and the operator. Public,
/// so it says how intake is doing and nothing it was told: a source's name holds the IMAP
/// account and the mail server's address, and its last error whatever that server said.
/// Staff see those on `/intake`.
#[rocket::get("/healthz")]
async fn healthz(services: &State<Services>) -> (Status, Json<Value>) {
    let database = services.db.run(|conn| Ok::<_, crate::db::DbError>(crate::store::inbound::health(conn)?)).await;
    match database {
        Ok(intake) => {
            let intake: Vec<Value> = intake
                .iter()
                .map(|h| json!({"last_success_at": h.last_success_at.map(|t| t.and_utc().to_rfc3339()), "consecutive_errors": h.consecutive_errors}))
                .collect();
            (Status::Ok, Json(json!({"status": "ok", "database": "ok", "intake": intake})))
        }
        Err(error) => {
            tracing::error!("health check: {error}");
            (Status::ServiceUnavailable, Json(json!({"status": "error", "database": "unreachable"})))
        }
    }
}

fn error_page(status: Status, heading: &str, message: &str) -> Template {
    Template::render(
        "error.html",
        json!({"title": heading, "status": status.code, "heading": heading, "message": message}),
    )
}

#[rocket::catch(400)]
fn bad_request() -> Template {
    error_page(
        Status::BadRequest,
        "That request could not be used",
        "Something in the address or the form was not valid. Go back, check it and try again.",
    )
}

#[rocket::catch(401)]
fn unauthorized(req: &Request<'_>) -> Result<rocket::response::Flash<Redirect>, Redirect> {
    // A page (not a form post, not the API) someone was going to: back there after signing in.
    if req.method() == rocket::http::Method::Get && !req.uri().path().starts_with("/api/") {
        landing::remember(req.cookies(), &req.uri().to_string());
    }
    let unfinished = req.local_cache(|| guards::UnfinishedSignIn(None));
    security::finish_sign_in(unfinished.0)
}

#[rocket::catch(403)]
fn forbidden() -> Template {
    error_page(
        Status::Forbidden,
        "Not allowed",
        "You don't have access to this page, or the form you sent had expired. Go back, reload the page and try again.",
    )
}

#[rocket::catch(404)]
fn not_found() -> Template {
    error_page(Status::NotFound, "Not found", "There is nothing here. Check the address, or go back to the start page.")
}

#[rocket::catch(413)]
fn too_large() -> Template {
    error_page(Status::PayloadTooLarge, "That was too large", "The form you sent was larger than Keydesk accepts.")
}

#[rocket::catch(422)]
fn unprocessable() -> Template {
    error_page(
        Status::UnprocessableEntity,
        "That request was incomplete",
        "Something in the form or the address was missing or not valid. Go back, check it and try again.",
    )
}

#[rocket::catch(500)]
fn internal_error() -> Template {
    error_page(
        Status::InternalServerError,
        "Something went wrong",
        "Keydesk could not finish that. Nothing was changed; please try again in a moment.",
    )
}

/// Anything else (405, 406, …): its status, with the start page a click away.
#[rocket::catch(default)]
fn other(status: Status, _req: &Request<'_>) -> (Status, Template) {
    (status, error_page(status, status.reason().unwrap_or("Error"), "Keydesk cannot answer that request."))
}
