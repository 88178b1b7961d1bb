//! The staff page for mail intake: each source's health, the quarantine (re-process or
//! discard, never silently lose) and what was ignored as automatic mail.

use super::csrf::{CsrfForm, TokenOnly};
use super::guards::Staff;
use super::page::Layout;
use crate::app::{AppError, Services};
use crate::ids::LedgerId;
use crate::intake::{discard_quarantined, reprocess_quarantined, IntakeOutcome};
use crate::queue::wording::when;
use crate::store;
use keydesk_core::intake::LedgerOutcome;
use rocket::response::{Flash, Redirect};
use rocket::State;
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

fn ledger_rows(rows: &[store::inbound::InboundMessage]) -> Vec<Value> {
    rows.iter()
        .map(|m| json!({"id": m.id, "received_at": when(m.received_at), "source": m.source, "reason": m.reason, "size": m.raw.len(), "message_id": m.message_id}))
        .collect()
}

#[rocket::get("/intake")]
pub async fn page(_staff: Staff, layout: Layout, services: &State<Services>) -> Result<Template, AppError> {
    let (health, quarantined, ignored) = services
        .run(|conn, _| {
            Ok((
                store::inbound::health(conn)?,
                store::inbound::with_outcome(conn, LedgerOutcome::Quarantined, 200)?,
                store::inbound::with_outcome(conn, LedgerOutcome::Ignored, 50)?,
            ))
        })
        .await?;
    let health: Vec<Value> = health
        .iter()
        .map(|h| json!({"source": h.source, "last_success_at": h.last_success_at.map(when), "consecutive_errors": h.consecutive_errors, "last_error": h.last_error, "last_error_at": h.last_error_at.map(when)}))
        .collect();
    Ok(layout.render(
        "intake",
        "Mail intake",
        json!({"health": health, "quarantined": ledger_rows(&quarantined), "ignored": ledger_rows(&ignored)}),
    ))
}

#[rocket::post("/intake/quarantine/<id>/reprocess", data = "<_form>")]
pub async fn reprocess(
    id: LedgerId,
    _form: CsrfForm<TokenOnly>,
    _staff: Staff,
    services: &State<Services>,
) -> Result<Flash<Redirect>, AppError> {
    let outcome = services.run(move |conn, services| reprocess_quarantined(conn, services, id)).await?;
    let back = Redirect::to("/intake");
    Ok(match outcome {
        IntakeOutcome::NewTicket(n) => Flash::success(back, format!("Taken in: ticket #{n}.")),
        IntakeOutcome::Threaded(n) => Flash::success(back, format!("Taken in: added to ticket #{n}.")),
        IntakeOutcome::Ignored(reason) => Flash::success(back, format!("Taken in and ignored: {reason}.")),
        IntakeOutcome::Duplicate => Flash::success(back, "Already taken in before: nothing new."),
        IntakeOutcome::Quarantined(reason) => Flash::error(back, format!("Still cannot be taken in: {reason}.")),
    })
}

#[rocket::post("/intake/quarantine/<id>/discard", data = "<_form>")]
pub async fn discard(
    id: LedgerId,
    _form: CsrfForm<TokenOnly>,
    staff: Staff,
    services: &State<Services>,
) -> Result<Flash<Redirect>, AppError> {
    let by = staff.0.user.email.clone();
    let discarded = services.run(move |conn, _| discard_quarantined(conn, id, &by)).await?;
    if !discarded {
        return Err(AppError::NotFound);
    }
    Ok(Flash::success(Redirect::to("/intake"), "Discarded. The raw message stays in the intake ledger."))
}
