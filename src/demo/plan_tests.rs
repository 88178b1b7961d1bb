//! The planner's promises, checked over a few thousand planned tickets with no database.

use super::*;
use crate::demo::story::desk_time;
use keydesk_core::verification::VerificationMethod;
use keydesk_core::WorkingHoursConfig;
use std::collections::HashSet;

/// Monday 23 November 2026, 14:30 in London (UTC in winter).
fn monday_afternoon() -> DateTime<Utc> {
    "2026-11-23T14:30:00Z".parse().unwrap()
}

/// Monday to Friday, 9:00–17:00, Europe/London.
fn office_hours() -> BusinessCalendar {
    BusinessCalendar::from_config(&WorkingHoursConfig::default()).unwrap()
}

fn plan<'a>(calendar: &'a BusinessCalendar, roster: &'a Roster, seed: u64, tickets: usize) -> DemoPlan<'a> {
    let mut rng = StdRng::seed_from_u64(seed);
    DemoPlan::new(&mut rng, calendar, roster, PlanShape { tickets, days: 60, now: monday_afternoon() })
}

fn all_tickets(plan: &DemoPlan<'_>) -> Vec<PlannedTicket> {
    (0..plan.tickets()).map(|i| plan.ticket(i)).collect()
}

fn kinds(ticket: &PlannedTicket) -> Vec<TicketEventKind> {
    ticket.events.iter().map(|e| e.kind).collect()
}

#[test]
fn the_same_seed_plans_the_same_history_and_another_seed_another() {
    let (calendar, roster) = (office_hours(), Roster::for_tickets(300));
    let first = all_tickets(&plan(&calendar, &roster, 9, 300));
    assert_eq!(first, all_tickets(&plan(&calendar, &roster, 9, 300)));
    assert_ne!(first, all_tickets(&plan(&calendar, &roster, 10, 300)));
    let again = plan(&calendar, &roster, 9, 300);
    assert_eq!(again.ticket(120), first[120], "a ticket does not depend on the ones planned before it");
    assert_eq!(
        (0..again.self_serve_unlocks()).map(|i| again.self_serve_unlock(i)).collect::<Vec<_>>(),
        (0..again.self_serve_unlocks()).map(|i| again.self_serve_unlock(i)).collect::<Vec<_>>()
    );
}

#[test]
fn agents_act_only_while_the_desk_is_open_and_nothing_happens_after_now() {
    let (calendar, roster) = (office_hours(), Roster::for_tickets(3_000));
    let plan = plan(&calendar, &roster, 1, 3_000);
    let now = monday_afternoon();
    let mut previous = plan.from();
    for ticket in all_tickets(&plan) {
        assert!(plan.from() <= ticket.received_at && ticket.received_at <= now);
        assert!(previous <= ticket.received_at, "tickets come in arrival order");
        previous = ticket.received_at;
        assert!(ticket.events.windows(2).all(|pair| pair[0].at <= pair[1].at), "{:?}", ticket.events);
        for event in &ticket.events {
            assert!(event.at <= now);
            let by_keydesk = matches!(
                event.kind,
                TicketEventKind::Received
                    | TicketEventKind::Acknowledged
                    | TicketEventKind::UserReplied
                    | TicketEventKind::Reopened
                    | TicketEventKind::MailboxConfirmed
                    | TicketEventKind::SpoofSuspected
            );
            assert_eq!(event.actor.is_none(), by_keydesk, "{event:?}");
            if event.actor.is_some() {
                assert!(calendar.is_open(event.at), "agent action while closed: {event:?}");
            }
        }
        assert!(ticket.activity.iter().all(|a| a.at <= now));
    }
    for index in 0..plan.self_serve_unlocks() {
        assert!(plan.self_serve_unlock(index).iter().all(|a| a.at <= now));
    }
}

