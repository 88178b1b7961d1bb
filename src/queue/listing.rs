//! The queue's read side, for the agents' pages: the list of tickets (oldest first, with
//! filters) and everything one ticket's page shows, as plain rows. It changes nothing; the
//! actions are in the sibling files, and the page only predicts what `unlock` will refuse,
//! in the same words.

use crate::accounts::{AccountError, Services};
use crate::db::DbConnection;
use crate::store::queue::QueueFilter;
use crate::store::{self, orgs::Organisation, tickets::Ticket, users::User};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use keydesk_core::calendar::BusinessCalendar;
use serde::Serialize;
use std::collections::HashMap;

pub const STATUSES: [&str; 5] = ["new", "open", "waiting_on_user", "resolved", "closed"];
const UNRESOLVED: [&str; 3] = ["new", "open", "waiting_on_user"];
/// Rows on one page of the queue; the oldest come first, so nothing urgent is cut off.
pub const MAX_ROWS: usize = 500;

pub const NOT_VERIFIED: &str = "The ticket is not verified: verify the sender first.";
pub const NO_ACCOUNT: &str = "The ticket is not linked to an account: there is nothing to unlock.";
pub const ALREADY_UNLOCKED: &str = "The account is already unlocked — resolve without unlocking.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    /// New, open and waiting on the user: what still needs someone.
    #[default]
    Unresolved,
    All,
    Only(&'static str),
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
                other => {
                    STATUSES.iter().find(|s| **s == other).map_or(StatusFilter::Unresolved, |s| StatusFilter::Only(s))
                }
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
                StatusFilter::Only(status) => status,
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

    fn statuses(&self) -> Option<Vec<&'static str>> {
        match self.status {
            StatusFilter::Unresolved => Some(UNRESOLVED.to_vec()),
            StatusFilter::All => None,
            StatusFilter::Only(status) => Some(vec![status]),
        }
    }
}

/// How far a ticket has got with proving who wrote.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Verification {
    /// "verified", "mailbox_confirmed" or "not_verified" (a CSS class too).
    pub state: &'static str,
    /// "Verified (call back)", "Mailbox confirmed", "Not verified".
    pub label: String,
}

pub fn verification_of(ticket: &Ticket) -> Verification {
    match (&ticket.verified_at, &ticket.mailbox_confirmed_at) {
        (Some(_), _) => Verification {
            state: "verified",
            label: format!("Verified ({})", method_words(ticket.verification_method.as_deref().unwrap_or("other"))),
        },
        (None, Some(_)) => Verification { state: "mailbox_confirmed", label: "Mailbox confirmed".into() },
        (None, None) => Verification { state: "not_verified", label: "Not verified".into() },
    }
}

/// One line of the queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueRow {
    pub number: i64,
    /// As stated in the request, else the account holder's, else the From header's name.
    pub name: Option<String>,
    /// The registered email as stated, else the linked account's; else the sender's address.
    pub email: String,
    pub email_is_sender: bool,
    pub organisation: Option<String>,
    pub received_at: String,
    pub age: String,
    pub status: String,
    pub status_label: &'static str,
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
) -> Result<Queue, AccountError> {
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

    let mut ids: Vec<i64> = tickets.iter().flat_map(|t| [t.account_user_id, t.assignee_id]).flatten().collect();
    ids.sort_unstable();
    ids.dedup();
    let people: HashMap<i64, User> = store::queue::users_by_id(conn, &ids)?.into_iter().map(|u| (u.id, u)).collect();
    let organisation_names: HashMap<i64, &Organisation> = organisations.iter().map(|o| (o.id, o)).collect();
    let business_day = typical_business_day(calendar, now);

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
                status: t.status.clone(),
                status_label: status_label(&t.status),
                verification: verification_of(t),
                assignee: assignee.map(|a| a.full_name.clone()),
                assigned_to_me: t.assignee_id == Some(me.id),
                arrived_in_hours: calendar.is_open(t.received_at.and_utc()),
            }
        })
        .collect();
    Ok(Queue { rows, matched, organisations: options })
}

pub fn unlock_blocker(
    ticket: &Ticket,
    account_locked: Option<bool>,
    calendar: &BusinessCalendar,
    now: DateTime<Utc>,
) -> Option<String> {
    if ticket.verified_at.is_none() {
        return Some(NOT_VERIFIED.into());
    }
    if !calendar.is_open(now) {
        return Some(closed_message(calendar, calendar.next_opening(now)));
    }
    match account_locked {
        None => Some(NO_ACCOUNT.into()),
        Some(false) => Some(ALREADY_UNLOCKED.into()),
        Some(true) => None,
    }
}

/// "Support is closed; opens Mon 24 Nov 09:00 Europe/London", in the calendar's time zone.
pub fn closed_message(calendar: &BusinessCalendar, next_opening: Option<DateTime<Utc>>) -> String {
    match next_opening {
        Some(at) => {
            let zone = calendar.timezone();
            format!("Support is closed; opens {} {}", at.with_timezone(&zone).format("%a %-d %b %H:%M"), zone.name())
        }
        None => "Support is closed, and does not open within the next two years (check the working hours).".into(),
    }
}

