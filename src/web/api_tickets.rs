//! The tickets API: the queue and each ticket's thread, and the quarantine, for staff.

use super::api::{api_error, fault, rfc3339, ApiResult};
use super::guards::ApiAgent;
use crate::app::{AppError, Services};
use crate::db::DbConnection;
use crate::ids::TicketNumber;
use crate::queue::approve::ApproveOutcome;
use crate::queue::unlock::{unlock_facts, TicketUnlock};
use crate::queue::verify::VerifyOutcome;
use crate::store::{self, tickets::Ticket, tickets::TicketMessage, users::User};
use keydesk_core::intake::LedgerOutcome;
use keydesk_core::tickets::{may_unlock, ApprovalRefusal, UnlockRefusal};
use keydesk_core::verification::VerificationRefusal;
use keydesk_core::TicketStatus;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::State;
use serde_json::{json, Value};

/// A ticket as the API shows it, with its thread.
fn ticket_json(ticket: &Ticket, account: Option<&User>, locked: bool, messages: &[TicketMessage]) -> Value {
    json!({
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
        "messages": messages
            .iter()
            .map(|m| json!({
                "direction": m.direction,
                "message_id": m.message_id,
                "at": rfc3339(m.at),
                "sender": m.sender,
                "subject": m.subject,
                "body_text": m.body_text,
            }))
            .collect::<Vec<_>>(),
    })
}

/// The ticket's linked account, and whether it is locked now.
fn account_of(conn: &mut DbConnection, services: &Services, ticket: &Ticket) -> Result<(Option<User>, bool), AppError> {
    let account = match ticket.account_user_id {
        Some(id) => store::users::find(conn, id)?,
        None => None,
    };
    let policy = services.config.lockout_policy();
    let locked = account.as_ref().is_some_and(|u| policy.is_locked(u.locked_at, services.stored_now()));
    Ok((account, locked))
}

#[rocket::get("/tickets?<status>")]
pub async fn tickets(status: Option<String>, _caller: ApiAgent, services: &State<Services>) -> ApiResult {
    let status: Option<TicketStatus> =
        status.map(|s| s.parse()).transpose().map_err(|_| api_error(Status::BadRequest, "unknown_status"))?;
    let rows = services
        .run(move |conn, services| {
            let tickets = store::tickets::list(conn, status, 1000)?;
            tickets
                .into_iter()
                .map(|t| {
                    let (account, locked) = account_of(conn, services, &t)?;
                    let messages = store::tickets::messages(conn, t.id)?;
                    Ok(ticket_json(&t, account.as_ref(), locked, &messages))
                })
                .collect::<Result<Vec<_>, AppError>>()
        })
        .await
        .map_err(fault)?;
    Ok(Json(Value::Array(rows)))
}

#[rocket::get("/tickets/<number>")]
pub async fn ticket(number: TicketNumber, _caller: ApiAgent, services: &State<Services>) -> ApiResult {
    let value = services.run(move |conn, services| full_ticket_json(conn, services, number)).await.map_err(fault)?;
    Ok(Json(value))
}

/// A ticket with its thread, checks, verification, assignee and whether it may be unlocked.
fn full_ticket_json(conn: &mut DbConnection, services: &Services, number: TicketNumber) -> Result<Value, AppError> {
    let ticket = crate::queue::ticket(conn, number)?;
    let (account, locked) = account_of(conn, services, &ticket)?;
    let messages = store::tickets::messages(conn, ticket.id)?;
    let checks = crate::queue::verify::checks(conn, services, &ticket)?;
    let mut email_of = |id| -> Result<Option<String>, AppError> {
        Ok(match id {
            Some(id) => store::users::find(conn, id)?.map(|u| u.email),
            None => None,
        })
    };
    let verified_by = email_of(ticket.verified_by_id)?;
    let assignee = email_of(ticket.assignee_id)?;
    let requester = match ticket.requester_user_id {
        Some(id) => {
            store::users::find(conn, id)?.map(|u| json!({"email": u.email, "name": u.full_name, "role": u.role}))
        }
        None => None,
    };
    let now = services.now();
    let facts = unlock_facts(conn, services, &ticket, account.as_ref(), now)?;
    let unlock = match may_unlock(&facts, &services.calendar, now) {
        Ok(()) => json!({"allowed": true}),
        Err(refusal) => {
            let mut body = unlock_refusal(refusal, services);
            body["allowed"] = json!(false);
            body
        }
    };
    let mut value = ticket_json(&ticket, account.as_ref(), locked, &messages);
    value["checks"] = serde_json::to_value(&checks).unwrap_or_default();
    value["verified"] = json!(ticket.verified_at.is_some());
    value["verified_by"] = json!(verified_by);
    value["verification_method"] = json!(ticket.verification_method);
    value["mailbox_confirmed"] = json!(ticket.mailbox_confirmed_at.is_some());
    value["assignee"] = json!(assignee);
    value["requester"] = json!(requester);
    value["unlock"] = unlock;
    value["attachments"] = serde_json::to_value(store::attachments::of_ticket(conn, ticket.id)?).unwrap_or_default();
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
    number: TicketNumber,
    request: Json<VerifyRequest>,
    caller: ApiAgent,
    services: &State<Services>,
) -> ApiResult {
    let agent = caller.0;
    let VerifyRequest { method, note } = request.into_inner();
    let outcome = services
        .run(move |conn, services| crate::queue::verify::verify(conn, services, &agent, number, &method, &note))
        .await
        .map_err(fault)?;
    match outcome {
        VerifyOutcome::Verified | VerifyOutcome::AlreadyVerified => Ok(Json(json!({"verified": true}))),
        VerifyOutcome::Refused(refusal) => Err(refused(VerificationRefusal::CODE, &refusal.to_string())),
    }
}

