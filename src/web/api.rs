//! The JSON API under /api/v1, for staff with a token from `keydesk token create`. Every
//! route takes the `ApiAgent` guard. Errors are `{"error": "..."}` with their status — from
//! the handlers (`api_error`, `fault`) and from the catchers below for what fails before a
//! handler runs (401, 403, 404, a malformed request's 400, an oversized body's 413, a JSON
//! body of the wrong shape's 422).

use super::activities::event_json;
use super::guards::ApiAgent;
use crate::app::{AppError, Services};
use crate::store::{self, events::EventFilter};
use keydesk_core::EmailAddress;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{Request, State};
use serde_json::{json, Value};

/// An API error as JSON: `{"error": "..."}` with its status.
pub type ApiResult = Result<Json<Value>, (Status, Json<Value>)>;

pub(super) fn api_error(status: Status, error: &str) -> (Status, Json<Value>) {
    (status, Json(json!({"error": error})))
}

/// An action's error as the API answers it (the policy is in `app::error`).
pub(super) fn fault(error: AppError) -> (Status, Json<Value>) {
    error.log_if_fault("API");
    let status = error.status();
    match error {
        AppError::Invalid(problem) => api_error(status, &problem),
        other => api_error(status, code_of(other.status())),
    }
}

fn code_of(status: Status) -> &'static str {
    match status.code {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        413 => "payload_too_large",
        422 => "unprocessable",
        _ => "internal_error",
    }
}

pub(super) fn rfc3339(at: chrono::NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[rocket::get("/accounts/<email>")]
pub async fn account(email: &str, _caller: ApiAgent, services: &State<Services>) -> ApiResult {
    let email = EmailAddress::parse(email).map_err(|_| api_error(Status::NotFound, "not_found"))?;
    let policy = services.config.lockout_policy();
    let now = services.stored_now();
    let (user, organisation) = services
        .run(move |conn, _| {
            let user = store::users::find_by_email(conn, &email)?.ok_or(AppError::NotFound)?;
            let organisation = match user.organisation_id {
                Some(id) => store::orgs::find(conn, id)?.map(|o| o.slug),
                None => None,
            };
            Ok((user, organisation))
        })
        .await
        .map_err(fault)?;
    let locked = policy.is_locked(user.locked_at, now);
    Ok(Json(json!({
        "email": user.email,
        "name": user.full_name,
        "role": user.role,
        "organisation": organisation,
        "locked": locked,
        "failed_attempts": user.failed_attempts,
        "locked_at": user.locked_at.filter(|_| locked).map(rfc3339),
    })))
}

#[rocket::get("/events?<email>")]
pub async fn events(email: &str, _caller: ApiAgent, services: &State<Services>) -> ApiResult {
    let email = EmailAddress::parse(email).map_err(|_| api_error(Status::NotFound, "not_found"))?;
    let events = services
        .run(move |conn, _| {
            let user = store::users::find_by_email(conn, &email)?.ok_or(AppError::NotFound)?;
            let filter = EventFilter { target_user_id: Some(user.id), limit: 1000, ..EventFilter::default() };
            Ok(store::events::list(conn, &filter)?)
        })
        .await
        .map_err(fault)?;
    Ok(Json(Value::Array(events.iter().map(event_json).collect())))
}

/// Every status the API's catchers answer, as JSON.
#[rocket::catch(default)]
pub fn any_error(status: Status, _req: &Request<'_>) -> (Status, Json<Value>) {
    api_error(status, code_of(status))
}
