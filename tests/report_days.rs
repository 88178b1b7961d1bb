//! A report's kept days (src/reports/keep.rs: each ended day's resolved tickets kept as
//! measured rows) against measuring every ticket: on a seeded desk the figures are the same
//! for every range and scope, one connection or two; whatever changes a ticket of a kept day
//! (a history row, a verification, a message taken in with an old arrival time, a ticket
//! moved to another day) forgets that day in the same transaction; rows kept with other
//! rules are not used. On PostgreSQL, keeping a day waits for a transaction writing one of
//! its tickets, so the change is never lost between the two. On both databases.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::cli::Keydesk;
use common::{Backend, TestApp};
use diesel::prelude::*;
use keydesk::app::Services;
use keydesk::db::schema::{ticket_report_rows, tickets, users};
use keydesk::db::DbConnection;
use keydesk::ids::{TicketNumber, UserId};
use keydesk::intake::{take_in, RawMessage};
use keydesk::reports::{keep, load, Reading};
use keydesk::store;
use keydesk_core::reports::{build, Audience, ReportScope, ReportWindow, ServiceHours, SlaTargets};
use keydesk_core::TicketEventKind;

on_both_backends!(
    kept_days_give_the_figures_measuring_every_ticket_gives,
    a_change_to_a_ticket_of_a_kept_day_forgets_that_day,
    rows_kept_with_other_rules_are_not_used,
    two_processes_keeping_at_once_both_finish_and_the_figures_hold,
);

/// A desk with 20 days of demo tickets, most of them resolved, and its ended days kept.
async fn kept_desk(backend: Backend) -> TestApp {
    let keydesk = Keydesk::new(backend);
    keydesk.ok(&["demo", "seed", "--tickets", "500", "--days", "20", "--password-stdin"], Some("a demo password 1"));
    let kept_days = |stdout: &str| stdout.split_whitespace().nth(5).and_then(|n| n.parse::<usize>().ok());
    let run = keydesk.ok(&["reports", "keep"], None);
    assert!(kept_days(&run.stdout) >= Some(19), "the seeded days that have ended are kept: {}", run.stdout);
    // A desk open on weekdays in London, closed on a holiday a week ago: other rules than
    // the command line's configuration, so the app's pass keeps every day again, in place of
    // those.
    let holiday = (Utc::now() - Duration::days(7)).date_naive().to_string();
    let app = keydesk
        .app_with(|figment| {
            figment
                .merge(("working_hours.timezone", "Europe/London"))
                .merge(("working_hours.days", ["mon", "tue", "wed", "thu", "fri"]))
                .merge(("working_hours.open", "09:00"))
                .merge(("working_hours.close", "17:30"))
                .merge(("working_hours.holidays", [holiday]))
        })
        .await;
    let now = app.now();
    let kept = app.services().run(move |conn, services| Ok(keep_days(conn, services, now))).await.unwrap();
    assert!(kept >= 19, "kept again with the app's rules: {kept}");
    app
}

fn keep_days(conn: &mut DbConnection, services: &Services, now: DateTime<Utc>) -> usize {
    keep::keep_ended_days(conn, &services.calendar, services.config.sla.targets(), now).expect("keeping")
}

fn kept_count(conn: &mut DbConnection) -> i64 {
    store::report_days::count(conn).unwrap()
}

/// The report's figures over `days` days ending today, read as `reading` says, on one
/// connection or two.
fn figures(
    conn: &mut DbConnection,
    services: &Services,
    (days, now): (i64, DateTime<Utc>),
    scope: ReportScope,
    reading: Reading,
    two_connections: bool,
) -> ServiceHours {
    let calendar = &services.calendar;
    let today = calendar.local_date(now);
    let window = ReportWindow::new(calendar, today - Duration::days(days - 1), today, now).unwrap();
    let mut second = two_connections.then(|| services.db.pool().get().expect("a second connection"));
    let input = load(conn, second.as_deref_mut(), calendar, services.config.sla.targets(), window, scope, reading)
        .expect("the report reads");
    build(&input)
}

