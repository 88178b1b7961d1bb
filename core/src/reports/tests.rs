//! A week of hand-worked history, on a London desk open Monday to Friday 9:00–17:00 with
//! Wednesday 21 October 2026 a holiday. The range (19–26 October) crosses the clock change on
//! Sunday 25 October (BST, UTC+1, before; GMT after), so every expected figure below is
//! worked out by hand from UTC instants and the comments show the sums.

use chrono::{DateTime, NaiveDate, Utc};

use super::*;
use crate::verification::VerificationMethod::{self, CallBack, ConfirmedByOwner, Other};
use crate::TicketEventKind::{self, *};
use crate::{BusinessCalendar, WorkingHoursConfig};

const AGENT_A: i64 = 7;
const AGENT_B: i64 = 8;
const HOUR: i64 = 3600;

fn calendar() -> BusinessCalendar {
    BusinessCalendar::from_config(&WorkingHoursConfig {
        holidays: vec!["2026-10-21".into()],
        ..WorkingHoursConfig::default()
    })
    .unwrap()
}

fn at(text: &str) -> DateTime<Utc> {
    format!("{text}Z").parse().unwrap()
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn ticket(
    id: i64,
    received: &str,
    organisation: Option<i64>,
    method: Option<VerificationMethod>,
    events: &[(&str, TicketEventKind, Option<i64>)],
) -> TicketHistory {
    TicketHistory {
        ticket_id: id,
        received_at: at(received),
        organisation_id: organisation,
        verification_method: method,
        events: events
            .iter()
            .zip(0..)
            .map(|((when, kind, actor), sequence)| HistoryEvent {
                at: at(when),
                sequence,
                kind: *kind,
                actor_id: *actor,
            })
            .collect(),
    }
}

/// The week's tickets, all times UTC.
fn week() -> Vec<TicketHistory> {
    let (a, b) = (Some(AGENT_A), Some(AGENT_B));
    vec![
        // Monday 09:30 BST, in hours: answered in 30 min, unlocked in 1½ h.
        ticket(
            1,
            "2026-10-19T08:30:00",
            Some(1),
            Some(CallBack),
            &[
                ("2026-10-19T08:30:00", Received, None),
                ("2026-10-19T08:30:00", Acknowledged, None),
                ("2026-10-19T09:00:00", AgentReplied, a),
                ("2026-10-19T09:30:00", Verified, a),
                ("2026-10-19T10:00:00", Unlocked, a),
                ("2026-10-19T10:00:00", Resolved, a),
            ],
        ),
        // Tuesday 18:30 BST, out of hours; Wednesday is a holiday, so support opens Thursday
        // 09:00 BST (08:00 UTC). Verified 08:45 (45 min), unlocked 13:00 (5 h: a breach).
        ticket(
            2,
            "2026-10-20T17:30:00",
            Some(1),
            Some(ConfirmedByOwner),
            &[
                ("2026-10-20T17:30:00", Received, None),
                ("2026-10-22T08:45:00", Verified, b),
                ("2026-10-22T13:00:00", Unlocked, b),
                ("2026-10-22T13:00:00", Resolved, b),
            ],
        ),
        // Friday 16:00 BST: a reply after 30 min, then waiting on the user over the weekend
        // and the clock change until Monday 09:30 GMT; unlocked Monday 10:00 GMT.
        ticket(
            3,
            "2026-10-23T15:00:00",
            Some(2),
            Some(VerificationMethod::MailboxConfirmed),
            &[
                ("2026-10-23T15:00:00", Received, None),
                ("2026-10-23T15:30:00", AgentReplied, a),
                ("2026-10-23T15:30:00", WaitingOnUser, a),
                ("2026-10-26T09:30:00", UserReplied, None),
                ("2026-10-26T09:45:00", Verified, a),
                ("2026-10-26T10:00:00", Unlocked, a),
                ("2026-10-26T10:00:00", Resolved, a),
            ],
        ),
        // Saturday, out of hours, a suspected spoof nobody has answered by the range's end.
        ticket(
            4,
            "2026-10-24T10:00:00",
            Some(2),
            None,
            &[("2026-10-24T10:00:00", Received, None), ("2026-10-24T10:00:00", SpoofSuspected, None)],
        ),
        // Monday 16:30 GMT: a challenge sent (not a response), verified only after the range.
        ticket(
            5,
            "2026-10-26T16:30:00",
            None,
            Some(Other),
            &[
                ("2026-10-26T16:30:00", Received, None),
                ("2026-10-26T16:40:00", ChallengeSent, b),
                ("2026-10-27T10:00:00", Verified, b),
            ],
        ),
        // Monday 13:00 BST: resolved after 30 min without an answer or a verification.
        ticket(
            6,
            "2026-10-19T12:00:00",
            Some(1),
            None,
            &[("2026-10-19T12:00:00", Received, None), ("2026-10-19T12:30:00", Resolved, b)],
        ),
    ]
}

/// Received the Friday before the range, resolved on its Tuesday: backlog only.
fn carried_over() -> Vec<TicketHistory> {
    vec![ticket(
        100,
        "2026-10-16T10:00:00",
        Some(1),
        None,
        &[("2026-10-16T10:00:00", Received, None), ("2026-10-20T09:00:00", Resolved, Some(AGENT_B))],
    )]
}

fn report_for(from: &str, to: &str, agent: Option<i64>, histories: Vec<TicketHistory>) -> ServiceHours {
    let calendar = calendar();
    let window = ReportWindow::new(&calendar, date(from), date(to), at("2026-11-01T12:00:00")).unwrap();
    let facts = |list: Vec<TicketHistory>| list.iter().map(|h| TicketFacts::from_history(h, window.as_of)).collect();
    let input = ReportInput {
        window,
        calendar: &calendar,
        targets: SlaTargets { first_response_seconds: HOUR, unlock_seconds: 4 * HOUR },
        agent,
        received: facts(histories),
        settled: Vec::new(),
        carried_over: facts(carried_over()),
        unlock_sources: UnlockSources { self_serve: 2, support: 3, automatic: 0 },
    };
    build(&input)
}

fn summary(count: usize, median: i64, p90: i64, mean: i64) -> Summary {
    Summary { count, median: Some(median), p90: Some(p90), mean: Some(mean) }
}

#[test]
fn volumes_in_and_out_of_hours() {
    let report = report_for("2026-10-19", "2026-10-26", None, week());
    assert_eq!(
        (report.received, report.received_in_hours, report.received_out_of_hours, report.still_open),
        (6, 4, 2, 2)
    );
    assert_eq!(report.as_of, at("2026-10-27T00:00:00"), "the end of the range, local midnight in GMT");
}

#[test]
fn time_to_first_response_counts_business_hours_across_the_holiday() {
    let report = report_for("2026-10-19", "2026-10-26", None, week());
    // Business: #1 1800, #2 2700 (Thursday 08:00–08:45 UTC), #3 1800.
    assert_eq!(report.first_response_business_seconds, summary(3, 1800, 2700, 2100));
    // Calendar: #2 is Tuesday 17:30 to Thursday 08:45 = 39 h 15 min = 141 300 s.
    assert_eq!(report.first_response_calendar_seconds, summary(3, 1800, 141_300, 48_300));
}

#[test]
fn time_to_unlock_leaves_out_the_wait_on_the_user_across_the_clock_change() {
    let report = report_for("2026-10-19", "2026-10-26", None, week());
    // #3: open Friday 15:00–16:00 UTC and Monday 09:00–10:00 GMT = 7200, less the wait
    // (Friday 15:30–16:00 and Monday 09:00–09:30 = 3600) = 3600. #1 5400; #2 5 h = 18 000.
    assert_eq!(report.unlock_business_seconds, summary(3, 5400, 18_000, 9000));
    // Calendar: #3 is 67 h (the clock went back) less a 66 h wait = 3600; #2 is 43½ h.
    assert_eq!(report.unlock_calendar_seconds, summary(3, 5400, 156_600, 55_200));
    // Resolved: #1 5400, #2 18 000, #3 3600, #6 1800.
    assert_eq!(report.resolve_business_seconds, summary(4, 4500, 18_000, 7200));
    assert_eq!(report.resolve_calendar_seconds, summary(4, 4500, 156_600, 41_850));
}

#[test]
fn sla_shares_and_the_breaches_behind_them() {
    let report = report_for("2026-10-19", "2026-10-26", None, week());
    let sla = &report.sla;
    // First response: #1, #2, #3 met; #4 breached (8 business hours on Monday, unanswered);
    // #5 pending (30 min so far); #6 closed without an answer.
    assert_eq!((sla.first_response.met, sla.first_response.breached, sla.first_response.pending), (3, 1, 1));
    assert_eq!(sla.first_response_met, Some(0.75));
    // Unlock: #1 and #3 met; #2 (5 h) and #4 (8 h so far) breached; #5 pending.
    assert_eq!((sla.unlock.met, sla.unlock.breached, sla.unlock.pending), (2, 2, 1));
    assert_eq!(sla.unlock_met, Some(0.5));
    let breaches: Vec<_> =
        sla.breaches.iter().map(|b| (b.ticket_id, b.target, b.business_seconds, b.still_open)).collect();
    assert_eq!(
        breaches,
        vec![
            (2, SlaTarget::Unlock, 18_000, false),
            (4, SlaTarget::FirstResponse, 8 * HOUR, true),
            (4, SlaTarget::Unlock, 8 * HOUR, true),
        ]
    );
}

#[test]
fn each_day_with_its_backlog_at_the_end() {
    let report = report_for("2026-10-19", "2026-10-26", None, week());
    let days: Vec<_> = report
        .days
        .iter()
        .map(|d| (d.date.to_string(), d.received_in_hours, d.received_out_of_hours, d.backlog_at_end))
        .collect();
    let expected = [
        ("2026-10-19", 2, 0, 1), // #100 still open (until Tuesday)
        ("2026-10-20", 0, 1, 1), // #100 resolved; #2 open
        ("2026-10-21", 0, 0, 1),
        ("2026-10-22", 0, 0, 0), // #2 unlocked
        ("2026-10-23", 1, 0, 1), // #3 waiting on the user
        ("2026-10-24", 0, 1, 2),
        ("2026-10-25", 0, 0, 2),
        ("2026-10-26", 1, 0, 2), // #3 resolved; #4 and #5 open
    ];
    let expected: Vec<_> = expected.iter().map(|(d, i, o, b)| (d.to_string(), *i, *o, *b)).collect();
    assert_eq!(days, expected);
    assert_eq!(report.days[0].unlock_business_seconds, summary(1, 5400, 5400, 5400));
    assert_eq!(report.days[4].unlock_business_seconds, summary(1, 3600, 3600, 3600));
}

#[test]
fn per_agent_and_per_organisation() {
    let report = report_for("2026-10-19", "2026-10-26", None, week());
    let agents: Vec<_> = report
        .agents
        .iter()
        .map(|a| (a.agent_id, a.tickets_handled, a.first_responses, a.unlocks, a.unlock_business_seconds.median))
        .collect();
    assert_eq!(agents, vec![(AGENT_A, 2, 2, 2, Some(4500)), (AGENT_B, 3, 1, 1, Some(18_000))]);
    let organisations: Vec<_> = report
        .organisations
        .iter()
        .map(|o| {
            (
                o.organisation_id,
                o.received,
                o.received_out_of_hours,
                o.unlocked,
                o.unlock_business_seconds.median,
                o.unlock_met,
            )
        })
        .collect();
    assert_eq!(
        organisations,
        vec![
            (None, 1, 0, 0, None, None),
            (Some(1), 3, 1, 2, Some(11_700), Some(0.5)),
            (Some(2), 2, 1, 1, Some(3600), Some(0.5))
        ]
    );
}

#[test]
fn arrivals_by_local_weekday_and_hour() {
    let report = report_for("2026-10-19", "2026-10-26", None, week());
    let mut cells = Vec::new();
    for (weekday, hours) in report.arrivals_by_weekday_and_hour.iter().enumerate() {
        for (hour, count) in hours.iter().enumerate().filter(|(_, count)| **count > 0) {
            cells.push((weekday, hour, *count));
        }
    }
    // Monday 09 and 13 BST, 16 GMT; Tuesday 18; Friday 16; Saturday 11.
    assert_eq!(cells, vec![(0, 9, 1), (0, 13, 1), (0, 16, 1), (1, 18, 1), (4, 16, 1), (5, 11, 1)]);
}

#[test]
fn verification_outcomes_as_of_the_range_end() {
    let report = report_for("2026-10-19", "2026-10-26", None, week());
    let verification = &report.verification;
    let count = |method| verification.by_method.iter().find(|(m, _)| *m == method).unwrap().1;
    assert_eq!(
        (count(CallBack), count(ConfirmedByOwner), count(VerificationMethod::MailboxConfirmed), count(Other)),
        (1, 1, 1, 0),
        "#5's verification came after the range"
    );
    assert_eq!((verification.spoof_suspected, verification.abandoned, verification.pending), (1, 1, 2));
    assert_eq!(report.unlocks, UnlockSources { self_serve: 2, support: 3, automatic: 0 });
}

#[test]
fn an_agent_sees_the_tickets_they_handled() {
    let report = report_for("2026-10-19", "2026-10-26", Some(AGENT_A), week());
    assert_eq!(report.received, 2);
    assert_eq!(report.unlock_business_seconds, summary(2, 4500, 5400, 4500));
    assert_eq!(report.agents.iter().map(|a| a.agent_id).collect::<Vec<_>>(), vec![AGENT_A]);
    assert_eq!(report.days.iter().map(|d| d.backlog_at_end).collect::<Vec<_>>(), vec![0, 0, 0, 0, 1, 1, 1, 0]);
}

#[test]
fn a_ticket_open_at_the_end_of_a_past_range_is_pending_not_answered() {
    // The same history, reported for Monday 26 October alone: #3 was received before it
    // and counts in the backlog only; #5 is open and within its targets.
    let report =
        report_for("2026-10-26", "2026-10-26", None, week().into_iter().filter(|t| t.ticket_id == 5).collect());
    assert_eq!(
        (report.received, report.still_open, report.sla.first_response.pending, report.sla.unlock.pending),
        (1, 1, 1, 1)
    );
    assert_eq!(report.first_response_business_seconds, Summary::default());
}

#[test]
fn an_empty_range_is_zeros_and_dashes() {
    let report = report_for("2026-10-19", "2026-10-25", None, Vec::new());
    assert_eq!(
        (report.received, report.sla.first_response_met, report.unlock_business_seconds.median),
        (0, None, None)
    );
    assert_eq!(report.days.len(), 7);
    assert!(report.agents.is_empty() && report.sla.breaches.is_empty());
}

#[test]
fn ranges_that_cannot_be_reported() {
    let calendar = calendar();
    let now = at("2026-11-01T12:00:00");
    let window = |from: &str, to: &str| ReportWindow::new(&calendar, date(from), date(to), now);
    assert_eq!(
        window("2026-10-26", "2026-10-19"),
        Err(RangeError::Reversed { from: date("2026-10-26"), to: date("2026-10-19") })
    );
    assert_eq!(
        window("2026-11-02", "2026-11-08"),
        Err(RangeError::StartsInTheFuture { from: date("2026-11-02"), today: date("2026-11-01") })
    );
    assert_eq!(window("2024-01-01", "2026-10-31"), Err(RangeError::TooLong { days: 1035 }));
    // A range running into the future reads up to now, and its days stop at today.
    let this_week = window("2026-10-26", "2026-11-01").unwrap();
    assert_eq!(this_week.as_of, now);
    assert_eq!(this_week.days_so_far(&calendar).len(), 7);
    let quarter = window("2026-10-01", "2026-12-31").unwrap();
    assert_eq!(quarter.days_so_far(&calendar).last(), Some(&date("2026-11-01")));
}

#[test]
fn presets_by_hand() {
    let today = date("2026-11-18"); // a Wednesday
    let cases = [
        (Preset::ThisWeek, "2026-11-16", "2026-11-22"),
        (Preset::LastWeek, "2026-11-09", "2026-11-15"),
        (Preset::Last30Days, "2026-10-20", "2026-11-18"),
        (Preset::ThisQuarter, "2026-10-01", "2026-12-31"),
    ];
    for (preset, from, to) in cases {
        assert_eq!(preset.dates(today), (date(from), date(to)), "{}", preset.label());
    }
    assert_eq!(Preset::ThisQuarter.dates(date("2026-02-14")), (date("2026-01-01"), date("2026-03-31")));
}

/// The figures are measured a slice at a time on two threads: the rows come out as one
/// thread would give them, in order, across slices.
#[test]
fn rows_measured_on_two_threads_are_the_rows_in_order() {
    let calendar = calendar();
    let window =
        ReportWindow::new(&calendar, date("2026-10-19"), date("2026-10-26"), at("2026-11-01T12:00:00")).unwrap();
    let week: Vec<TicketFacts> = week().iter().map(|h| TicketFacts::from_history(h, window.as_of)).collect();
    let received: Vec<TicketFacts> =
        (0..140_000).map(|i| TicketFacts { ticket_id: i, ..week[i as usize % week.len()].clone() }).collect();
    let input = ReportInput {
        window,
        calendar: &calendar,
        targets: SlaTargets { first_response_seconds: HOUR, unlock_seconds: 4 * HOUR },
        agent: None,
        received,
        settled: Vec::new(),
        carried_over: Vec::new(),
        unlock_sources: UnlockSources::default(),
    };
    let mut folded = Vec::new();
    input.fold_rows(|row| folded.push(row));
    assert_eq!(folded.len(), 140_000);
    assert!(folded.iter().zip(input.rows()).all(|(folded, one_thread)| *folded == one_thread));
}

/// A resolved ticket's row, kept (measured in a window of its own day up to a later instant)
/// and read back, gives every figure the report's own measuring gives, whatever the range,
/// the agent or the instant of the report; open tickets are never kept.
#[test]
fn kept_rows_of_resolved_tickets_give_the_same_report() {
    let calendar = calendar();
    let targets = SlaTargets { first_response_seconds: HOUR, unlock_seconds: 4 * HOUR };
    let kept_at = at("2026-10-31T08:00:00");
    let keep = |history: &TicketHistory| {
        let day = calendar.local_date(history.received_at);
        let window = ReportWindow::new(&calendar, day, day, kept_at).unwrap();
        let window = ReportWindow { as_of: kept_at, ..window };
        let facts = TicketFacts::from_history(history, kept_at);
        let settled = SettledTicket::of(&facts, &Measurer::new(&calendar, &window, targets).row(&facts));
        let bytes = encode_settled(settled.as_slice());
        decode_settled(&bytes).unwrap().pop()
    };
    let week = week();
    let kept: Vec<Option<SettledTicket>> = week.iter().map(keep).collect();
    assert!(kept.iter().any(Option::is_some) && kept.iter().any(Option::is_none), "some resolved, some open");
    for (from, to, agent, now) in [
        ("2026-10-19", "2026-10-26", None, "2026-11-01T12:00:00"),
        ("2026-10-19", "2026-10-26", Some(AGENT_A), "2026-11-01T12:00:00"),
        ("2026-10-18", "2026-10-30", Some(AGENT_B), "2026-12-01T12:00:00"),
        ("2026-10-01", "2026-12-31", None, "2026-10-31T09:00:00"),
    ] {
        let window = ReportWindow::new(&calendar, date(from), date(to), at(now)).unwrap();
        let facts = |list: &[TicketHistory]| list.iter().map(|h| TicketFacts::from_history(h, window.as_of)).collect();
        let input = |received, settled| ReportInput {
            window,
            calendar: &calendar,
            targets,
            agent,
            received,
            settled,
            carried_over: facts(&carried_over()),
            unlock_sources: UnlockSources::default(),
        };
        let measured = build(&input(facts(&week), Vec::new()));
        let open: Vec<TicketHistory> =
            week.iter().zip(&kept).filter(|(_, kept)| kept.is_none()).map(|(h, _)| h.clone()).collect();
        let settled: Vec<SettledTicket> = kept.iter().flatten().cloned().collect();
        assert_eq!(build(&input(facts(&open), settled)), measured, "{from}–{to} for {agent:?} at {now}");
    }
}
