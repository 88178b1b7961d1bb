//! Each ticket's stored report history (kept by the database, read by every report) against
//! the history rows it copies: the kinds the trigger keeps are exactly the ones reports
//! count; a seeded desk (bulk inserts) and rows recorded one at a time agree with their
//! history, and each report row follows its ticket's account and verification; `keydesk reports rebuild` rewrites a damaged one, also while rows are being
//! recorded beside it. On both databases.

mod common;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use common::cli::Keydesk;
use common::Backend;
use diesel::prelude::*;
use keydesk::db::schema::{ticket_report_rows, tickets, users};
use keydesk::db::{self, DatabaseUrl, DbConnection};
use keydesk::ids::{TicketNumber, UserId};
use keydesk::store;
use keydesk_core::reports::{kinds_counted, read_stored_history, HistoryEvent};
use keydesk_core::TicketEventKind;

on_both_backends!(
    the_stored_history_keeps_exactly_the_counted_kinds_with_who_and_when,
    a_seeded_desk_and_rows_recorded_one_by_one_agree_with_their_history,
    rebuild_rewrites_a_damaged_history_even_while_rows_are_recorded,
);

fn connect(keydesk: &Keydesk) -> db::DbPool {
    db::connect(&DatabaseUrl::parse(&keydesk.database.url), 3).expect("the database")
}

/// A desk with demo tickets (their history written in bulk, as the demo seeds it).
fn seeded(backend: Backend, tickets: &str) -> Keydesk {
    let keydesk = Keydesk::new(backend);
    keydesk.ok(&["demo", "seed", "--tickets", tickets, "--days", "20", "--password-stdin"], Some("a demo password 1"));
    keydesk
}

fn ticket_ids(conn: &mut DbConnection) -> Vec<i64> {
    tickets::table.select(tickets::id).order(tickets::id).load(conn).unwrap()
}

fn a_staff_member(conn: &mut DbConnection) -> (UserId, String) {
    users::table
        .filter(users::organisation_id.is_null())
        .select((users::id, users::email))
        .first::<(i64, String)>(conn)
        .map(|(id, email)| (UserId(id), email))
        .unwrap()
}

type Row = (DateTime<Utc>, TicketEventKind, Option<i64>);

fn rows(events: impl IntoIterator<Item = HistoryEvent>) -> Vec<Row> {
    events.into_iter().map(|e| (e.at, e.kind, e.actor_id)).collect()
}

/// The ticket's counted rows as the history table holds them, in its order.
fn from_history(conn: &mut DbConnection, ticket: i64) -> Vec<Row> {
    let counted = kinds_counted();
    store::ticket_events::of_ticket(conn, TicketNumber(ticket))
        .unwrap()
        .into_iter()
        .filter(|e| counted.contains(&e.kind))
        .map(|e| (e.at.and_utc().trunc_subsecs(0), e.kind, e.actor_id.map(|a| a.0)))
        .collect()
}

fn stored(conn: &mut DbConnection) -> Vec<(i64, String)> {
    store::report_history::all(conn).unwrap().into_iter().map(|s| (s.ticket_id, s.history)).collect()
}

/// Every ticket's stored history reads back as the rows its history holds.
fn assert_all_agree(conn: &mut DbConnection) -> usize {
    let mut rows_seen = 0;
    for (ticket, history) in stored(conn) {
        let read = rows(read_stored_history(ticket, &history).expect("reads back"));
        assert_eq!(read, from_history(conn, ticket), "ticket {ticket}: {history}");
        rows_seen += read.len();
    }
    rows_seen
}

type Copied = (i64, NaiveDateTime, Option<i64>, Option<String>);

/// What each report row copies from its ticket.
fn report_rows(conn: &mut DbConnection) -> Vec<Copied> {
    use ticket_report_rows as r;
    r::table
        .select((r::ticket_id, r::received_at, r::account_user_id, r::verification_method))
        .order(r::ticket_id)
        .load(conn)
        .unwrap()
}

fn ticket_columns(conn: &mut DbConnection) -> Vec<Copied> {
    use tickets as t;
    t::table
        .select((t::id, t::received_at, t::account_user_id, t::verification_method))
        .order(t::id)
        .load(conn)
        .unwrap()
}

