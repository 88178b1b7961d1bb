//! The queue's read side, for the agents' pages: the list of tickets (by next step, or
//! oldest first, with filters and a search), as plain rows. It changes nothing; the actions
//! are in the sibling files. Each row says what the ticket needs next (from the one unlock
//! rule) and how it stands against the service-level targets.

use super::standing::{markers, next_step_view, standings, TargetMarker};
use super::wording::{business_age, typical_business_day, verification_of, when, Verification};
use crate::app::{AppError, Services};
use crate::db::DbConnection;
use crate::ids::TicketNumber;
use crate::store::queue::QueueFilter;
use crate::store::{self, orgs::Organisation, users::User};
use chrono::{DateTime, Utc};
use keydesk_core::tickets::{NextStep, NextStepView, TicketSearch};
use keydesk_core::TicketStatus;
use serde::Serialize;
use std::collections::HashMap;

/// Rows on one page of the queue; the most urgent come first, so nothing urgent is cut off.
pub const MAX_ROWS: usize = 500;
/// A search reads at most this many matches (newest first) before the other filters.
const SEARCH_READ_LIMIT: i64 = 2_000;

/// The queue's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueSort {
    /// What can be finished now first (during working hours, "Ready to unlock"), then oldest.
    #[default]
    NextStep,
    Oldest,
}

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
    pub search: Option<TicketSearch>,
    pub sort: QueueSort,
}

/// The filters as the form shows them again.
#[derive(Debug, Clone, Serialize)]
pub struct FilterValues {
    pub status: &'static str,
    pub org: String,
    pub verified: &'static str,
    pub hours: &'static str,
    pub mine: bool,
    pub q: String,
    pub sort: &'static str,
    /// Any filter or search is set (the empty state offers to clear them).
    pub filtered: bool,
}

/// The queue's form, as typed.
#[derive(Debug, Clone, Default)]
pub struct QueueForm<'a> {
    pub status: &'a str,
    pub organisation: &'a str,
    pub verified: &'a str,
    pub hours: &'a str,
    pub mine: &'a str,
    pub q: &'a str,
    pub sort: &'a str,
}

impl QueueQuery {
    pub fn from_form(form: &QueueForm<'_>) -> QueueQuery {
        let QueueForm { status, organisation, verified, hours, mine, q, sort } = *form;
        let search = TicketSearch::parse(q);
        QueueQuery {
            status: match status {
                "all" => StatusFilter::All,
                // A search looks across every status unless one is chosen.
                "" if search.is_some() => StatusFilter::All,
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
            search,
            sort: if sort == "oldest" { QueueSort::Oldest } else { QueueSort::NextStep },
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
            q: match &self.search {
                None => String::new(),
                Some(TicketSearch::Number(number)) => format!("#{number}"),
                Some(TicketSearch::Words(words)) => words.join(" "),
            },
            sort: match self.sort {
                QueueSort::NextStep => "",
                QueueSort::Oldest => "oldest",
            },
            filtered: self.status != StatusFilter::Unresolved
                || self.organisation.is_some()
                || self.verified.is_some()
                || self.arrival.is_some()
                || self.mine
                || self.search.is_some(),
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
    /// Business time since it arrived (until its resolution, once resolved).
    pub age: String,
    pub status: TicketStatus,
    pub status_label: &'static str,
    pub next_step: NextStepView,
    /// The open targets: time left, amber past 80%, red when breached.
    pub sla: Vec<TargetMarker>,
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
        search: query.search.clone(),
        limit: query.search.is_some().then_some(SEARCH_READ_LIMIT),
    };
    let calendar = &services.calendar;
    let mut tickets = store::queue::tickets(conn, &filter)?;
    if let Some(arrival) = query.arrival {
        tickets.retain(|t| calendar.is_open(t.received_at.and_utc()) == (arrival == Arrival::InHours));
    }
    let matched = tickets.len();

    let people = store::queue::people_of(conn, &tickets)?;
    let organisation_names: HashMap<i64, &Organisation> = organisations.iter().map(|o| (o.id, o)).collect();
    let business_day = typical_business_day(calendar, now);
    let unresolved: Vec<_> = tickets.iter().filter(|t| !t.is_resolved()).cloned().collect();
    let standings = standings(conn, services, &unresolved, &people, now)?;
    let step_of = |t: &crate::store::tickets::Ticket| standings.get(&t.id).map_or(NextStep::Done, |s| s.next);
    if query.sort == QueueSort::NextStep && query.search.is_none() {
        // Stable: within a step, the order read (oldest first) stays.
        tickets.sort_by_key(|t| step_of(t).urgency());
    }
    tickets.truncate(MAX_ROWS);

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
                next_step: next_step_view(services, step_of(t)),
                sla: standings.get(&t.id).map(|s| markers(&s.targets)).unwrap_or_default(),
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
        let form = |status, org, verified, hours, mine| QueueForm {
            status,
            organisation: org,
            verified,
            hours,
            mine,
            ..QueueForm::default()
        };
        let query = QueueQuery::from_form(&form(waiting, " acme ", "no", "out", "yes"));
        assert_eq!(
            query,
            QueueQuery {
                status: StatusFilter::Only(TicketStatus::WaitingOnUser),
                organisation: Some("acme".into()),
                verified: Some(false),
                arrival: Some(Arrival::OutOfHours),
                mine: true,
                search: None,
                sort: QueueSort::NextStep,
            }
        );
        let values = query.form_values();
        assert_eq!(
            (values.status, values.org.as_str(), values.verified, values.hours, values.mine),
            (waiting, "acme", "no", "out", true)
        );
        assert_eq!(QueueQuery::from_form(&QueueForm::default()), QueueQuery::default());
        assert!(!QueueQuery::default().form_values().filtered);
        assert_eq!(QueueQuery::from_form(&form("bogus", "", "maybe", "later", "no")).status, StatusFilter::Unresolved);
        assert_eq!(QueueQuery::from_form(&form("all", "", "", "", "")).statuses(), None);
        // A search looks across every status, unless one is chosen.
        let search = QueueQuery::from_form(&QueueForm { q: "#42", sort: "oldest", ..QueueForm::default() });
        assert_eq!(
            (search.status, search.search, search.sort),
            (StatusFilter::All, Some(TicketSearch::Number(42)), QueueSort::Oldest)
        );
        let open_only = QueueQuery::from_form(&QueueForm { q: "mia", status: "open", ..QueueForm::default() });
        assert_eq!(open_only.status, StatusFilter::Only(TicketStatus::Open));
        assert_eq!(open_only.form_values().q, "mia");
    }
}