/// Every range and scope gives the same figures from kept rows as from every ticket.
fn assert_same_figures(conn: &mut DbConnection, services: &Services, now: DateTime<Utc>) {
    let (organisation, agent) = an_organisation_and_an_agent(conn);
    let scopes = [
        Audience::Everything.scope(None, None).unwrap(),
        Audience::Everything.scope(Some(organisation), None).unwrap(),
        Audience::Everything.scope(None, Some(agent)).unwrap(),
    ];
    for days in [1, 3, 7, 21, 40] {
        for scope in scopes {
            for two_connections in [false, true] {
                let kept = figures(conn, services, (days, now), scope, Reading::Figures, two_connections);
                let measured = figures(conn, services, (days, now), scope, Reading::EveryTicket, false);
                assert_eq!(kept, measured, "{days} days, {scope:?}, two connections: {two_connections}");
            }
        }
    }
}

fn an_organisation_and_an_agent(conn: &mut DbConnection) -> (i64, i64) {
    let organisation: Option<i64> =
        users::table.filter(users::organisation_id.is_not_null()).select(users::organisation_id).first(conn).unwrap();
    let agent: i64 = users::table.filter(users::organisation_id.is_null()).select(users::id).first(conn).unwrap();
    (organisation.unwrap(), agent)
}

async fn kept_days_give_the_figures_measuring_every_ticket_gives(backend: Backend) {
    let app = kept_desk(backend).await;
    let now = app.now();
    app.services()
        .run(move |conn, services| {
            let window = last_days(services, 21, now);
            let kept = keep::usable(conn, &services.calendar, services.config.sla.targets(), &window, None)?;
            assert!(kept.settled.len() > 300, "most tickets come from kept rows: {}", kept.settled.len());
            assert_same_figures(conn, services, now);
            // A pass with nothing new keeps nothing.
            assert_eq!(keep_days(conn, services, now), 0);
            Ok(())
        })
        .await
        .unwrap();
}

fn last_days(services: &Services, days: i64, now: DateTime<Utc>) -> ReportWindow {
    let today = services.calendar.local_date(now);
    ReportWindow::new(&services.calendar, today - Duration::days(days - 1), today, now).unwrap()
}

/// A resolved ticket received `days_ago` days before today, local time.
fn a_resolved_ticket_of(conn: &mut DbConnection, services: &Services, days_ago: i64, now: DateTime<Utc>) -> i64 {
    let window = last_days(services, days_ago + 1, now);
    let day_end = window.start + Duration::hours(24);
    tickets::table
        .filter(tickets::received_at.ge(window.start.naive_utc()))
        .filter(tickets::received_at.lt(day_end.naive_utc()))
        .filter(tickets::status.eq("resolved"))
        .select(tickets::id)
        .first(conn)
        .expect("a resolved ticket that day")
}

async fn a_change_to_a_ticket_of_a_kept_day_forgets_that_day(backend: Backend) {
    let app = kept_desk(backend).await;
    let now = app.now();
    app.services()
        .run(move |conn, services| {
            let kept = kept_count(conn);
            let agent = an_organisation_and_an_agent(conn).1;

            // A history row: the ticket is reopened.
            let reopened = a_resolved_ticket_of(conn, services, 5, now);
            let actor = Some((UserId(agent), "Agent"));
            let at = now.naive_utc() - Duration::minutes(5);
            store::ticket_events::record(conn, TicketNumber(reopened), at, actor, TicketEventKind::Reopened, "")?;
            assert_eq!(kept_count(conn), kept - 1, "the reopened ticket's day is forgotten");
            assert_same_figures(conn, services, now);

            // A verification recorded on the ticket row itself (another method than the seeded
            // one: writing the same value changes nothing to forget).
            let verified = a_resolved_ticket_of(conn, services, 8, now);
            let seeded: Option<String> =
                tickets::table.find(verified).select(tickets::verification_method).first(conn)?;
            let method = if seeded.as_deref() == Some("call_back") { "other" } else { "call_back" };
            diesel::update(tickets::table.find(verified)).set(tickets::verification_method.eq(method)).execute(conn)?;
            assert_eq!(kept_count(conn), kept - 2);

            // A ticket moved from one kept day to another forgets both.
            let moved = a_resolved_ticket_of(conn, services, 10, now);
            let to = a_resolved_ticket_of(conn, services, 12, now);
            let to_received: chrono::NaiveDateTime =
                tickets::table.find(to).select(tickets::received_at).first(conn)?;
            diesel::update(tickets::table.find(moved)).set(tickets::received_at.eq(to_received)).execute(conn)?;
            assert_eq!(kept_count(conn), kept - 4);
            let row_received: chrono::NaiveDateTime =
                ticket_report_rows::table.find(moved).select(ticket_report_rows::received_at).first(conn)?;
            assert_eq!(row_received, to_received);

            // A message taken in now whose server received it three days ago (IMAP keeps a
            // message's arrival time): a new ticket in a kept day.
            let arrived = (last_days(services, 4, now).start + Duration::hours(13)).naive_utc();
            let message = b"From: Late Larry <larry@elsewhere.test>\r\nTo: support@keydesk.test\r\n\
                Subject: Locked out\r\nMessage-ID: <late-larry@elsewhere.test>\r\n\r\nI am locked out.\r\n";
            let raw = RawMessage::whole("test:late".into(), "1".into(), arrived, message.to_vec());
            take_in(conn, services, &raw)?;
            assert_eq!(kept_count(conn), kept - 5);

            assert_same_figures(conn, services, now);
            assert_eq!(keep_days(conn, services, now), 5, "the next pass keeps them again");
            assert_same_figures(conn, services, now);
            Ok(())
        })
        .await
        .unwrap();
}

