//! The tickets API: the queue and each ticket's thread, and the quarantine, for staff.

use super::api::{api_error, fault, may_read_accounts, ApiResult};
use super::guards::ApiCaller;
use crate::accounts::{AccountError, Services};
use crate::store::{self, tickets::Ticket};
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::State;
use serde_json::{json, Value};

const STATUSES: [&str; 5] = ["new", "open", "waiting_on_user", "resolved", "closed"];

fn rfc3339(at: chrono::NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A ticket as the API shows it; `messages` only when the thread was loaded.
fn ticket_json(
    ticket: &Ticket,
    account: Option<&store::users::User>,
    locked: bool,
    messages: Option<Vec<store::tickets::TicketMessage>>,
) -> Value {
    let mut value = json!({
        "number": ticket.id,
        "status": ticket.status,
        "received_at": rfc3339(ticket.received_at),
        "sender": ticket.sender,
        "sender_name": ticket.sender_name,
        "subject": ticket.subject,
        "full_name": ticket.full_name,
        "registered_email": ticket.registered_email,
        "description": ticket.description,
        "field_sources": {
            "full_name": ticket.full_name_source,
            "registered_email": ticket.registered_email_source,
            "description": ticket.description_source,
        },
        "account": account.map(|u| u.email.clone()),
        "account_locked": locked,
    });
    if let Some(messages) = messages {
        value["messages"] = Value::Array(
            messages
                .iter()
                .map(|m| json!({"direction": m.direction, "message_id": m.message_id, "at": rfc3339(m.at), "sender": m.sender, "subject": m.subject, "body_text": m.body_text}))
                .collect(),
        );
    }
    value
}

fn load(
    conn: &mut crate::db::DbConnection,
    services: &Services,
    ticket: &Ticket,
) -> Result<(Option<store::users::User>, bool), AccountError> {
    let account = match ticket.account_user_id {
        Some(id) => store::users::find(conn, id)?,
        None => None,
    };
    let locked =
        account.as_ref().is_some_and(|u| services.config.lockout_policy().is_locked(u.locked_at, store::now()));
    Ok((account, locked))
}

#[rocket::get("/tickets?<status>")]
pub async fn tickets(status: Option<String>, caller: ApiCaller, services: &State<Services>) -> ApiResult {
    may_read_accounts(&caller)?;
    if let Some(status) = status.as_deref() {
        if !STATUSES.contains(&status) {
            return Err(api_error(Status::BadRequest, "unknown_status"));
        }
    }
    let rows = services
        .run(move |conn, services| {
            let tickets = store::tickets::list(conn, status.as_deref(), 1000)?;
            tickets
                .into_iter()
                .map(|t| {
                    let (account, locked) = load(conn, services, &t)?;
                    let messages = store::tickets::messages(conn, t.id)?;
                    Ok(ticket_json(&t, account.as_ref(), locked, Some(messages)))
                })
                .collect::<Result<Vec<_>, AccountError>>()
        })
        .await
        .map_err(fault)?;
    Ok(Json(Value::Array(rows)))
}

#[rocket::get("/tickets/<number>")]
pub async fn ticket(number: i64, caller: ApiCaller, services: &State<Services>) -> ApiResult {
    may_read_accounts(&caller)?;
    let value = services.run(move |conn, services| full_ticket_json(conn, services, number)).await.map_err(fault)?;
    Ok(Json(value))
}

/// A ticket with its thread, checks, verification and assignee.
fn full_ticket_json(
    conn: &mut crate::db::DbConnection,
    services: &Services,
    number: i64,
) -> Result<Value, AccountError> {
    let ticket = store::tickets::find(conn, number)?.ok_or(AccountError::NotFound)?;
    let (account, locked) = load(conn, services, &ticket)?;
    let messages = store::tickets::messages(conn, ticket.id)?;
    let checks = crate::queue::verify::checks(conn, services, &ticket)?;
    let email_of = |conn: &mut crate::db::DbConnection, id: Option<i64>| -> Result<Option<String>, AccountError> {
        Ok(match id {
            Some(id) => store::users::find(conn, id)?.map(|u| u.email),
            None => None,
        })
    };
    let verified_by = email_of(conn, ticket.verified_by_id)?;
    let requester = match ticket.requester_user_id {
        Some(id) => {
            store::users::find(conn, id)?.map(|u| json!({"email": u.email, "name": u.full_name, "role": u.role}))
        }
        None => None,
    };
    let assignee = email_of(conn, ticket.assignee_id)?;
    let mut value = ticket_json(&ticket, account.as_ref(), locked, Some(messages));
    value["checks"] = serde_json::to_value(&checks).unwrap_or_default();
    value["verified"] = json!(ticket.verified_at.is_some());
    value["verified_by"] = json!(verified_by);
    value["verification_method"] = json!(ticket.verification_method);
    value["mailbox_confirmed"] = json!(ticket.mailbox_confirmed_at.is_some());
    value["assignee"] = json!(assignee);
    value["requester"] = json!(requester);
    Ok(value)
}

#[derive(serde::Deserialize)]
pub struct VerifyRequest {
    method: String,
    #[serde(default)]
    note: String,
}

#[rocket::post("/tickets/<number>/verify", data = "<request>")]
pub async fn verify(
    number: i64,
    request: Json<VerifyRequest>,
    caller: ApiCaller,
    services: &State<Services>,
) -> ApiResult {
    may_read_accounts(&caller)?;
    let agent = caller.0;
    let VerifyRequest { method, note } = request.into_inner();
    let outcome = services
        .run(move |conn, services| crate::queue::verify::verify(conn, services, &agent, number, &method, &note))
        .await
        .map_err(fault)?;
    match outcome {
        crate::queue::verify::VerifyOutcome::Verified | crate::queue::verify::VerifyOutcome::AlreadyVerified => {
            Ok(Json(json!({"verified": true})))
        }
        crate::queue::verify::VerifyOutcome::Refused { code, reason } => {
            Err((Status::Conflict, Json(json!({"error": code, "reason": reason}))))
        }
    }
}

#[rocket::post("/tickets/<number>/challenge")]
pub async fn challenge(number: i64, caller: ApiCaller, services: &State<Services>) -> ApiResult {
    may_read_accounts(&caller)?;
    let agent = caller.0;
    let sent_to = services
        .run(move |conn, services| crate::queue::challenge::send(conn, services, &agent, number))
        .await
        .map_err(fault)?;
    Ok(Json(json!({"sent_to": sent_to})))
}

#[rocket::post("/tickets/<number>/unlock")]
pub async fn unlock(number: i64, caller: ApiCaller, services: &State<Services>) -> ApiResult {
    use crate::queue::unlock::TicketUnlock;
    may_read_accounts(&caller)?;
    let agent = caller.0;
    let now = chrono::Utc::now();
    let outcome = services
        .run(move |conn, services| crate::queue::unlock::unlock(conn, services, &agent, number, now))
        .await
        .map_err(fault)?;
    match outcome {
        TicketUnlock::Unlocked => Ok(Json(json!({"unlocked": true, "status": "resolved"}))),
        TicketUnlock::AlreadyUnlocked => Err((Status::Conflict, Json(json!({"error": "not_locked"})))),
        TicketUnlock::NotVerified => Err((Status::Conflict, Json(json!({"error": "not_verified"})))),
        TicketUnlock::NoAccount => Err((Status::Conflict, Json(json!({"error": "no_account"})))),
        TicketUnlock::OutsideWorkingHours { next_opening } => Err((
            Status::Conflict,
            Json(
                json!({"error": "outside_working_hours", "next_opening": next_opening.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))}),
            ),
        )),
    }
}

#[derive(serde::Deserialize)]
pub struct NoteRequest {
    text: String,
}

#[rocket::post("/tickets/<number>/notes", data = "<request>")]
pub async fn notes(
    number: i64,
    request: Json<NoteRequest>,
    caller: ApiCaller,
    services: &State<Services>,
) -> ApiResult {
    may_read_accounts(&caller)?;
    let agent = caller.0;
    let text = request.into_inner().text;
    services.run(move |conn, _| crate::queue::work::add_note(conn, &agent, number, &text)).await.map_err(fault)?;
    Ok(Json(json!({"noted": true})))
}

#[rocket::get("/quarantine")]
pub async fn quarantine(caller: ApiCaller, services: &State<Services>) -> ApiResult {
    may_read_accounts(&caller)?;
    let rows =
        services.run(|conn, _| Ok(store::inbound::with_outcome(conn, "quarantined", 1000)?)).await.map_err(fault)?;
    Ok(Json(Value::Array(
        rows.iter()
            .map(|m| json!({"id": m.id, "source": m.source, "received_at": rfc3339(m.received_at), "reason": m.reason, "size_bytes": m.raw.len(), "message_id": m.message_id}))
            .collect(),
    )))
}