#[test]
fn histories_run_in_the_order_the_queue_allows() {
    let (calendar, roster) = (office_hours(), Roster::for_tickets(3_000));
    for ticket in all_tickets(&plan(&calendar, &roster, 2, 3_000)) {
        let kinds = kinds(&ticket);
        // Intake's rows, at arrival: a suspected spoof is recorded between the two.
        let spoofed = kinds.contains(&TicketEventKind::SpoofSuspected);
        let intake: &[TicketEventKind] = if spoofed {
            &[TicketEventKind::Received, TicketEventKind::SpoofSuspected, TicketEventKind::Acknowledged]
        } else {
            &[TicketEventKind::Received, TicketEventKind::Acknowledged]
        };
        assert_eq!(kinds[..intake.len()], *intake);
        assert!(ticket.events[..intake.len()].iter().all(|e| e.at == ticket.received_at));
        let position = |kind| kinds.iter().position(|k| *k == kind);
        let verified = position(TicketEventKind::Verified);
        if let Some(unlocked) = position(TicketEventKind::Unlocked) {
            assert!(verified.is_some_and(|v| v < unlocked), "unlocked before verified: {kinds:?}");
            assert_eq!(kinds.get(unlocked + 1), Some(&TicketEventKind::Resolved));
            assert!(ticket
                .activity
                .iter()
                .any(|a| a.kind == EventKind::AccountUnlocked && a.detail == ActivityDetail::TicketNumber));
        }
        assert!(kinds.iter().filter(|k| **k == TicketEventKind::Verified).count() <= 1);
        if let Some(confirmed) = position(TicketEventKind::MailboxConfirmed) {
            assert!(position(TicketEventKind::ChallengeSent).is_some_and(|sent| sent < confirmed));
            assert_eq!(ticket.mailbox_confirmed_at, Some(ticket.events[confirmed].at));
        }
        match (&ticket.verification, verified) {
            (Some(v), Some(i)) => {
                assert_eq!((v.at, Some(v.by)), (ticket.events[i].at, ticket.events[i].actor));
                assert_eq!(ticket.events[i].detail, format!("{}: {}", v.method.as_str(), v.note));
                if v.method == VerificationMethod::MailboxConfirmed {
                    assert!(ticket.mailbox_confirmed_at.is_some_and(|at| at <= v.at));
                }
            }
            (None, None) => {}
            other => panic!("verification column and history disagree: {other:?}"),
        }
        if spoofed {
            assert!(!ticket.message.authenticated);
            assert!(
                ticket.events[1].detail.ends_with("reports dmarc=fail"),
                "intake's verdict: {}",
                ticket.events[1].detail
            );
            assert!(ticket.verification.as_ref().is_none_or(|v| v.method == VerificationMethod::MailboxConfirmed));
        }
        assert_eq!(ticket.status, status_after(&ticket.events));
        assert_eq!(ticket.updated_at, ticket.events.last().unwrap().at);
    }
}

#[test]
fn the_mix_is_what_the_product_owner_asked_for() {
    let (calendar, roster) = (office_hours(), Roster::for_tickets(4_000));
    let tickets = all_tickets(&plan(&calendar, &roster, 3, 4_000));
    let share = |test: &dyn Fn(&PlannedTicket) -> bool| {
        tickets.iter().filter(|t| test(t)).count() as f64 / tickets.len() as f64
    };
    let has = |kind| move |t: &PlannedTicket| t.events.iter().any(|e| e.kind == kind);

    let out_of_hours = share(&|t| !calendar.is_open(t.received_at));
    assert!((0.15..0.25).contains(&out_of_hours), "out of hours: {out_of_hours}");
    let spoofed = share(&has(TicketEventKind::SpoofSuspected));
    assert!((0.015..0.05).contains(&spoofed), "spoofed: {spoofed}");
    let verified = share(&|t| t.verification.is_some());
    assert!(verified > 0.75, "verified: {verified}");
    let abandoned = share(&|t| t.status == TicketStatus::Resolved && t.verification.is_none());
    assert!((0.01..0.1).contains(&abandoned), "abandoned: {abandoned}");
    assert!(share(&has(TicketEventKind::Reopened)) > 0.01);
    assert!(share(&has(TicketEventKind::WaitingOnUser)) > 0.05);
    assert!(share(&|t| t.requester.is_some()) > 0.01);
    let still_open: HashSet<TicketStatus> = tickets.iter().map(|t| t.status).filter(|s| !s.is_resolved()).collect();
    assert!(
        !still_open.is_empty() && share(&|t| !t.status.is_resolved()) < 0.05,
        "a few recent tickets still open: {still_open:?}"
    );
    let methods: HashSet<VerificationMethod> =
        tickets.iter().filter_map(|t| t.verification.as_ref().map(|v| v.method)).collect();
    // Every method an agent can choose (an authenticator code is the user's own doing).
    let chosen = VerificationMethod::ALL.iter().filter(|m| **m != VerificationMethod::AuthenticatorCode).count();
    assert_eq!(methods.len(), chosen, "every method is used: {methods:?}");
    let accounts: HashSet<usize> = tickets.iter().map(|t| t.account).collect();
    assert!(accounts.len() < tickets.len() / 2, "accounts repeat");

    // Each agent works at their own pace: the fastest picks tickets up sooner than the slowest.
    let pick_up = |agent: usize| {
        let waits: Vec<i64> = tickets
            .iter()
            .filter_map(|t| {
                t.events
                    .iter()
                    .find(|e| e.kind == TicketEventKind::Assigned && e.actor == Some(agent))
                    .map(|e| calendar.business_duration(t.received_at, e.at).num_seconds())
            })
            .collect();
        waits.iter().sum::<i64>() as f64 / waits.len() as f64
    };
    let agents: Vec<usize> = roster.agents().collect();
    assert!(pick_up(agents[0]) * 2.0 < pick_up(agents[agents.len() - 1]));
}