fn record(conn: &mut DbConnection, ticket: i64, at: NaiveDateTime, staff: &(UserId, String), kind: TicketEventKind) {
    store::ticket_events::record(conn, TicketNumber(ticket), at, Some((staff.0, &staff.1)), kind, "").unwrap();
}

async fn the_stored_history_keeps_exactly_the_counted_kinds_with_who_and_when(backend: Backend) {
    let keydesk = seeded(backend, "1");
    let pool = connect(&keydesk);
    let conn = &mut *pool.get().unwrap();
    let staff = a_staff_member(conn);
    let ticket = ticket_ids(conn)[0];
    let before = stored(conn)[0].1.clone();
    // After everything the demo wrote, a quarter of a second past the minute.
    let start = Utc::now().trunc_subsecs(0) + chrono::Duration::milliseconds(86_400_250);
    for (kind, minute) in TicketEventKind::ALL.into_iter().zip(0..) {
        let at = (start + chrono::Duration::minutes(minute)).naive_utc();
        match minute % 2 {
            0 => record(conn, ticket, at, &staff, kind),
            _ => store::ticket_events::record(conn, TicketNumber(ticket), at, None, kind, "").unwrap(),
        }
    }
    let history = stored(conn)[0].1.clone();
    let added = history.strip_prefix(before.as_str()).expect("rows are appended to what was there");
    let expected: Vec<Row> = TicketEventKind::ALL
        .into_iter()
        .zip(0..)
        .filter(|(kind, _)| kinds_counted().contains(kind))
        .map(|(kind, minute)| {
            let at = (start + chrono::Duration::minutes(minute)).trunc_subsecs(0);
            (at, kind, (minute % 2 == 0).then_some(staff.0 .0))
        })
        .collect();
    assert_eq!(rows(read_stored_history(ticket, added).unwrap()), expected, "{added}");
    let latest: Option<NaiveDateTime> =
        ticket_report_rows::table.find(ticket).select(ticket_report_rows::latest_at).first(conn).unwrap();
    let last_counted = expected.last().unwrap().0;
    assert_eq!(latest.map(|at| at.and_utc().trunc_subsecs(0)), Some(last_counted));
}

async fn a_seeded_desk_and_rows_recorded_one_by_one_agree_with_their_history(backend: Backend) {
    let keydesk = seeded(backend, "300");
    let pool = connect(&keydesk);
    let conn = &mut *pool.get().unwrap();
    let seeded_rows = assert_all_agree(conn);
    assert!(seeded_rows > 300, "the demo's tickets have counted history: {seeded_rows}");
    assert_eq!(report_rows(conn), ticket_columns(conn));

    // A ticket linked to another account and verified: its report row follows.
    let (first, second) = (ticket_ids(conn)[0], ticket_ids(conn)[1]);
    let account: i64 = users::table.filter(users::organisation_id.is_not_null()).select(users::id).first(conn).unwrap();
    diesel::update(tickets::table.find(first))
        .set((tickets::account_user_id.eq(Some(account)), tickets::verification_method.eq(Some("call_back"))))
        .execute(conn)
        .unwrap();
    diesel::update(tickets::table.find(second)).set(tickets::account_user_id.eq(None::<i64>)).execute(conn).unwrap();
    assert_eq!(report_rows(conn), ticket_columns(conn));

    // Rows recorded one at a time, several in one transaction and some out of time order.
    let staff = a_staff_member(conn);
    let ids = ticket_ids(conn);
    let now = Utc::now().naive_utc();
    db::write_transaction(conn, |conn| {
        for (i, ticket) in ids.iter().take(40).enumerate() {
            record(conn, *ticket, now, &staff, TicketEventKind::AgentReplied);
            record(conn, *ticket, now - chrono::Duration::seconds(i as i64), &staff, TicketEventKind::Note);
            record(conn, *ticket, now - chrono::Duration::seconds(90), &staff, TicketEventKind::Reopened);
        }
        Ok::<_, diesel::result::Error>(())
    })
    .unwrap();
    assert_all_agree(conn);
}

