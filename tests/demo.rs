//! `demo::seed` against real databases: a month of history that reads like a real desk's
//! (Monday mornings busiest, some requests out of hours, agents acting only while the desk
//! is open, nothing unlocked unverified, nothing after `now`), a second run that adds to the
//! first, and seeded tickets whose pages an agent can open.

mod common;

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};
use common::{Backend, TestApp, PASSWORD};
use diesel::prelude::*;
use keydesk::db::schema::{events, organisations, ticket_events, tickets, users};
use keydesk::demo::{self, DemoOptions, DemoSummary};
use rocket::figment::Figment;
use rocket::http::Status;
use std::collections::HashMap;

on_both_backends!(
    a_month_of_history_reads_like_a_real_desk,
    seeding_twice_adds_tickets_and_reuses_the_people,
    an_agent_opens_a_seeded_ticket_and_sees_its_checks_and_history,
);

/// Monday 16 November 2026, 14:30 in London.
fn now() -> DateTime<Utc> {
    "2026-11-16T14:30:00Z".parse().unwrap()
}

/// The desk of the default Rocket.toml: Monday to Friday, 9:00–17:00 in London.
fn office_hours(figment: Figment) -> Figment {
    figment
        .merge(("working_hours.timezone", "Europe/London"))
        .merge(("working_hours.days", ["mon", "tue", "wed", "thu", "fri"]))
        .merge(("working_hours.open", "09:00"))
        .merge(("working_hours.close", "17:00"))
        .merge(("verification.trusted_authserv_id", demo::DEMO_AUTHSERV_ID))
}

async fn seed(app: &TestApp, tickets: usize, days: u32, seed: u64) -> DemoSummary {
    let options = DemoOptions { tickets, days, seed, now: now() };
    app.services()
        .run(move |conn, services| Ok(demo::seed(conn, &services.calendar, &options).expect("seeded")))
        .await
        .unwrap()
}

type HistoryRow = (i64, NaiveDateTime, Option<i64>, String, String);

/// Every ticket's history, oldest first.
async fn histories(app: &TestApp) -> HashMap<i64, Vec<HistoryRow>> {
    let rows: Vec<HistoryRow> = app
        .services()
        .run(|conn, _| {
            Ok(ticket_events::table
                .order((ticket_events::ticket_id, ticket_events::at, ticket_events::id))
                .select((
                    ticket_events::ticket_id,
                    ticket_events::at,
                    ticket_events::actor_id,
                    ticket_events::kind,
                    ticket_events::detail,
                ))
                .load(conn)?)
        })
        .await
        .unwrap();
    let mut by_ticket: HashMap<i64, Vec<HistoryRow>> = HashMap::new();
    for row in rows {
        by_ticket.entry(row.0).or_default().push(row);
    }
    by_ticket
}

type TicketRow = (i64, NaiveDateTime, NaiveDateTime, String, Option<String>);

async fn tickets(app: &TestApp) -> Vec<TicketRow> {
    app.services()
        .run(|conn, _| {
            Ok(tickets::table
                .order(tickets::id)
                .select((
                    tickets::id,
                    tickets::received_at,
                    tickets::updated_at,
                    tickets::status,
                    tickets::verification_method,
                ))
                .load(conn)?)
        })
        .await
        .unwrap()
}

