//! Canned replies: the managers keep the list (titles unique, placeholders checked by
//! `keydesk_core::tickets::canned`); agents get each one filled for the ticket in front of them.

use crate::app::{AppError, Services};
use crate::db::DbConnection;
use crate::store::{self, is_unique_violation, tickets::Ticket, users::User};
use chrono::{DateTime, Utc};
use keydesk_core::tickets::canned::{check, fill, CannedValues};
use serde::Serialize;

/// A canned reply filled for one ticket, as the reply box's menu offers it.
#[derive(Debug, Clone, Serialize)]
pub struct FilledReply {
    pub id: i64,
    pub title: String,
    pub text: String,
}

/// Every canned reply, filled for `ticket` as `agent` would send it at `now`.
pub fn filled_for(
    conn: &mut DbConnection,
    services: &Services,
    ticket: &Ticket,
    account_name: Option<&str>,
    agent: &User,
    now: DateTime<Utc>,
) -> Result<Vec<FilledReply>, AppError> {
    let calendar = &services.calendar;
    let values = CannedValues {
        full_name: ticket
            .full_name
            .clone()
            .or_else(|| account_name.map(str::to_owned))
            .or_else(|| ticket.sender_name.clone())
            .unwrap_or_else(|| "there".into()),
        ticket: format!("#{}", ticket.id),
        hours: calendar.describe_hours(),
        next_opening: match calendar.next_opening(now) {
            Some(at) if at <= now => "now".into(),
            Some(at) => calendar.describe_instant(at),
            None => "(not within two years)".into(),
        },
        agent_name: agent.full_name.clone(),
    };
    Ok(store::canned_replies::all(conn)?
        .into_iter()
        .map(|reply| FilledReply { id: reply.id, text: fill(&reply.body, &values), title: reply.title })
        .collect())
}

/// Saves a new reply (`id` None) or changes one; a refusal says why in words.
pub fn save(
    conn: &mut DbConnection,
    services: &Services,
    manager: &User,
    id: Option<i64>,
    title: &str,
    body: &str,
) -> Result<(), AppError> {
    let (title, body) = check(title, body).map_err(|e| AppError::Invalid(e.to_string()))?;
    let now = services.stored_now();
    let saved = match id {
        None => store::canned_replies::create(conn, &title, &body, manager.id, now).map(|_| true),
        Some(id) => store::canned_replies::update(conn, id, &title, &body, manager.id, now),
    };
    match saved {
        Ok(true) => Ok(()),
        Ok(false) => Err(AppError::NotFound),
        Err(error) if is_unique_violation(&error) => {
            Err(AppError::Invalid(format!("another canned reply is titled \"{title}\": choose another title")))
        }
        Err(error) => Err(error.into()),
    }
}
