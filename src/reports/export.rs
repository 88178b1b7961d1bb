//! CSV exports: one row per ticket (what every figure is made from) and the summary.

use keydesk_core::reports::{Summary, TicketRow};

use super::view::Report;

fn time(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map(|at| at.format("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default()
}

fn number(value: Option<i64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// The per-ticket rows, oldest first.
pub fn ticket_rows(report: &Report) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "ticket",
        "received_at",
        "received_in_hours",
        "organisation",
        "status",
        "first_response_at",
        "first_response_by",
        "first_response_business_seconds",
        "first_response_calendar_seconds",
        "unlocked_at",
        "unlocked_by",
        "unlock_business_seconds",
        "unlock_calendar_seconds",
        "resolved_at",
        "resolve_business_seconds",
        "resolve_calendar_seconds",
        "waiting_on_user_business_seconds",
        "first_response_sla",
        "unlock_sla",
        "verification",
        "spoof_suspected",
        "reopened",
        "handled_by",
    ])?;
    let names = &report.names;
    for row in report.input.rows() {
        let TicketRow { ticket_id, received_at, received_in_hours, organisation_id, status, .. } = &row;
        let agent = |id: Option<i64>| id.map(|id| names.agent(id)).unwrap_or_default();
        out.write_record([
            ticket_id.to_string(),
            time(Some(*received_at)),
            received_in_hours.to_string(),
            names.organisation(*organisation_id),
            status.to_string(),
            time(row.first_response_at),
            agent(row.first_response_by),
            number(row.first_response_business_seconds),
            number(row.first_response_calendar_seconds),
            time(row.unlocked_at),
            agent(row.unlocked_by),
            number(row.unlock_business_seconds),
            number(row.unlock_calendar_seconds),
            time(row.resolved_at),
            number(row.resolve_business_seconds),
            number(row.resolve_calendar_seconds),
            row.waiting_business_seconds.to_string(),
            row.first_response_sla.as_str().to_owned(),
            row.unlock_sla.as_str().to_owned(),
            row.verification.map(|m| m.as_str().to_owned()).unwrap_or_default(),
            row.spoof_suspected.to_string(),
            row.reopened.to_string(),
            row.handled_by.iter().map(|id| names.agent(*id)).collect::<Vec<_>>().join("; "),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// The headline figures, one per line: `figure,value`.
pub fn summary(report: &Report) -> Result<Vec<u8>, csv::Error> {
    let s = &report.summary;
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["figure", "value"])?;
    let mut put = |figure: &str, value: String| out.write_record([figure, value.as_str()]);
    put("from", s.from.to_string())?;
    put("to", s.to.to_string())?;
    put("as_of", time(Some(s.as_of)))?;
    put("received", s.received.to_string())?;
    put("received_in_hours", s.received_in_hours.to_string())?;
    put("received_out_of_hours", s.received_out_of_hours.to_string())?;
    put("still_open", s.still_open.to_string())?;
    for (name, summary) in [
        ("first_response_business_seconds", &s.first_response_business_seconds),
        ("first_response_calendar_seconds", &s.first_response_calendar_seconds),
        ("unlock_business_seconds", &s.unlock_business_seconds),
        ("unlock_calendar_seconds", &s.unlock_calendar_seconds),
        ("resolve_business_seconds", &s.resolve_business_seconds),
        ("resolve_calendar_seconds", &s.resolve_calendar_seconds),
    ] {
        let Summary { count, median, p90, mean } = *summary;
        put(&format!("{name}_count"), count.to_string())?;
        put(&format!("{name}_median"), number(median))?;
        put(&format!("{name}_p90"), number(p90))?;
        put(&format!("{name}_mean"), number(mean))?;
    }
    let share = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
    put("sla_first_response_target_seconds", s.sla.first_response.target_seconds.to_string())?;
    put("sla_first_response_met", share(s.sla.first_response_met))?;
    put("sla_first_response_breached", s.sla.first_response.breached.to_string())?;
    put("sla_unlock_target_seconds", s.sla.unlock.target_seconds.to_string())?;
    put("sla_unlock_met", share(s.sla.unlock_met))?;
    put("sla_unlock_breached", s.sla.unlock.breached.to_string())?;
    put("unlocks_self_serve", s.unlocks.self_serve.to_string())?;
    put("unlocks_support", s.unlocks.support.to_string())?;
    put("unlocks_automatic", s.unlocks.automatic.to_string())?;
    put("spoof_suspected", s.verification.spoof_suspected.to_string())?;
    put("abandoned", s.verification.abandoned.to_string())?;
    for (method, count) in &s.verification.by_method {
        put(&format!("verified_{}", method.as_str()), count.to_string())?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}
