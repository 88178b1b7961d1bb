//! The start page. Everyone sees where to go next; the operator, who runs Keydesk, also
//! sees whether mail flows: each intake source's last pass and errors, and the outbox's
//! queued and failing messages with the last delivery.

use super::guards::SignedIn;
use super::intake_page::{health_rows, outbox_health};
use super::page::Layout;
use crate::app::{AppError, Services};
use crate::store;
use keydesk_core::{Role, StaffRole};
use rocket::State;
use rocket_dyn_templates::Template;
use serde_json::json;

/// Whoever is not signed in (or not finished signing in) is sent on by the 401 catcher.
#[rocket::get("/")]
pub async fn home(signed_in: SignedIn, layout: Layout, services: &State<Services>) -> Result<Template, AppError> {
    if signed_in.user.role != Role::Staff(StaffRole::Operator) {
        return Ok(layout.render("home", "Home", json!({})));
    }
    let (intake, outbox) =
        services.run(|conn, _| Ok((store::inbound::health(conn)?, store::outbox::health(conn)?))).await?;
    let context = json!({
        "desk_health": {
            "intake": health_rows(&intake),
            "outbox": outbox_health(&outbox),
            "intake_off": services.config.intake.source == crate::config::IntakeSourceKind::Off,
            "trusted_authserv_missing": services.config.verification.trusted_authserv_id.trim().is_empty(),
        },
    });
    Ok(layout.render("home", "Home", context))
}
