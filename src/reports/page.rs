//! The report page's context: headline figures in words, the charts, the tables and the
//! links that keep the page's filters.

use keydesk_core::paging::Page;
use keydesk_core::reports::{Audience, GoalVerdict, Preset, SlaTarget};
use serde_json::{json, Value};

use super::charts;
use super::view::{duration_words, share_words, Report, ReportRequest};

/// Breaches listed on one page of the report; the others are a click away (and all in the
/// ticket CSV).
pub const BREACHES_PER_PAGE: u64 = 50;

/// What the page shows besides the report: today (for the presets), who may be picked in
/// the filters, the compliance goal and which page of breaches was asked for.
pub struct PageOptions<'a> {
    pub today: chrono::NaiveDate,
    pub staff: &'a [(i64, String)],
    pub organisations: &'a [(String, String)],
    /// `sla.compliance_goal`, in percent.
    pub goal_percent: u8,
    pub breach_page: Option<u64>,
}

/// A share in words with its verdict against the goal: "52%" and "missed".
fn compliance(share: Option<f64>, goal_percent: u8) -> Value {
    let verdict = GoalVerdict::of(share, goal_percent);
    json!({"share": share_words(share), "verdict": verdict, "missed": verdict.is_missed()})
}

pub fn context(report: &Report, audience: Audience, request: &ReportRequest, options: PageOptions) -> Value {
    let PageOptions { today, staff, organisations, goal_percent, breach_page } = options;
    let s = &report.summary;
    let names = &report.names;
    let query = query_string(report);
    let figure = |summary: &keydesk_core::reports::Summary| {
        json!({
            "median": duration_words(summary.median), "p90": duration_words(summary.p90), "mean": duration_words(summary.mean), "count": summary.count,
        })
    };
    // Each kind of time once: the headline figures and the table of times share them.
    let times = [
        ("First response", &s.first_response_business_seconds, &s.first_response_calendar_seconds),
        ("Unlock", &s.unlock_business_seconds, &s.unlock_calendar_seconds),
        ("Resolve", &s.resolve_business_seconds, &s.resolve_calendar_seconds),
    ]
    .map(|(label, business, calendar)| json!({"label": label, "business": figure(business), "calendar": figure(calendar)}));
    let target_label = |target: SlaTarget| match target {
        SlaTarget::FirstResponse => "First response",
        SlaTarget::Unlock => "Unlock",
    };
    let breaches = Page::of(breach_page, BREACHES_PER_PAGE, s.sla.breaches.len() as u64);
    // The range and filters stay; the page lands on the list.
    let breach_link = |n: u64| format!("/reports?{query}&breaches={n}#breaches");
    json!({
        "from": s.from.to_string(),
        "to": s.to.to_string(),
        "as_of": s.as_of.with_timezone(&report.input.calendar.timezone()).format("%Y-%m-%d %H:%M %Z").to_string(),
        "hours": s.working_hours,
        "scope": scope_words(report, audience),
        "query": query,
        "presets": Preset::ALL.iter().map(|preset| {
            let (from, to) = preset.dates(today);
            json!({"label": preset.label(), "from": from.to_string(), "to": to.to_string(), "active": from == s.from && to == s.to})
        }).collect::<Vec<_>>(),
        "filters": {
            "org": report.organisation_slug.clone().unwrap_or_default(),
            "agent": request.agent,
            "may_filter_org": !matches!(audience, Audience::Organisation { .. }),
            "may_filter_agent": matches!(audience, Audience::Everything),
        },
        "organisations": organisations.iter().map(|(slug, name)| json!({"slug": slug, "name": name})).collect::<Vec<_>>(),
        "staff": staff.iter().map(|(id, name)| json!({"id": id, "name": name})).collect::<Vec<_>>(),
        "received": s.received,
        "received_in_hours": s.received_in_hours,
        "received_out_of_hours": s.received_out_of_hours,
        "still_open": s.still_open,
        "first_response": times[0],
        "unlock": times[1],
        "times": times,
        "sla": {
            "first_response_target": duration_words(Some(s.sla.first_response.target_seconds)),
            "goal": format!("{goal_percent}%"),
            "first_response_met": share_words(s.sla.first_response_met),
            "first_response_compliance": compliance(s.sla.first_response_met, goal_percent),
            "unlock_compliance": compliance(s.sla.unlock_met, goal_percent),
            "first_response": s.sla.first_response,
            "unlock_target": duration_words(Some(s.sla.unlock.target_seconds)),
            "unlock_met": share_words(s.sla.unlock_met),
            "unlock": s.sla.unlock,
            "breach_count": s.sla.breaches.len(),
            "breach_page": breaches,
            "breach_pages": {
                "previous": breaches.previous().map(breach_link),
                "next": breaches.next().map(breach_link),
            },
            "breaches": s.sla.breaches.iter().skip(breaches.offset() as usize).take(breaches.per_page as usize).map(|b| json!({
                "ticket": b.ticket_id,
                "target": target_label(b.target),
                "took": duration_words(Some(b.business_seconds)),
                "allowed": duration_words(Some(b.target_seconds)),
                "still_open": b.still_open,
            })).collect::<Vec<_>>(),
        },
        "charts": {
            "volume": charts::volume(&s.days),
            "unlock": charts::unlock_times(&s.days, s.sla.unlock.target_seconds),
            "backlog": charts::backlog(&s.days),
            "heat_map": charts::heat_map(&s.arrivals_by_weekday_and_hour),
            "heat_legend": charts::heat_legend(&s.arrivals_by_weekday_and_hour),
            "heat_rows": s.arrivals_by_weekday_and_hour.iter().zip(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])
                .map(|(hours, day)| json!({"day": day, "hours": hours, "total": hours.iter().sum::<u32>()})).collect::<Vec<_>>(),
        },
        "agents": s.agents.iter().map(|a| json!({
            "name": names.agent(a.agent_id), "id": a.agent_id, "handled": a.tickets_handled, "first_responses": a.first_responses,
            "unlocks": a.unlocks, "median_unlock": duration_words(a.unlock_business_seconds.median),
        })).collect::<Vec<_>>(),
        "organisation_rows": organisations_by_name(report).into_iter().map(|o| json!({
            "name": names.organisation(o.organisation_id), "received": o.received, "out_of_hours": o.received_out_of_hours,
            "unlocked": o.unlocked, "median_unlock": duration_words(o.unlock_business_seconds.median), "unlock_met": compliance(o.unlock_met, goal_percent),
        })).collect::<Vec<_>>(),
        "verification": {
            "methods": s.verification.by_method.iter().map(|(method, count)| json!({"method": method.label(), "count": count})).collect::<Vec<_>>(),
            "spoof_suspected": s.verification.spoof_suspected,
            "abandoned": s.verification.abandoned,
            "pending": s.verification.pending,
        },
        "unlocks": s.unlocks,
        "days": s.days.iter().map(|d| json!({
            "date": d.date.to_string(), "in_hours": d.received_in_hours, "out_of_hours": d.received_out_of_hours,
            "backlog": d.backlog_at_end, "median_unlock": duration_words(d.unlock_business_seconds.median),
        })).collect::<Vec<_>>(),
        "links_to_tickets": !matches!(audience, Audience::Organisation { .. }),
    })
}

