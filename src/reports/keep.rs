//! Keeps each ended local day's resolved tickets as measured rows (`report_days`;
//! keydesk_core::reports::settled), so a long report folds them instead of reading and
//! measuring every ticket: a year of a million tickets is read as 365 rows.
//!
//! - The worker keeps the days that have ended, every hour, back as far as a report reaches
//!   (`MAX_DAYS`); a day already kept with today's rules is left alone.
//! - Whatever changes one of a day's tickets forgets the day in the same transaction (the
//!   migration's triggers), and the next pass keeps it again. A report reads the days not
//!   kept (or kept with other rules, or with history after its end) ticket by ticket, so
//!   kept rows only ever save time: the figures are the same either way (tests/report_days.rs).
//! - A day with history at or after the instant it would be kept at (a clock ahead of this
//!   one) is left for a later pass. Days kept with other rules (the hours or targets have
//!   changed) are forgotten by the next pass.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use keydesk_core::reports::{
    decode_settled, encode_settled, rules_key, Measurer, ReportWindow, SettledTicket, SlaTargets, TicketFacts,
    UnreadableRows, MAX_DAYS,
};
use keydesk_core::BusinessCalendar;

use crate::app::{AppError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::store::report_days::{self, KeptDay};
use crate::store::reports as reads;

/// How often the worker looks for days to keep.
const EVERY: Duration = Duration::from_secs(3600);

/// The kept rows a report may use.
#[derive(Default)]
pub struct Kept {
    /// The kept days, `[start, end)`, in order.
    days: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pub settled: Vec<SettledTicket>,
    /// The kept days' tickets that were still open when kept.
    pub open_ticket_ids: Vec<i64>,
}

impl Kept {
    /// The parts of `[from, until)` no kept day covers, in order.
    pub fn gaps(&self, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let mut gaps = Vec::new();
        let mut cursor = from;
        for (start, end) in &self.days {
            if *start > cursor {
                gaps.push((cursor, (*start).min(until)));
            }
            cursor = cursor.max(*end);
        }
        if cursor < until {
            gaps.push((cursor, until));
        }
        gaps.retain(|(start, end)| start < end);
        gaps
    }
}

/// The days of `window` kept with today's rules and before its `as_of`, read back (of
/// `organisation` only, when given). A day that does not read back is left out, so its
/// tickets are read one by one.
pub fn usable(
    conn: &mut DbConnection,
    calendar: &BusinessCalendar,
    targets: SlaTargets,
    window: &ReportWindow,
    organisation: Option<i64>,
) -> diesel::QueryResult<Kept> {
    let rules = rules_key(calendar, targets);
    let days =
        report_days::usable(conn, window.start.naive_utc(), window.end.naive_utc(), &rules, window.as_of.naive_utc())?;
    let mut kept = Kept::default();
    for (day, decoded) in days.iter().zip(decode_on_two_threads(&days)) {
        match decoded {
            Ok(mut settled) => {
                settled.retain(|ticket| organisation.is_none_or(|id| ticket.organisation_id() == Some(id)));
                kept.settled.append(&mut settled);
                kept.open_ticket_ids.extend(day.open_ticket_ids());
                kept.days.push((day.day_start.and_utc(), day.day_end.and_utc()));
            }
            Err(error) => tracing::warn!("reports: the day from {} is read ticket by ticket: {error}", day.day_start),
        }
    }
    Ok(kept)
}

/// Each day's rows read back, half the days on a second thread (reading back is most of a
/// long report's work now).
fn decode_on_two_threads(days: &[KeptDay]) -> Vec<Result<Vec<SettledTicket>, UnreadableRows>> {
    let decode = |days: &[KeptDay]| days.iter().map(|day| decode_settled(&day.settled)).collect::<Vec<_>>();
    let (first, second) = days.split_at(days.len() / 2);
    std::thread::scope(|threads| {
        let first = threads.spawn(|| decode(first));
        let second = decode(second);
        let mut decoded = first.join().expect("reading back does not panic");
        decoded.extend(second);
        decoded
    })
}

/// Keeps every ended day not yet kept with today's rules, each in its own short
/// transaction; returns how many it kept.
pub fn keep_ended_days(
    conn: &mut DbConnection,
    calendar: &BusinessCalendar,
    targets: SlaTargets,
    now: DateTime<Utc>,
) -> diesel::QueryResult<usize> {
    let Some(oldest) = reads::oldest_received(conn)? else { return Ok(0) };
    let rules = rules_key(calendar, targets);
    report_days::forget_other_rules(conn, &rules)?;
    let today = calendar.local_date(now);
    let first = calendar.local_date(oldest).max(today - chrono::Duration::days(MAX_DAYS));
    let since = calendar.start_of_day(first).naive_utc();
    let already: HashSet<chrono::NaiveDateTime> = report_days::kept_since(conn, since, &rules)?.into_iter().collect();
    let mut kept = 0;
    for date in first.iter_days().take_while(|date| *date < today) {
        let Ok(window) = ReportWindow::new(calendar, date, date, now) else { continue };
        if already.contains(&window.start.naive_utc()) {
            continue;
        }
        let window = ReportWindow { as_of: now, ..window };
        if write_transaction(conn, |conn| keep_day(conn, calendar, targets, &rules, &window))? {
            kept += 1;
        }
    }
    Ok(kept)
}

/// Keeps the day `[window.start, window.end)`, measured as of `window.as_of`; false when
/// it has history at or after that instant.
fn keep_day(
    conn: &mut DbConnection,
    calendar: &BusinessCalendar,
    targets: SlaTargets,
    rules: &str,
    window: &ReportWindow,
) -> diesel::QueryResult<bool> {
    if let DbConnection::Postgres(pg) = conn {
        // Waits for every transaction writing a ticket's report row, and holds back the next
        // (and another process keeping a day) until this commits (see the migration
        // `report_days`).
        let lock = "LOCK TABLE ticket_report_rows IN SHARE ROW EXCLUSIVE MODE";
        diesel::RunQueryDsl::execute(diesel::sql_query(lock), pg)?;
    }
    let histories = reads::tickets_received(conn, window.start, window.end, None, super::ticket_history)?;
    let latest = histories.iter().filter_map(|history| history.events.last().map(|event| event.at)).max();
    if latest.is_some_and(|latest| latest >= window.as_of) {
        return Ok(false);
    }
    let measurer = Measurer::new(calendar, window, targets);
    let (mut settled, mut open) = (Vec::new(), Vec::new());
    for history in &histories {
        let facts = TicketFacts::from_history(history, window.as_of);
        match SettledTicket::of(&facts, &measurer.row(&facts)) {
            Some(ticket) => settled.push(ticket),
            None => open.push(history.ticket_id.to_string()),
        }
    }
    let day = KeptDay {
        day_start: window.start.naive_utc(),
        day_end: window.end.naive_utc(),
        rules: rules.to_owned(),
        latest_at: latest.map(|at| at.naive_utc()),
        open_ticket_ids: open.join(","),
        settled: encode_settled(&settled),
    };
    report_days::keep(conn, &day)?;
    Ok(true)
}

/// Keeps the ended days now, with the configured calendar and targets (the worker's pass and
/// `keydesk reports keep`); returns how many it kept.
pub async fn apply(services: &Services) -> Result<usize, AppError> {
    let now = services.now();
    services
        .run(move |conn, services| {
            let targets = services.config.sla.targets();
            Ok(keep_ended_days(conn, &services.calendar, targets, now)?)
        })
        .await
}

/// The worker's loop: keeps the ended days every hour.
pub async fn run_hourly(services: Services) {
    loop {
        match apply(&services).await {
            Ok(0) => {}
            Ok(days) => tracing::info!("reports: kept the measured rows of {days} ended days"),
            Err(error) => tracing::error!("reports: keeping ended days failed: {error}"),
        }
        rocket::tokio::time::sleep(EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::Kept;
    use chrono::{DateTime, Utc};

    fn at(hour: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(hour * 3600, 0).unwrap()
    }

    #[test]
    fn gaps_are_what_no_kept_day_covers() {
        let kept = |days: &[(i64, i64)]| Kept {
            days: days.iter().map(|(start, end)| (at(*start), at(*end))).collect(),
            ..Kept::default()
        };
        let hours = |gaps: Vec<(DateTime<Utc>, DateTime<Utc>)>| -> Vec<(i64, i64)> {
            gaps.into_iter().map(|(start, end)| (start.timestamp() / 3600, end.timestamp() / 3600)).collect()
        };
        assert_eq!(hours(kept(&[]).gaps(at(0), at(48))), [(0, 48)]);
        // Two kept days side by side, a day not kept after them, and today.
        let days = kept(&[(24, 48), (48, 72), (96, 120)]);
        assert_eq!(hours(days.gaps(at(0), at(130))), [(0, 24), (72, 96), (120, 130)]);
        // A range that starts and ends on kept days.
        assert_eq!(hours(days.gaps(at(24), at(120))), [(72, 96)]);
        assert_eq!(hours(days.gaps(at(24), at(72))), []);
    }
}