async fn rows_kept_with_other_rules_are_not_used(backend: Backend) {
    let app = kept_desk(backend).await;
    let now = app.now();
    app.services()
        .run(move |conn, services| {
            let other = SlaTargets { first_response_seconds: 60, unlock_seconds: 120 };
            let window = last_days(services, 21, now);
            let kept = keep::usable(conn, &services.calendar, other, &window, None)?;
            assert!(kept.settled.is_empty(), "rows measured against other targets");
            let scope = Audience::Everything.scope(None, None).unwrap();
            let read = |conn: &mut DbConnection, reading| {
                let input = load(conn, None, &services.calendar, other, window, scope, reading).unwrap();
                build(&input)
            };
            assert_eq!(read(conn, Reading::Figures), read(conn, Reading::EveryTicket));
            Ok(())
        })
        .await
        .unwrap();
}

/// Two workers (a second process, or `keydesk reports keep` beside the server) keeping the
/// same days at once: each day is kept one at a time, neither fails, and the figures hold.
async fn two_processes_keeping_at_once_both_finish_and_the_figures_hold(backend: Backend) {
    let app = kept_desk(backend).await;
    let now = app.now();
    let services = app.services().clone();
    services
        .run(|conn, _| {
            diesel::sql_query("DELETE FROM report_days").execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let keepers: Vec<_> = (0..2)
        .map(|_| {
            let services = services.clone();
            std::thread::spawn(move || {
                let mut conn = services.db.pool().get().unwrap();
                keep_days(&mut conn, &services, now)
            })
        })
        .collect();
    let kept: usize = keepers.into_iter().map(|keeper| keeper.join().expect("a keeper fails")).sum();
    assert!(kept >= 19, "every day kept, some twice over: {kept}");
    services
        .run(move |conn, services| {
            assert!(kept_count(conn) >= 19);
            assert_same_figures(conn, services, now);
            Ok(())
        })
        .await
        .unwrap();
}

/// On PostgreSQL a transaction writing one of a day's tickets may be open while the day is
/// kept: keeping waits for it, so the day it keeps holds the change (or the change forgets
/// the day); it is never kept without it.
#[rocket::async_test]
async fn keeping_a_day_waits_for_a_transaction_writing_one_of_its_tickets() {
    let app = kept_desk(Backend::Postgres).await;
    let now = app.now();
    let services = app.services().clone();
    let (ticket, agent) = services
        .run(move |conn, services| {
            let ticket = a_resolved_ticket_of(conn, services, 6, now);
            // Forget the day, so the next pass keeps it again.
            diesel::sql_query("DELETE FROM report_days").execute(conn)?;
            Ok((ticket, an_organisation_and_an_agent(conn).1))
        })
        .await
        .unwrap();
    let mut writer = services.db.pool().get().unwrap();
    let mut keeper = services.db.pool().get().unwrap();
    diesel::sql_query("BEGIN").execute(&mut *writer).unwrap();
    let at = now.naive_utc() - Duration::minutes(5);
    let actor = Some((UserId(agent), "Agent"));
    store::ticket_events::record(&mut writer, TicketNumber(ticket), at, actor, TicketEventKind::Reopened, "").unwrap();
    let keeping = std::thread::spawn({
        let services = services.clone();
        move || keep_days(&mut keeper, &services, now)
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(!keeping.is_finished(), "keeping waits for the open transaction");
    diesel::sql_query("COMMIT").execute(&mut *writer).unwrap();
    assert!(keeping.join().unwrap() >= 19);
    services
        .run(move |conn, services| {
            assert_same_figures(conn, services, now);
            Ok(())
        })
        .await
        .unwrap();
}