/// By name, "No linked account" last.
fn organisations_by_name<'r>(report: &'r Report) -> Vec<&'r keydesk_core::reports::OrganisationFigures> {
    let mut rows: Vec<_> = report.summary.organisations.iter().collect();
    rows.sort_by_key(|o| (o.organisation_id.is_none(), report.names.organisation(o.organisation_id).to_lowercase()));
    rows
}

fn scope_words(report: &Report, audience: Audience) -> String {
    let mut words = match (audience, report.scope.agent) {
        (Audience::OwnTickets { .. }, _) => "Tickets you handled".to_owned(),
        (_, Some(agent)) => format!("Tickets {} handled", report.names.agent(agent)),
        _ => "All tickets".to_owned(),
    };
    if let Some(id) = report.scope.organisation {
        words.push_str(&format!(" for {}", report.names.organisation(Some(id))));
    }
    words
}

/// `from=…&to=…[&org=…][&agent=…]`, for the export links.
pub fn query_string(report: &Report) -> String {
    let s = &report.summary;
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("from", &s.from.to_string()).append_pair("to", &s.to.to_string());
    if let Some(slug) = &report.organisation_slug {
        query.append_pair("org", slug);
    }
    if let Some(agent) = report.scope.agent {
        query.append_pair("agent", &agent.to_string());
    }
    query.finish()
}
