//! The queue's read side, for the agents' pages: the list of tickets (oldest first, with
//! filters), as plain rows. It changes nothing; the actions are in the sibling files. Each
//! row says whether the one unlock rule would let an agent unlock it now.

use super::unlock::{facts_of, repeat_window_start};
use super::wording::{business_age, typical_business_day, verification_of, when, Verification};
use crate::app::{AppError, Services};
use crate::db::DbConnection;
use crate::ids::{TicketNumber, UserId};
use crate::store::queue::QueueFilter;
use crate::store::{self, orgs::Organisation, users::User};
use chrono::{DateTime, Utc};
use keydesk_core::tickets::may_unlock;
use keydesk_core::TicketStatus;
use serde::Serialize;
use std::collections::HashMap;

/// Rows on one page of the queue; the oldest come first, so nothing urgent is cut off.
pub const MAX_ROWS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    /// New, open and waiting on the user: what still needs someone.
    #[default]
    Unresolved,
    All,
    Only(TicketStatus),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    InHours,
    OutOfHours,
}

/// The queue's filters. Empty or unknown values mean "any" (for the status: unresolved).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueQuery {
    pub status: StatusFilter,
    pub organisation: Option<String>,
    pub verified: Option<bool>,
    pub arrival: Option<Arrival>,
    pub mine: bool,
}

/// The filters as the form shows them again.
#[derive(Debug, Clone, Serialize)]
pub struct FilterValues {
    pub status: &'static str,
    pub org: String,
    pub verified: &'static str,
    pub hours: &'static str,
    pub mine: bool,
}

