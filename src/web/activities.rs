//! The "Activities" page: an organisation's owner and admins see their organisation's
//! events; agents and managers see everyone's. Newest first, a page of [`PER_PAGE`] at a
//! time with how many there are in all; `?user=<email>` lists the events about one user
//! (Manage Users links each person's here).

use super::guards::ActivityViewer;
use super::page::Layout;
use crate::app::{AppError, Services};
use crate::store::events::EventFilter;
use crate::store::{self, events::Event};
use chrono::NaiveDate;
use keydesk_core::paging::Page;
use keydesk_core::{EmailAddress, EventKind};
use rocket::form::FromForm;
use rocket::State;
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

/// Entries on one page.
pub const PER_PAGE: u64 = 500;

#[derive(FromForm, Default)]
pub struct ActivityQuery {
    user: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// 1 is the newest page.
    page: Option<u64>,
}

pub fn event_json(event: &Event) -> Value {
    json!({
        "at": event.at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "action": event.action.label(),
        "actor": event.actor_label,
        "target": event.target_label,
        "ip": event.ip,
        "detail": event.detail,
    })
}

fn date(value: &Option<String>) -> Option<NaiveDate> {
    value.as_deref().filter(|v| !v.is_empty()).and_then(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
}

#[rocket::get("/activities?<query..>")]
pub async fn activities(
    query: ActivityQuery,
    viewer: ActivityViewer,
    layout: Layout,
    services: &State<Services>,
) -> Result<Template, AppError> {
    let me = viewer.0.user;
    let action = query.action.as_deref().and_then(EventKind::from_label);
    let from = date(&query.from);
    let to = date(&query.to);
    let user_email = query.user.clone().filter(|u| !u.trim().is_empty());
    let asked_page = query.page;
    let (events, page) = services
        .run(move |conn, _| {
            // Organisation people see only their organisation, whatever the query says.
            let organisation_id = if me.role.may_read_all_accounts() {
                None
            } else {
                Some(me.organisation_id.ok_or(AppError::Forbidden)?)
            };
            let target_user_id = match user_email.as_deref().map(EmailAddress::parse) {
                Some(Ok(email)) => match store::users::find_by_email(conn, &email)? {
                    Some(user) if organisation_id.is_none() || user.organisation_id == organisation_id => Some(user.id),
                    _ => return Ok((vec![], Page::of(None, PER_PAGE, 0))),
                },
                Some(Err(_)) => return Ok((vec![], Page::of(None, PER_PAGE, 0))),
                None => None,
            };
            let mut filter = EventFilter {
                organisation_id,
                target_user_id,
                action,
                from: from.and_then(|d| d.and_hms_opt(0, 0, 0)),
                until: to.and_then(|d| d.succ_opt()).and_then(|d| d.and_hms_opt(0, 0, 0)),
                limit: PER_PAGE as i64,
                offset: 0,
            };
            let total = store::events::count(conn, &filter)?;
            let page = Page::of(asked_page, PER_PAGE, u64::try_from(total).unwrap_or(0));
            filter.offset = page.offset() as i64;
            Ok((store::events::list(conn, &filter)?, page))
        })
        .await?;
    // The filters stay on the other pages.
    let link = |number: u64| {
        let mut link = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [("user", &query.user), ("action", &query.action), ("from", &query.from), ("to", &query.to)]
        {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                link.append_pair(key, value);
            }
        }
        format!("/activities?{}", link.append_pair("page", &number.to_string()).finish())
    };
    let rows: Vec<Value> = events.iter().map(event_json).collect();
    let actions: Vec<&str> = EventKind::ALL.iter().map(|k| k.label()).collect();
    Ok(layout.render(
        "activities",
        "Activities",
        json!({
            "events": rows,
            "page": page,
            "newer": page.previous().map(link),
            "older": page.next().map(link),
            "actions": actions,
            "query": {"user": query.user, "action": query.action, "from": query.from, "to": query.to},
        }),
    ))
}