async fn a_month_of_history_reads_like_a_real_desk(backend: Backend) {
    let app = TestApp::with(backend, office_hours).await;
    let summary = seed(&app, 400, 30, 7).await;
    let calendar = app.services().calendar.clone();
    let zone = calendar.timezone();
    let now = now().naive_utc();
    assert_eq!(summary.tickets, 400);

    // Arrivals: Monday 8:00–12:00 local is the busiest of the week's 42 four-hour blocks;
    // some requests, but not most, arrive while the desk is closed.
    let tickets = tickets(&app).await;
    assert_eq!(tickets.len(), 400);
    let mut per_block: HashMap<(u32, u32), usize> = HashMap::new();
    for (_, received_at, ..) in &tickets {
        let local = received_at.and_utc().with_timezone(&zone);
        *per_block.entry((local.weekday().num_days_from_monday(), local.hour() / 4)).or_default() += 1;
    }
    let monday_morning = per_block.get(&(0, 2)).copied().unwrap_or(0);
    let busiest_other = per_block.iter().filter(|(block, _)| **block != (0, 2)).map(|(_, n)| *n).max().unwrap();
    assert!(
        monday_morning > busiest_other,
        "Monday 8–12: {monday_morning}, next busiest: {busiest_other} ({per_block:?})"
    );
    let closed = tickets.iter().filter(|t| !calendar.is_open(t.1.and_utc())).count();
    assert!((40..200).contains(&closed), "{closed} of 400 arrived out of hours");

    // Histories: agents act only while open; nothing is unlocked unverified; a suspected
    // spoof is verified by the mailbox challenge or not at all; nothing after now.
    let histories = histories(&app).await;
    assert_eq!(histories.values().map(Vec::len).sum::<usize>(), summary.ticket_events);
    let mut spoofs = 0;
    for (number, received_at, updated_at, status, method) in &tickets {
        assert!(received_at <= &now && updated_at <= &now);
        let history = &histories[number];
        let kinds: Vec<&str> = history.iter().map(|e| e.3.as_str()).collect();
        let intake: &[&str] = if kinds.contains(&"spoof_suspected") {
            &["received", "spoof_suspected", "acknowledged"]
        } else {
            &["received", "acknowledged"]
        };
        assert_eq!(kinds[..intake.len()], *intake, "#{number}: intake's rows, in intake's order");
        for (_, at, actor, kind, _) in history {
            assert!(at <= &now, "#{number} {kind} at {at} is after now");
            if actor.is_some() {
                assert!(
                    calendar.is_open(at.and_utc()),
                    "#{number}: {kind} by an agent at {at}, while the desk is closed"
                );
            }
        }
        if let Some(unlocked) = kinds.iter().position(|k| *k == "unlocked") {
            assert!(kinds[..unlocked].contains(&"verified"), "#{number} unlocked before it was verified: {kinds:?}");
        }
        let verified = history.iter().find(|e| e.3 == "verified");
        assert_eq!(
            verified.map(|e| e.4.split(':').next().unwrap().to_owned()),
            method.clone(),
            "#{number}: column and history agree"
        );
        if kinds.contains(&"spoof_suspected") {
            spoofs += 1;
            assert!(
                method.is_none() || method.as_deref() == Some("mailbox_confirmed"),
                "#{number} spoof verified by {method:?}"
            );
        }
        assert_eq!(status == "resolved", kinds.last() == Some(&"resolved"), "#{number} is {status}: {kinds:?}");
    }
    assert!((3..40).contains(&spoofs), "{spoofs} suspected spoofs");
    let verified = tickets.iter().filter(|t| t.4.is_some()).count();
    assert!(verified > 300, "most are verified: {verified}");

    // The activity log: every unlock from a ticket names it, at the instant the ticket says.
    let log: Vec<(NaiveDateTime, String, Option<i64>, String)> = app
        .services()
        .run(|conn, _| {
            Ok(events::table.select((events::at, events::action, events::actor_id, events::detail)).load(conn)?)
        })
        .await
        .unwrap();
    assert!(log.iter().all(|e| e.0 <= now), "nothing in the log after now");
    let created: Vec<NaiveDateTime> = app
        .services()
        .run(|conn, _| {
            let mut created: Vec<NaiveDateTime> = organisations::table.select(organisations::created_at).load(conn)?;
            created.extend(users::table.select(users::created_at).load::<NaiveDateTime>(conn)?);
            Ok(created)
        })
        .await
        .unwrap();
    assert!(created.iter().all(|at| *at <= now), "the organisations and people predate the history");
    let from_tickets: Vec<_> =
        log.iter().filter(|e| e.1 == "Account unlocked" && e.3.starts_with("ticket #")).collect();
    assert!(from_tickets.len() > 300);
    for (at, _, actor, detail) in from_tickets {
        let number: i64 = detail.trim_start_matches("ticket #").parse().unwrap();
        let unlocked = histories[&number].iter().find(|e| e.3 == "unlocked").expect("the ticket was unlocked");
        assert_eq!((&unlocked.1, &unlocked.2), (at, actor));
    }
    let self_serve = log.iter().filter(|e| e.1 == "Account unlocked" && !e.3.starts_with("ticket #")).count();
    assert!(self_serve > 50, "admins and owners unlock people themselves too: {self_serve}");
}

