//! The JSON API under /api/v1, for staff with a token from `keydesk token create`.

use super::activities::event_json;
use super::guards::ApiCaller;
use crate::accounts::{AccountError, Services};
use crate::store::{self, events::EventFilter};
use keydesk_core::EmailAddress;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::State;
use serde_json::{json, Value};

/// An API error as JSON: `{"error": "..."}` with its status.
pub type ApiResult = Result<Json<Value>, (Status, Json<Value>)>;

pub(super) fn api_error(status: Status, error: &str) -> (Status, Json<Value>) {
    (status, Json(json!({"error": error})))
}

pub(super) fn fault(error: AccountError) -> (Status, Json<Value>) {
    match error {
        AccountError::NotFound => api_error(Status::NotFound, "not_found"),
        AccountError::Forbidden => api_error(Status::Forbidden, "forbidden"),
        AccountError::Invalid(problem) => api_error(Status::BadRequest, &problem),
        other => {
            log::error!("API: {other}");
            api_error(Status::InternalServerError, "internal_error")
        }
    }
}

pub(super) fn may_read_accounts(caller: &ApiCaller) -> Result<(), (Status, Json<Value>)> {
    if caller.0.role().may_read_all_accounts() {
        Ok(())
    } else {
        Err(api_error(Status::Forbidden, "forbidden"))
    }
}

#[rocket::get("/accounts/<email>")]
pub async fn account(email: &str, caller: ApiCaller, services: &State<Services>) -> ApiResult {
    may_read_accounts(&caller)?;
    let email = EmailAddress::parse(email).map_err(|_| api_error(Status::NotFound, "not_found"))?;
    let policy = services.config.lockout_policy();
    let (user, organisation) = services
        .run(move |conn, _| {
            let user = store::users::find_by_email(conn, &email)?.ok_or(AccountError::NotFound)?;
            let organisation = match user.organisation_id {
                Some(id) => store::orgs::find(conn, id)?.map(|o| o.slug),
                None => None,
            };
            Ok((user, organisation))
        })
        .await
        .map_err(fault)?;
    let locked = policy.is_locked(user.locked_at, store::now());
    Ok(Json(json!({
        "email": user.email,
        "name": user.full_name,
        "role": user.role,
        "organisation": organisation,
        "locked": locked,
        "failed_attempts": user.failed_attempts,
        "locked_at": user.locked_at.filter(|_| locked).map(|t| t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    })))
}

#[rocket::get("/events?<email>")]
pub async fn events(email: &str, caller: ApiCaller, services: &State<Services>) -> ApiResult {
    may_read_accounts(&caller)?;
    let email = EmailAddress::parse(email).map_err(|_| api_error(Status::NotFound, "not_found"))?;
    let events = services
        .run(move |conn, _| {
            let user = store::users::find_by_email(conn, &email)?.ok_or(AccountError::NotFound)?;
            let filter = EventFilter { target_user_id: Some(user.id), limit: 1000, ..EventFilter::default() };
            Ok(store::events::list(conn, &filter)?)
        })
        .await
        .map_err(fault)?;
    Ok(Json(Value::Array(events.iter().map(event_json).collect())))
}

#[rocket::catch(401)]
pub fn unauthorized() -> Json<Value> {
    Json(json!({"error": "unauthorized"}))
}

#[rocket::catch(403)]
pub fn forbidden() -> Json<Value> {
    Json(json!({"error": "forbidden"}))
}

#[rocket::catch(404)]
pub fn not_found() -> Json<Value> {
    Json(json!({"error": "not_found"}))
}

#[rocket::catch(500)]
pub fn internal_error() -> Json<Value> {
    Json(json!({"error": "internal_error"}))
}