async fn rebuild_rewrites_a_damaged_history_even_while_rows_are_recorded(backend: Backend) {
    let keydesk = seeded(backend, "200");
    let pool = connect(&keydesk);
    let conn = &mut *pool.get().unwrap();
    let intact = stored(conn);
    // Damaged rows, and a missing one.
    diesel::update(ticket_report_rows::table)
        .set((
            ticket_report_rows::history.eq("verified@x;"),
            ticket_report_rows::latest_at.eq(None::<NaiveDateTime>),
            ticket_report_rows::account_user_id.eq(None::<i64>),
        ))
        .execute(conn)
        .unwrap();
    diesel::delete(ticket_report_rows::table.filter(ticket_report_rows::ticket_id.eq(intact[0].0)))
        .execute(conn)
        .unwrap();
    let run = keydesk.ok(&["reports", "rebuild"], None);
    assert!(run.stdout.contains("Rebuilt the stored report history of 200 tickets"), "{run:?}");
    assert_eq!(stored(conn), intact, "the rebuild writes what the trigger wrote");
    let unset: i64 =
        ticket_report_rows::table.filter(ticket_report_rows::latest_at.is_null()).count().get_result(conn).unwrap();
    assert_eq!(report_rows(conn), ticket_columns(conn), "each row follows its ticket again");
    let without_counted_rows = intact.iter().filter(|(_, history)| history.is_empty()).count() as i64;
    assert_eq!(unset, without_counted_rows);

    // Rows recorded on another connection while the rebuild runs are neither lost nor doubled.
    let staff = a_staff_member(conn);
    let ids = ticket_ids(conn);
    let recording = std::thread::spawn({
        let pool = pool.clone();
        move || {
            let conn = &mut *pool.get().unwrap();
            for (i, ticket) in ids.iter().cycle().take(400).enumerate() {
                let at = Utc::now().naive_utc() + chrono::Duration::seconds(i as i64);
                record(conn, *ticket, at, &staff, TicketEventKind::UserReplied);
            }
        }
    });
    // And a second rebuild at the same time, on its own connection: both finish.
    let second = std::thread::spawn({
        let pool = pool.clone();
        move || {
            let conn = &mut *pool.get().unwrap();
            (0..3).map(|_| store::report_history::rebuild(conn, &mut |_, _| {}).map_err(|e| e.to_string())).collect()
        }
    });
    for _ in 0..3 {
        store::report_history::rebuild(conn, &mut |_, _| {}).unwrap();
    }
    recording.join().unwrap();
    let second: Result<Vec<i64>, String> = second.join().unwrap();
    assert_eq!(second, Ok(vec![200; 3]), "the second rebuild's runs");
    assert_all_agree(conn);
}

/// Intake threading a reply writes the history row first and the ticket's status after; a
/// rebuild slice locks tickets first and history after. Caught between the two, PostgreSQL
/// would abort one of them as a deadlock; the rebuild gives way instead, and both finish.
#[test]
fn a_rebuild_gives_way_to_a_writer_holding_history_and_waiting_for_its_ticket() {
    let keydesk = seeded(Backend::Postgres, "20");
    let pool = connect(&keydesk);
    let conn = &mut *pool.get().unwrap();
    let staff = a_staff_member(conn);
    let ticket = ticket_ids(conn)[0];
    let (history_written, wait) = std::sync::mpsc::channel();
    let writer = std::thread::spawn({
        let pool = pool.clone();
        move || {
            let conn = &mut *pool.get().unwrap();
            conn.transaction(|conn| {
                record(conn, ticket, Utc::now().naive_utc(), &staff, TicketEventKind::UserReplied);
                history_written.send(()).unwrap();
                // The rebuild now holds tickets and waits for history.
                std::thread::sleep(std::time::Duration::from_millis(600));
                diesel::update(tickets::table.find(ticket)).set(tickets::status.eq("open")).execute(conn)
            })
            .map_err(|e| e.to_string())
        }
    });
    wait.recv().unwrap();
    let rebuilt = store::report_history::rebuild(conn, &mut |_, _| {}).map_err(|e| e.to_string());
    assert_eq!(writer.join().unwrap(), Ok(1), "the writer finishes");
    assert_eq!(rebuilt, Ok(20), "and so does the rebuild");
    assert_all_agree(conn);
}
