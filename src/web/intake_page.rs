//! The staff page for mail intake: each source's health, the quarantine (re-process or
//! discard, never silently lose) and what was ignored as automatic mail.

use super::csrf::{CsrfForm, TokenOnly};
use super::guards::Staff;
use super::page::Layout;
use crate::accounts::{AccountError, Services};
use crate::intake::{reprocess_quarantined, IntakeOutcome};
use crate::store;
use rocket::response::{Flash, Redirect};
use rocket::State;
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

fn when(at: chrono::NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn ledger_rows(rows: &[store::inbound::InboundMessage]) -> Vec<Value> {
    rows.iter()
        .map(|m| json!({"id": m.id, "received_at": when(m.received_at), "source": m.source, "reason": m.reason, "size": m.raw.len(), "message_id": m.message_id}))
        .collect()
}

#[rocket::get("/intake")]
pub async fn page(_staff: Staff, layout: Layout, services: &State<Services>) -> Result<Template, AccountError> {
    let (health, quarantined, ignored) = services
        .run(|conn, _| {
            Ok((
                store::inbound::health(conn)?,
                store::inbound::with_outcome(conn, "quarantined", 200)?,
                store::inbound::with_outcome(conn, "ignored", 50)?,
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
    id: i64,
    _form: CsrfForm<TokenOnly>,
    _staff: Staff,
    services: &State<Services>,
) -> Result<Flash<Redirect>, AccountError> {
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
    id: i64,
    _form: CsrfForm<TokenOnly>,
    staff: Staff,
    services: &State<Services>,
) -> Result<Flash<Redirect>, AccountError> {
    let by = staff.0.user.email.clone();
    services
        .run(move |conn, _| {
            let entry = store::inbound::find(conn, id)?.ok_or(AccountError::NotFound)?;
            if entry.outcome != "quarantined" {
                return Err(AccountError::NotFound);
            }
            // Kept in the ledger with who discarded it: discarded, not lost.
            Ok(store::inbound::set_outcome(
                conn,
                id,
                "discarded",
                &format!("discarded by {by}: {}", entry.reason),
                None,
            )?)
        })
        .await?;
    Ok(Flash::success(Redirect::to("/intake"), "Discarded. The raw message stays in the intake ledger."))
}