/// The open hours of an ordinary working day: the commonest non-zero open time of the next
/// fortnight's local dates (holidays and short days aside). `None` when support never opens.
pub fn typical_business_day(calendar: &BusinessCalendar, now: DateTime<Utc>) -> Option<Duration> {
    let zone = calendar.timezone();
    let midnight = |date: NaiveDate| {
        zone.from_local_datetime(&date.and_hms_opt(0, 0, 0)?).earliest().map(|t| t.with_timezone(&Utc))
    };
    let mut seen: Vec<(Duration, usize)> = Vec::new();
    for date in now.with_timezone(&zone).date_naive().iter_days().take(14) {
        let (Some(start), Some(end)) = (midnight(date), date.succ_opt().and_then(midnight)) else { continue };
        let open = calendar.business_duration(start, end);
        if open <= Duration::zero() {
            continue;
        }
        match seen.iter_mut().find(|(length, _)| *length == open) {
            Some((_, count)) => *count += 1,
            None => seen.push((open, 1)),
        }
    }
    seen.into_iter().max_by_key(|(length, count)| (*count, *length)).map(|(length, _)| length)
}

/// "under 1 business hour", "3 business hours", "2 business days" (whole days of `business_day`).
pub fn business_age(open: Duration, business_day: Option<Duration>) -> String {
    let plural = |n: i64, unit: &str| if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") };
    if open < Duration::hours(1) {
        return "under 1 business hour".into();
    }
    match business_day.filter(|day| *day > Duration::zero() && open >= *day) {
        Some(day) => plural(open.num_minutes() / day.num_minutes().max(1), "business day"),
        None => plural(open.num_hours(), "business hour"),
    }
}

pub fn status_label(status: &str) -> &'static str {
    match status {
        "new" => "New",
        "open" => "Open",
        "waiting_on_user" => "Waiting on user",
        "resolved" => "Resolved",
        "closed" => "Closed",
        _ => "Unknown",
    }
}

pub fn method_words(method: &str) -> &'static str {
    match method {
        "mailbox_confirmed" => "mailbox confirmed",
        "call_back" => "call back",
        "confirmed_by_owner" => "confirmed by owner",
        "confirmed_by_organisation" => "confirmed by organisation",
        _ => "other",
    }
}

/// Capitalised, with one full stop (for reasons worded to follow a colon).
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    format!("{first}{}.", chars.as_str().trim_end_matches('.'))
}

pub(super) fn when(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use keydesk_core::calendar::WorkingHoursConfig;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn london_office() -> BusinessCalendar {
        BusinessCalendar::from_config(&WorkingHoursConfig::default()).unwrap()
    }

    #[test]
    fn ages_read_in_business_hours_then_days() {
        let day = Some(Duration::hours(8));
        let cases = [
            (Duration::minutes(0), "under 1 business hour"),
            (Duration::minutes(59), "under 1 business hour"),
            (Duration::minutes(60), "1 business hour"),
            (Duration::minutes(3 * 60 + 59), "3 business hours"),
            (Duration::hours(7), "7 business hours"),
            (Duration::hours(8), "1 business day"),
            (Duration::hours(17), "2 business days"),
        ];
        for (open, expected) in cases {
            assert_eq!(business_age(open, day), expected, "{open:?}");
        }
        assert_eq!(business_age(Duration::hours(30), None), "30 business hours");
    }

    #[test]
    fn a_business_day_is_the_calendars_usual_open_hours() {
        // Monday 24 November 2026, 9:00–17:00 London, weekends closed.
        assert_eq!(typical_business_day(&london_office(), at("2026-11-24T12:00:00Z")), Some(Duration::hours(8)));
        let never = WorkingHoursConfig { days: vec![], ..WorkingHoursConfig::default() };
        assert_eq!(
            typical_business_day(&BusinessCalendar::from_config(&never).unwrap(), at("2026-11-24T12:00:00Z")),
            None
        );
    }

    #[test]
    fn closed_support_names_the_next_opening_in_its_own_zone() {
        let calendar = london_office();
        // Saturday evening: next Monday 09:00 London (GMT in November).
        let now = at("2026-11-21T19:00:00Z");
        assert_eq!(
            closed_message(&calendar, calendar.next_opening(now)),
            "Support is closed; opens Mon 23 Nov 09:00 Europe/London"
        );
        // In summer the same wall-clock opening is 08:00 UTC.
        let summer = at("2026-07-04T19:00:00Z");
        assert_eq!(calendar.next_opening(summer), Some(at("2026-07-06T08:00:00Z")));
        assert_eq!(
            closed_message(&calendar, calendar.next_opening(summer)),
            "Support is closed; opens Mon 6 Jul 09:00 Europe/London"
        );
    }

    #[test]
    fn filters_come_from_the_form_and_go_back_to_it() {
        let query = QueueQuery::from_form("waiting_on_user", " acme ", "no", "out", "yes");
        assert_eq!(
            query,
            QueueQuery {
                status: StatusFilter::Only("waiting_on_user"),
                organisation: Some("acme".into()),
                verified: Some(false),
                arrival: Some(Arrival::OutOfHours),
                mine: true
            }
        );
        let values = query.form_values();
        assert_eq!(
            (values.status, values.org.as_str(), values.verified, values.hours, values.mine),
            ("waiting_on_user", "acme", "no", "out", true)
        );
        assert_eq!(QueueQuery::from_form("", "", "", "", ""), QueueQuery::default());
        assert_eq!(QueueQuery::from_form("bogus", "", "maybe", "later", "no").status, StatusFilter::Unresolved);
        assert_eq!(QueueQuery::from_form("all", "", "", "", "").statuses(), None);
    }
}