async fn seeding_twice_adds_tickets_and_reuses_the_people(backend: Backend) {
    let app = TestApp::new(backend).await;
    let first = seed(&app, 50, 10, 1).await;
    assert_eq!((first.organisations_created, first.people_created), (first.organisations, first.people));
    let second = seed(&app, 80, 10, 1).await;
    assert_eq!((second.organisations_created, second.people_created), (0, 0), "{second:?}");
    let counts = app
        .services()
        .run(|conn, _| {
            let organisations: i64 = organisations::table.count().get_result(conn)?;
            let people: i64 = users::table.count().get_result(conn)?;
            let tickets: i64 = tickets::table.count().get_result(conn)?;
            Ok((organisations, people, tickets))
        })
        .await
        .unwrap();
    assert_eq!(counts, (first.organisations as i64, first.people as i64, 130));
}

async fn an_agent_opens_a_seeded_ticket_and_sees_its_checks_and_history(backend: Backend) {
    let app = TestApp::with(backend, office_hours).await;
    let summary = seed(&app, 200, 20, 3).await;
    let hash = app.services().passwords.hash(PASSWORD);
    let set = app
        .services()
        .run(move |conn, services| Ok(demo::set_password(conn, &hash, services.stored_now()).unwrap()))
        .await
        .unwrap();
    assert_eq!(set, summary.people);
    app.logged_in_as(&summary.agent_login).await;
    // Nobody locked now: a person the seeded history locked again after a ticket's mail
    // would fail check 5 on it (mail from before the current lock shows nobody now), and
    // this looks at the stored verdict alone.
    app.services()
        .run(|conn, _| {
            diesel::update(users::table).set(users::locked_at.eq(None::<NaiveDateTime>)).execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();

    let histories = histories(&app).await;
    let with = |kind: &str| *histories.iter().find(|(_, h)| h.iter().any(|e| e.3 == kind)).map(|(n, _)| n).expect(kind);
    let plain = *histories
        .iter()
        .find(|(_, h)| h.iter().all(|e| e.3 != "spoof_suspected") && h.iter().any(|e| e.4.starts_with("call_back")))
        .unwrap()
        .0;
    for (number, sender_authenticated) in [(plain, true), (with("spoof_suspected"), false), (with("reopened"), true)] {
        let response = app.client.get(format!("/tickets/{number}")).dispatch().await;
        assert_eq!(response.status(), Status::Ok, "/tickets/{number}");
        let page = response.into_string().await.unwrap();
        let document = scraper::Html::parse_document(&page);
        let count = |selector: &str| document.select(&scraper::Selector::parse(selector).unwrap()).count();
        assert_eq!(count("ol.history li"), histories[&number].len(), "#{number}: the whole history");
        assert_eq!(count("article.message.in"), 1, "#{number}: the request in the thread");
        assert_eq!(count("ul.checks li.check"), 5, "#{number}: the five checks");
        assert_eq!(
            count("li.history-spoof_suspected"),
            usize::from(!sender_authenticated),
            "#{number}: intake's suspicion in the history"
        );
        let verdict = if sender_authenticated { "passed" } else { "failed" };
        assert_eq!(
            count(&format!("#check-sender_authenticated.{verdict}")),
            1,
            "#{number}: our server's verdict is read from the stored message"
        );
    }
}
