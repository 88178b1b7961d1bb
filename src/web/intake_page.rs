//! The staff page for mail intake: each source's health and what its last pass skipped, the
//! quarantine (download, re-process, or discard after a confirmation — never silently lose)
//! and what was ignored as machine mail. Everything shown comes from ledger columns: the page
//! never reads a raw message, however large.

use super::csrf::{CsrfForm, TokenOnly};
use super::guards::Staff;
use super::page::Layout;
use crate::app::{AppError, Services};
use crate::ids::LedgerId;
use crate::intake::{discard_quarantined, reprocess_quarantined, IntakeOutcome};
use crate::queue::wording::{readable_size, when};
use crate::store;
use crate::store::inbound::{IntakeHealth, LedgerEntry};
use crate::store::outbox::OutboxHealth;
use keydesk_core::intake::LedgerOutcome;
use rocket::response::{Flash, Redirect};
use rocket::State;
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

/// A ledger row as the page shows it.
pub fn ledger_row(m: &LedgerEntry) -> Value {
    json!({
        "id": m.id,
        "received_at": when(m.received_at),
        "source": m.source,
        "reason": m.reason,
        "from": m.from_header,
        "subject": m.subject,
        "message_id": m.message_id,
        "size": readable_size(m.size_bytes),
        "headers_only": !m.raw_complete,
        "raw_cleared": m.raw_cleared_at.map(when),
        "class": m.machine_class,
        "ticket": m.ticket_id,
    })
}

/// Each source's health as the pages show it (this page and the operator's home).
pub fn health_rows(health: &[IntakeHealth]) -> Vec<Value> {
    health
        .iter()
        .map(|h| {
            json!({
                "source": h.source,
                "last_success_at": h.last_success_at.map(when),
                "consecutive_errors": h.consecutive_errors,
                "last_error": h.last_error,
                "last_error_at": h.last_error_at.map(when),
                "skipped": h.skipped.lines().collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// The outbox's health as the operator's home shows it.
pub fn outbox_health(outbox: &OutboxHealth) -> Value {
    json!({
        "queued": outbox.queued,
        "given_up": outbox.given_up,
        "failing": outbox.failing,
        "oldest_queued_at": outbox.oldest_queued_at.map(when),
        "last_sent_at": outbox.last_sent_at.map(when),
        "last_error": outbox.last_error,
    })
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
    let health = health_rows(&health);
    let quarantined: Vec<Value> = quarantined.iter().map(ledger_row).collect();
    let ignored: Vec<Value> = ignored.iter().map(ledger_row).collect();
    Ok(layout.render(
        "intake",
        "Mail intake",
        json!({
            "health": health,
            "quarantined": quarantined,
            "ignored": ignored,
            // Without it no sender passes check 5 (authenticated by our mail server).
            "trusted_authserv_missing": services.config.verification.trusted_authserv_id.trim().is_empty(),
        }),
    ))
}

#[rocket::post("/intake/quarantine/<id>/reprocess", data = "<_form>")]
pub async fn reprocess(
    id: LedgerId,
    _form: CsrfForm<TokenOnly>,
    _staff: Staff,
    services: &State<Services>,
) -> Result<Flash<Redirect>, AppError> {
    let back = Redirect::to("/intake");
    let outcome = match services.run(move |conn, services| reprocess_quarantined(conn, services, id)).await {
        Err(AppError::Invalid(why)) => return Ok(Flash::error(back, crate::queue::wording::sentence(&why))),
        other => other?,
    };
    Ok(match outcome {
        IntakeOutcome::NewTicket(n) => Flash::success(back, format!("Taken in: ticket #{n}.")),
        IntakeOutcome::Threaded(n) => Flash::success(back, format!("Taken in: added to ticket #{n}.")),
        IntakeOutcome::Ignored(reason) => Flash::success(back, format!("Taken in and ignored: {reason}.")),
        IntakeOutcome::Duplicate => Flash::success(back, "Already taken in before: nothing new."),
        IntakeOutcome::Quarantined(reason) => Flash::error(back, format!("Still cannot be taken in: {reason}.")),
    })
}

/// Discarding asks first: what is discarded is not taken in, whoever wrote it.
#[rocket::get("/intake/quarantine/<id>/discard")]
pub async fn confirm_discard(
    id: LedgerId,
    _staff: Staff,
    layout: Layout,
    services: &State<Services>,
) -> Result<Template, AppError> {
    let entry = services.run(move |conn, _| Ok(store::inbound::find(conn, id)?)).await?;
    let entry = entry.filter(|e| e.outcome == LedgerOutcome::Quarantined).ok_or(AppError::NotFound)?;
    Ok(layout.render("intake_discard", "Discard a quarantined message?", json!({"q": ledger_row(&entry)})))
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

/// The raw message as it arrived (or its headers, when only they were read), as a file.
#[rocket::get("/intake/messages/<id>/raw")]
pub async fn raw(
    id: LedgerId,
    _staff: Staff,
    services: &State<Services>,
) -> Result<super::download::Download, AppError> {
    let (bytes, complete) =
        services.run(move |conn, _| Ok(store::inbound::raw(conn, id)?)).await?.ok_or(AppError::NotFound)?;
    let name = if complete { format!("message-{id}.eml") } else { format!("message-{id}-headers-only.eml") };
    Ok(super::download::Download::new(bytes, &name, "message/rfc822"))
}