#[test]
fn self_serve_unlocks_are_by_the_organisations_own_admins_or_owner() {
    let (calendar, roster) = (office_hours(), Roster::for_tickets(2_000));
    let plan = plan(&calendar, &roster, 4, 2_000);
    assert_eq!(plan.self_serve_unlocks(), 500);
    for index in 0..plan.self_serve_unlocks() {
        let entries = plan.self_serve_unlock(index);
        assert_eq!(entries[0].kind, EventKind::AccountLocked);
        let target = &roster.people[entries[0].target];
        assert_eq!(target.role, OrgRole::Member);
        let Some(unlock) = entries.iter().find(|e| e.kind == EventKind::AccountUnlocked) else { continue };
        let ActivityActor::Colleague(by) = unlock.actor else { panic!("{unlock:?}") };
        assert_eq!(roster.people[by].organisation, target.organisation);
        assert_ne!(roster.people[by].role, OrgRole::Member);
        if ORGANISATIONS[target.organisation].policy == UnlockPolicy::OwnerPin {
            assert_eq!(roster.people[by].role, OrgRole::Owner);
            assert!(entries.iter().any(|e| e.kind == EventKind::UnlockPinSent));
        }
    }
}

#[test]
fn desk_time_counts_only_open_time() {
    let calendar = office_hours();
    let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
    let minutes = Duration::minutes;
    // Friday 16:55 plus ten minutes of work: five on Friday, five on Monday morning.
    assert_eq!(desk_time(&calendar, at("2026-11-20T16:55:00Z"), minutes(10)), Some(at("2026-11-23T09:05:00Z")));
    // Arriving on Saturday: the work starts at Monday's opening.
    assert_eq!(desk_time(&calendar, at("2026-11-21T11:00:00Z"), minutes(0)), Some(at("2026-11-23T09:00:00Z")));
    // Work that ends exactly at closing is done at the next opening, when the desk is open.
    assert_eq!(desk_time(&calendar, at("2026-11-23T16:00:00Z"), minutes(60)), Some(at("2026-11-24T09:00:00Z")));
    let always = BusinessCalendar::from_config(&WorkingHoursConfig {
        timezone: "UTC".into(),
        days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map(String::from).to_vec(),
        open: "00:00".into(),
        close: "24:00".into(),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(desk_time(&always, at("2026-11-21T23:55:00Z"), minutes(10)), Some(at("2026-11-22T00:05:00Z")));
    let never = BusinessCalendar::from_config(&WorkingHoursConfig { days: vec![], ..Default::default() }).unwrap();
    assert_eq!(desk_time(&never, at("2026-11-21T11:00:00Z"), minutes(10)), None);
}

#[test]
fn a_desk_that_never_opens_leaves_every_ticket_new() {
    let never = BusinessCalendar::from_config(&WorkingHoursConfig { days: vec![], ..Default::default() }).unwrap();
    let roster = Roster::for_tickets(50);
    for ticket in all_tickets(&plan(&never, &roster, 5, 50)) {
        assert_eq!(ticket.status, TicketStatus::New);
        assert!(ticket.events.iter().all(|e| e.actor.is_none()), "{:?}", ticket.events);
    }
}