fn refused(code: &str, message: &str) -> (Status, Json<Value>) {
    (Status::Conflict, Json(json!({"error": code, "message": message})))
}

#[rocket::post("/tickets/<number>/challenge")]
pub async fn challenge(number: TicketNumber, caller: ApiAgent, services: &State<Services>) -> ApiResult {
    let agent = caller.0;
    let sent_to = services
        .run(move |conn, services| crate::queue::challenge::send(conn, services, &agent, number))
        .await
        .map_err(fault)?;
    Ok(Json(json!({"sent_to": sent_to})))
}

#[rocket::post("/tickets/<number>/unlock")]
pub async fn unlock(number: TicketNumber, caller: ApiAgent, services: &State<Services>) -> ApiResult {
    let agent = caller.0;
    let outcome = services
        .run(move |conn, services| {
            crate::queue::unlock::unlock(conn, services, &agent, number, crate::metrics::UnlockSource::Api)
        })
        .await
        .map_err(fault)?;
    match outcome {
        TicketUnlock::Unlocked => Ok(Json(json!({"unlocked": true, "status": TicketStatus::Resolved}))),
        TicketUnlock::Refused(refusal) => Err((Status::Conflict, Json(unlock_refusal(refusal, services)))),
    }
}

/// An unlock refusal as the API says it: `{"error", "reason", "message"}` (and the next
/// opening when support is closed).
fn unlock_refusal(refusal: UnlockRefusal, services: &Services) -> Value {
    let mut body = json!({
        "error": refusal.code(),
        "reason": refusal.reason_code(),
        "message": refusal.message(&services.calendar),
    });
    if let UnlockRefusal::OutsideWorkingHours { next_opening } = refusal {
        body["next_opening"] = json!(next_opening.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
    }
    body
}

#[derive(serde::Deserialize)]
pub struct ApproveRequest {
    #[serde(default)]
    note: String,
}

/// A manager approves an unlock that needs a second person; agents get 403.
#[rocket::post("/tickets/<number>/approve", data = "<request>")]
pub async fn approve(
    number: TicketNumber,
    request: Json<ApproveRequest>,
    caller: ApiAgent,
    services: &State<Services>,
) -> ApiResult {
    let manager = caller.0;
    let note = request.into_inner().note;
    let outcome = services
        .run(move |conn, services| crate::queue::approve::approve(conn, services, &manager, number, &note))
        .await
        .map_err(fault)?;
    match outcome {
        ApproveOutcome::Approved => Ok(Json(json!({"approved": true}))),
        ApproveOutcome::Refused(refusal) => Err(refused(ApprovalRefusal::CODE, &refusal.to_string())),
    }
}

#[derive(serde::Deserialize)]
pub struct NoteRequest {
    text: String,
}

#[rocket::post("/tickets/<number>/notes", data = "<request>")]
pub async fn notes(
    number: TicketNumber,
    request: Json<NoteRequest>,
    caller: ApiAgent,
    services: &State<Services>,
) -> ApiResult {
    let agent = caller.0;
    let text = request.into_inner().text;
    services
        .run(move |conn, services| crate::queue::work::add_note(conn, services, &agent, number, &text))
        .await
        .map_err(fault)?;
    Ok(Json(json!({"noted": true})))
}

#[rocket::get("/quarantine")]
pub async fn quarantine(_caller: ApiAgent, services: &State<Services>) -> ApiResult {
    let rows = services
        .run(|conn, _| Ok(store::inbound::with_outcome(conn, LedgerOutcome::Quarantined, 1000)?))
        .await
        .map_err(fault)?;
    Ok(Json(Value::Array(
        rows.iter()
            .map(|m| {
                json!({
                    "id": m.id,
                    "source": m.source,
                    "received_at": rfc3339(m.received_at),
                    "reason": m.reason,
                    "size_bytes": m.size_bytes,
                    "headers_only": !m.raw_complete,
                    "message_id": m.message_id,
                    "from": m.from_header,
                    "subject": m.subject,
                })
            })
            .collect(),
    )))
}
