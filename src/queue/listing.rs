//! The queue's read side, for the agents' pages: the list of tickets (oldest first, with
//! filters) and everything one ticket's page shows, as plain rows. It changes nothing; the
//! actions are in the sibling files, and the page only predicts what `unlock` will refuse,
//! in the same words.

use crate::accounts::{AccountError, Services};
use crate::db::DbConnection;
use crate::store::events::EventFilter;
use crate::store::queue::QueueFilter;
use crate::store::{self, orgs::Organisation, tickets::Ticket, users::User};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use keydesk_core::calendar::BusinessCalendar;
use keydesk_core::verification::{registered_sender_authenticated, Check, VerificationMethod, VerificationRefusal};
use keydesk_core::{Role, StaffRole};
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
                other => STATUSES.iter().find(|s| **s == other).map_or(StatusFilter::Unresolved, |s| StatusFilter::Only(s)),
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
        (Some(_), _) => Verification { state: "verified", label: format!("Verified ({})", method_words(ticket.verification_method.as_deref().unwrap_or("other"))) },
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

pub fn queue(conn: &mut DbConnection, services: &Services, me: &User, query: &QueueQuery, now: DateTime<Utc>) -> Result<Queue, AccountError> {
    let organisations = store::queue::organisations(conn)?;
    let options = organisations.iter().map(|o| OrganisationOption { slug: o.slug.clone(), name: o.name.clone() }).collect();
    let organisation_id = match &query.organisation {
        Some(slug) => match organisations.iter().find(|o| &o.slug == slug) {
            Some(found) => Some(found.id),
            None => return Ok(Queue { rows: vec![], matched: 0, organisations: options }),
        },
        None => None,
    };
    let filter = QueueFilter { statuses: query.statuses(), organisation_id, verified: query.verified, assignee_id: query.mine.then_some(me.id) };
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
                name: t.full_name.clone().or_else(|| account.map(|a| a.full_name.clone())).or_else(|| t.sender_name.clone()),
                email_is_sender: email.is_none(),
                email: email.unwrap_or_else(|| t.sender.clone()),
                organisation: account.and_then(|a| a.organisation_id).and_then(|id| organisation_names.get(&id)).map(|o| o.name.clone()),
                received_at: when(t.received_at),
                age: business_age(calendar.business_duration(t.received_at.and_utc(), now), business_day),
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

/// A field parsed from the request, and where it was found.
#[derive(Debug, Clone, Serialize)]
pub struct ParsedField {
    pub label: &'static str,
    pub value: Option<String>,
    pub source: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    /// "in" (from the user) or "out" (from support).
    pub direction: String,
    pub sender: String,
    pub at: String,
    pub subject: String,
    /// Text only: a sender's HTML never reaches the page.
    pub body_text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub label: &'static str,
    pub detail: String,
    /// An internal note: never sent to the user.
    pub internal: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    pub email: String,
    pub full_name: String,
    pub organisation: Option<String>,
    pub locked: bool,
    pub locked_at: Option<String>,
    pub failed_attempts: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActivityEntry {
    pub at: String,
    pub action: String,
    pub actor: String,
    pub ip: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckView {
    pub name: &'static str,
    pub label: &'static str,
    pub passed: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MethodOption {
    pub value: &'static str,
    pub label: &'static str,
}

/// Everything the ticket page shows.
#[derive(Debug, Clone, Serialize)]
pub struct TicketView {
    pub number: i64,
    pub subject: String,
    pub status: String,
    pub status_label: &'static str,
    pub resolved: bool,
    pub received_at: String,
    pub age: String,
    pub arrived_in_hours: bool,
    pub sender: String,
    pub sender_name: Option<String>,
    pub fields: Vec<ParsedField>,
    pub messages: Vec<MessageView>,
    pub history: Vec<HistoryEntry>,
    pub account: Option<AccountView>,
    pub activity: Vec<ActivityEntry>,
    pub checks: Vec<CheckView>,
    pub verification: Verification,
    pub verified_by: Option<String>,
    pub verified_at: Option<String>,
    pub verification_note: Option<String>,
    pub mailbox_confirmed: bool,
    /// The rule, when the sender is not authenticated and the mailbox not yet confirmed.
    pub verification_rule: Option<String>,
    pub viewer_is_manager: bool,
    pub methods: Vec<MethodOption>,
    pub assignee: Option<String>,
    pub assigned_to_me: bool,
    /// Why Unlock cannot be pressed now, if it cannot.
    pub unlock_blocked: Option<String>,
    pub hours: String,
    /// Who wrote on the user's behalf, and their role in the organisation (the second seed).
    pub requester: Option<(String, String, String)>,
}

pub fn ticket_view(conn: &mut DbConnection, services: &Services, me: &User, number: i64, now: DateTime<Utc>) -> Result<TicketView, AccountError> {
    let ticket = super::ticket(conn, number)?;
    let calendar = &services.calendar;
    let account = match ticket.account_user_id {
        Some(id) => store::users::find(conn, id)?,
        None => None,
    };
    let locked = account.as_ref().map(|a| services.config.lockout_policy().is_locked(a.locked_at, now.naive_utc()));
    let organisation = match account.as_ref().and_then(|a| a.organisation_id) {
        Some(id) => store::orgs::find(conn, id)?,
        None => None,
    };
    let activity = match &account {
        Some(account) => store::events::list(conn, &EventFilter { target_user_id: Some(account.id), limit: 10, ..Default::default() })?,
        None => vec![],
    };
    let messages = store::tickets::messages(conn, ticket.id)?;
    let history = store::ticket_events::of_ticket(conn, ticket.id)?;
    let checks = super::verify::checks(conn, services, &ticket)?;
    let mut ids: Vec<i64> = [ticket.assignee_id, ticket.verified_by_id].into_iter().flatten().collect();
    ids.dedup();
    let people: HashMap<i64, User> = store::queue::users_by_id(conn, &ids)?.into_iter().map(|u| (u.id, u)).collect();
    let name_of = |id: Option<i64>| id.and_then(|id| people.get(&id)).map(|u| u.full_name.clone());

    let sender_authenticated = registered_sender_authenticated(&checks);
    let mailbox_confirmed = ticket.mailbox_confirmed_at.is_some();
    let viewer_is_manager = me.role() == Role::Staff(StaffRole::Manager);
    let received = ticket.received_at.and_utc();
    Ok(TicketView {
        number: ticket.id,
        subject: ticket.subject.clone(),
        status: ticket.status.clone(),
        status_label: status_label(&ticket.status),
        resolved: matches!(ticket.status.as_str(), "resolved" | "closed"),
        received_at: when(ticket.received_at),
        age: business_age(calendar.business_duration(received, now), typical_business_day(calendar, now)),
        arrived_in_hours: calendar.is_open(received),
        sender: ticket.sender.clone(),
        sender_name: ticket.sender_name.clone(),
        fields: vec![
            ParsedField { label: "Full name", value: ticket.full_name.clone(), source: ticket.full_name_source.as_deref().map(source_words) },
            ParsedField { label: "Registered email", value: ticket.registered_email.clone(), source: ticket.registered_email_source.as_deref().map(source_words) },
            ParsedField { label: "Description", value: ticket.description.clone(), source: ticket.description_source.as_deref().map(source_words) },
        ],
        messages: messages
            .into_iter()
            .map(|m| MessageView { direction: m.direction, sender: m.sender, at: when(m.at), subject: m.subject, body_text: m.body_text })
            .collect(),
        history: history
            .into_iter()
            .map(|e| HistoryEntry { at: when(e.at), label: event_label(&e.kind), internal: e.kind == "note", actor: e.actor_label, kind: e.kind, detail: e.detail })
            .collect(),
        account: account.as_ref().map(|a| AccountView {
            email: a.email.clone(),
            full_name: a.full_name.clone(),
            organisation: organisation.as_ref().map(|o| o.name.clone()),
            locked: locked.unwrap_or(false),
            locked_at: a.locked_at.map(when),
            failed_attempts: a.failed_attempts,
        }),
        activity: activity
            .into_iter()
            .map(|e| ActivityEntry { at: when(e.at), action: e.action, actor: e.actor_label, ip: e.ip, detail: e.detail })
            .collect(),
        checks: checks.iter().map(|c| CheckView { name: c.name, label: check_label(c.name), passed: c.passed, detail: c.detail.clone() }).collect(),
        verification: verification_of(&ticket),
        verified_by: name_of(ticket.verified_by_id),
        verified_at: ticket.verified_at.map(when),
        verification_note: ticket.verification_note.clone().filter(|n| !n.is_empty()),
        mailbox_confirmed,
        verification_rule: (!sender_authenticated && !mailbox_confirmed).then(|| sentence(&VerificationRefusal::SenderNotAuthenticated.to_string())),
        viewer_is_manager,
        methods: VerificationMethod::ALL.iter().map(|m| MethodOption { value: m.as_str(), label: method_words(m.as_str()) }).collect(),
        assignee: name_of(ticket.assignee_id),
        assigned_to_me: ticket.assignee_id == Some(me.id),
        unlock_blocked: unlock_blocker(&ticket, locked, calendar, now),
        hours: calendar.describe_hours(),
        requester: match ticket.requester_user_id {
            Some(id) => store::users::find(conn, id)?.map(|u| (u.full_name, u.email, u.role)),
            None => None,
        },
    })
}

/// Why `queue::unlock::unlock` would refuse now, in its order; `None` when it would unlock.
/// `account_locked` is `None` for a ticket with no linked account.
pub fn unlock_blocker(ticket: &Ticket, account_locked: Option<bool>, calendar: &BusinessCalendar, now: DateTime<Utc>) -> Option<String> {
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
    let midnight = |date: NaiveDate| zone.from_local_datetime(&date.and_hms_opt(0, 0, 0)?).earliest().map(|t| t.with_timezone(&Utc));
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

fn check_label(name: &str) -> &'static str {
    match name {
        Check::REGISTERED_EMAIL_HAS_ACCOUNT => "Registered email has an account",
        Check::ACCOUNT_LOCKED => "Account is locked",
        Check::NAME_MATCHES => "Name matches the account",
        Check::SENDER_IS_REGISTERED_ADDRESS => "Sender is the registered address",
        Check::SENDER_AUTHENTICATED => "Sender authenticated by our mail server",
        _ => "Check",
    }
}

fn source_words(source: &str) -> &'static str {
    match source {
        "body_label" => "a labelled line",
        "prose" => "the wording of the message",
        "header" => "the From header",
        _ => "the message",
    }
}

fn event_label(kind: &str) -> &'static str {
    match kind {
        "received" => "Received",
        "acknowledged" => "Acknowledged",
        "assigned" => "Assigned",
        "note" => "Internal note",
        "agent_replied" => "Replied to the user",
        "user_replied" => "The user replied",
        "reopened" => "Reopened",
        "waiting_on_user" => "Waiting on the user",
        "resolved" => "Resolved",
        "challenge_sent" => "Mailbox challenge sent",
        "mailbox_confirmed" => "Mailbox confirmed",
        "verified" => "Verified",
        "unlocked" => "Account unlocked",
        _ => "Event",
    }
}

/// Capitalised, with one full stop (for reasons worded to follow a colon).
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    format!("{first}{}.", chars.as_str().trim_end_matches('.'))
}

fn when(at: NaiveDateTime) -> String {
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
        assert_eq!(typical_business_day(&BusinessCalendar::from_config(&never).unwrap(), at("2026-11-24T12:00:00Z")), None);
    }

    #[test]
    fn closed_support_names_the_next_opening_in_its_own_zone() {
        let calendar = london_office();
        // Saturday evening: next Monday 09:00 London (GMT in November).
        let now = at("2026-11-21T19:00:00Z");
        assert_eq!(closed_message(&calendar, calendar.next_opening(now)), "Support is closed; opens Mon 23 Nov 09:00 Europe/London");
        // In summer the same wall-clock opening is 08:00 UTC.
        let summer = at("2026-07-04T19:00:00Z");
        assert_eq!(calendar.next_opening(summer), Some(at("2026-07-06T08:00:00Z")));
        assert_eq!(closed_message(&calendar, calendar.next_opening(summer)), "Support is closed; opens Mon 6 Jul 09:00 Europe/London");
    }

    #[test]
    fn filters_come_from_the_form_and_go_back_to_it() {
        let query = QueueQuery::from_form("waiting_on_user", " acme ", "no", "out", "yes");
        assert_eq!(
            query,
            QueueQuery { status: StatusFilter::Only("waiting_on_user"), organisation: Some("acme".into()), verified: Some(false), arrival: Some(Arrival::OutOfHours), mine: true }
        );
        let values = query.form_values();
        assert_eq!((values.status, values.org.as_str(), values.verified, values.hours, values.mine), ("waiting_on_user", "acme", "no", "out", true));
        assert_eq!(QueueQuery::from_form("", "", "", "", ""), QueueQuery::default());
        assert_eq!(QueueQuery::from_form("bogus", "", "maybe", "later", "no").status, StatusFilter::Unresolved);
        assert_eq!(QueueQuery::from_form("all", "", "", "", "").statuses(), None);
    }
}