impl QueueQuery {
    pub fn from_form(status: &str, organisation: &str, verified: &str, hours: &str, mine: &str) -> QueueQuery {
        QueueQuery {
            status: match status {
                "all" => StatusFilter::All,
                other => other.parse().map_or(StatusFilter::Unresolved, StatusFilter::Only),
            },
            organisation: Some(organisation.trim()).filter(|o| !o.is_empty()).map(str::to_owned),
            verified: match verified {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            arrival: match hours {
                "in" => Some(Arrival::InHours),
                "out" => Some(Arrival::OutOfHours),
                _ => None,
            },
            mine: matches!(mine, "yes" | "on" | "true" | "1"),
        }
    }

    pub fn form_values(&self) -> FilterValues {
        FilterValues {
            status: match self.status {
                StatusFilter::Unresolved => "",
                StatusFilter::All => "all",
                StatusFilter::Only(status) => status.as_str(),
            },
            org: self.organisation.clone().unwrap_or_default(),
            verified: match self.verified {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            },
            hours: match self.arrival {
                Some(Arrival::InHours) => "in",
                Some(Arrival::OutOfHours) => "out",
                None => "",
            },
            mine: self.mine,
        }
    }

    fn statuses(&self) -> Option<Vec<TicketStatus>> {
        match self.status {
            StatusFilter::Unresolved => Some(TicketStatus::UNRESOLVED.to_vec()),
            StatusFilter::All => None,
            StatusFilter::Only(status) => Some(vec![status]),
        }
    }
}

/// One line of the queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueRow {
    pub number: TicketNumber,
    /// As stated in the request, else the account holder's, else the From header's name.
    pub name: Option<String>,
    /// The registered email as stated, else the linked account's; else the sender's address.
    pub email: String,
    pub email_is_sender: bool,
    pub organisation: Option<String>,
    pub received_at: String,
    pub age: String,
    pub status: TicketStatus,
    pub status_label: &'static str,
    /// The one unlock rule allows an unlock now.
    pub ready_to_unlock: bool,
    pub verification: Verification,
    pub assignee: Option<String>,
    pub assigned_to_me: bool,
    pub arrived_in_hours: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrganisationOption {
    pub slug: String,
    pub name: String,
}

pub struct Queue {
    pub rows: Vec<QueueRow>,
    /// How many tickets matched (more than the rows when the page is full).
    pub matched: usize,
    pub organisations: Vec<OrganisationOption>,
}

pub fn queue(
    conn: &mut DbConnection,
    services: &Services,
    me: &User,
    query: &QueueQuery,
    now: DateTime<Utc>,
) -> Result<Queue, AppError> {
    let organisations = store::queue::organisations(conn)?;
    let options =
        organisations.iter().map(|o| OrganisationOption { slug: o.slug.clone(), name: o.name.clone() }).collect();
    let organisation_id = match &query.organisation {
        Some(slug) => match organisations.iter().find(|o| &o.slug == slug) {
            Some(found) => Some(found.id),
            None => return Ok(Queue { rows: vec![], matched: 0, organisations: options }),
        },
        None => None,
    };
    let filter = QueueFilter {
        statuses: query.statuses(),
        organisation_id,
        verified: query.verified,
        assignee_id: query.mine.then_some(me.id),
    };
    let calendar = &services.calendar;
    let mut tickets = store::queue::tickets(conn, &filter)?;
    if let Some(arrival) = query.arrival {
        tickets.retain(|t| calendar.is_open(t.received_at.and_utc()) == (arrival == Arrival::InHours));
    }
    let matched = tickets.len();
    tickets.truncate(MAX_ROWS);

    let mut ids: Vec<UserId> = tickets.iter().flat_map(|t| [t.account_user_id, t.assignee_id]).flatten().collect();
    ids.sort_unstable();
    ids.dedup();
    let people: HashMap<UserId, User> = store::queue::users_by_id(conn, &ids)?.into_iter().map(|u| (u.id, u)).collect();
    let organisation_names: HashMap<i64, &Organisation> = organisations.iter().map(|o| (o.id, o)).collect();
    let business_day = typical_business_day(calendar, now);
    let accounts: Vec<UserId> = tickets.iter().filter_map(|t| t.account_user_id).collect();
    let recent_unlocks = store::events::support_unlocks_of(conn, &accounts, repeat_window_start(now))?;

    let rows = tickets
        .iter()
        .map(|t| {
            let account = t.account_user_id.and_then(|id| people.get(&id));
            let assignee = t.assignee_id.and_then(|id| people.get(&id));
            let email = t.registered_email.clone().or_else(|| account.map(|a| a.email.clone()));
            QueueRow {
                number: t.id,
                name: t
                    .full_name
                    .clone()
                    .or_else(|| account.map(|a| a.full_name.clone()))
                    .or_else(|| t.sender_name.clone()),
                email_is_sender: email.is_none(),
                email: email.unwrap_or_else(|| t.sender.clone()),
                organisation: account
                    .and_then(|a| a.organisation_id)
                    .and_then(|id| organisation_names.get(&id))
                    .map(|o| o.name.clone()),
                received_at: when(t.received_at),
                age: business_age(calendar.business_duration(t.received_at.and_utc(), t.age_until(now)), business_day),
                status: t.status,
                status_label: t.status.label(),
                ready_to_unlock: {
                    let recent = t.account_user_id.and_then(|id| recent_unlocks.get(&id)).copied().unwrap_or(0);
                    may_unlock(&facts_of(services, t, account, recent, now), calendar, now).is_ok()
                },
                verification: verification_of(t),
                assignee: assignee.map(|a| a.full_name.clone()),
                assigned_to_me: t.assignee_id == Some(me.id),
                arrived_in_hours: calendar.is_open(t.received_at.and_utc()),
            }
        })
        .collect();
    Ok(Queue { rows, matched, organisations: options })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_come_from_the_form_and_go_back_to_it() {
        let waiting = TicketStatus::WaitingOnUser.as_str();
        let query = QueueQuery::from_form(waiting, " acme ", "no", "out", "yes");
        assert_eq!(
            query,
            QueueQuery {
                status: StatusFilter::Only(TicketStatus::WaitingOnUser),
                organisation: Some("acme".into()),
                verified: Some(false),
                arrival: Some(Arrival::OutOfHours),
                mine: true
            }
        );
        let values = query.form_values();
        assert_eq!(
            (values.status, values.org.as_str(), values.verified, values.hours, values.mine),
            (waiting, "acme", "no", "out", true)
        );
        assert_eq!(QueueQuery::from_form("", "", "", "", ""), QueueQuery::default());
        assert_eq!(QueueQuery::from_form("bogus", "", "maybe", "later", "no").status, StatusFilter::Unresolved);
        assert_eq!(QueueQuery::from_form("all", "", "", "", "").statuses(), None);
    }
}
