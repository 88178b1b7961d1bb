//! Retention on both databases, on the settable clock: activity-log entries older than
//! `retention.activity` go and newer ones stay; mail taken in longer ago than
//! `retention.raw_mail` loses its raw bytes but its ticket, thread and history stay; each
//! run is in the activity log.

mod common;

use chrono::{Duration, NaiveDateTime};
use common::{Backend, TestApp};
use keydesk::ids::LedgerId;
use keydesk::store::events::{Actor, EventFilter, NewEvent};
use keydesk_core::intake::LedgerOutcome;
use keydesk_core::{EventKind, UnlockPolicy};

on_both_backends!(
    old_activity_and_raw_mail_go_while_tickets_and_recent_rows_stay,
    big_backlogs_go_in_batches_and_off_keeps_everything,
);

fn email(from: &str, message_id: &str, body: &str) -> String {
    format!(
        "From: {from}\nTo: support@keydesk.test\nSubject: Locked out\nMessage-ID: <{message_id}>\n\
         Date: Tue, 24 Nov 2026 12:00:00 +0000\nContent-Type: text/plain; charset=utf-8\n\n{body}\n"
    )
}

async fn events_before(app: &TestApp, until: NaiveDateTime) -> i64 {
    let filter = EventFilter { until: Some(until), ..Default::default() };
    app.services().run(move |conn, _| Ok(keydesk::store::events::count(conn, &filter)?)).await.unwrap()
}

async fn retention_runs(app: &TestApp) -> Vec<keydesk::store::events::Event> {
    let filter = EventFilter { action: Some(EventKind::RetentionApplied), limit: 100, ..Default::default() };
    app.services().run(move |conn, _| Ok(keydesk::store::events::list(conn, &filter)?)).await.unwrap()
}

async fn raw_of(app: &TestApp, id: LedgerId) -> Option<Vec<u8>> {
    app.services().run(move |conn, _| Ok(keydesk::store::inbound::raw(conn, id)?)).await.unwrap().map(|(raw, _)| raw)
}

async fn ledger_entry(app: &TestApp, id: LedgerId) -> keydesk::store::inbound::LedgerEntry {
    app.services().run(move |conn, _| Ok(keydesk::store::inbound::find(conn, id)?)).await.unwrap().unwrap()
}

async fn old_activity_and_raw_mail_go_while_tickets_and_recent_rows_stay(backend: Backend) {
    let app = TestApp::new(backend).await;
    let org = app.org("Acme Clinic", "acme", UnlockPolicy::Admins).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    app.user("agent@support.test", "Agnes Agent", "agent", None).await;
    app.logged_in_as("jane@acme.test").await;
    // Day 0: Jane's request becomes a ticket; a message nobody can read is quarantined.
    app.drop_mail(&email("Jane Doe <jane@acme.test>", "old@acme.test", "My account jane@acme.test is locked."));
    app.drop_mail("this is not an email at all");
    let summary = app.intake_once().await;
    assert_eq!((summary.new_tickets, summary.quarantined), (1, 1));

    // Day 350: Jane signs in again, and someone else writes in.
    app.clock.advance(Duration::days(350));
    let other = common::TestClient::new(&app).await;
    assert_eq!(other.log_in("jane@acme.test", common::PASSWORD).await.status().code, 303);
    app.drop_mail(&email("Olive Owner <owner@acme.test>", "new@acme.test", "Please unlock my colleague."));
    assert_eq!(app.intake_once().await.new_tickets, 1);
    let tickets = app.tickets().await;
    let ledger = |outcome| app.ledger(outcome);
    let taken_in = ledger(LedgerOutcome::Ticket).await;
    let quarantined = ledger(LedgerOutcome::Quarantined).await[0].clone();
    let (recent, old) = (taken_in[0].clone(), taken_in[1].clone());
    let old_messages = app
        .services()
        .run(move |conn, _| Ok(keydesk::store::tickets::messages(conn, tickets[0].id)?.len()))
        .await
        .unwrap();

    // Day 401: over 400 days for the activity log, over 90 for raw mail.
    app.clock.advance(Duration::days(51));
    let now = app.services().stored_now();
    let activity_cutoff = now - Duration::days(400);
    let old_events = events_before(&app, activity_cutoff).await;
    assert!(old_events >= 2, "Jane's creation and first sign-in are old: {old_events}");
    let run = keydesk::ops::retention::apply(app.services()).await.unwrap();

    assert_eq!(run.activity_deleted, old_events as u64);
    assert_eq!(events_before(&app, activity_cutoff).await, 0, "nothing older than 400 days is left");
    assert_eq!(app.actions_of(&jane).await, ["Login succeeded"], "the day-350 sign-in stays");
    assert_eq!(run.raw_mail_cleared, 1, "the old request; the quarantined message is nobody's handled mail yet");
    assert_eq!(raw_of(&app, old.id).await, None);
    assert!(raw_of(&app, quarantined.id).await.is_some_and(|raw| !raw.is_empty()), "quarantine keeps its bytes");
    assert!(raw_of(&app, recent.id).await.is_some_and(|raw| !raw.is_empty()), "recent mail keeps its bytes");
    let cleared = ledger_entry(&app, old.id).await;
    assert_eq!((cleared.raw_cleared_at, &cleared.content_hash), (Some(now), &old.content_hash));
    assert_eq!(ledger_entry(&app, recent.id).await.raw_cleared_at, None);

    // Tickets, threads and history stay.
    let after = app.tickets().await;
    assert_eq!(after.len(), 2);
    let first = after[0].id;
    let thread = app.services().run(move |conn, _| Ok(keydesk::store::tickets::messages(conn, first)?)).await.unwrap();
    assert_eq!(thread.len(), old_messages);
    assert!(thread[0].body_text.contains("jane@acme.test is locked"), "{thread:?}");
    assert!(!app.history_of(first).await.is_empty(), "the ticket's history stays");

    // Once staff discard it, the next run clears it; a redelivery of old mail is still known.
    let id = quarantined.id;
    let discarded =
        app.services().run(move |conn, _| keydesk::intake::discard_quarantined(conn, id, "agent@support.test")).await;
    assert!(matches!(discarded, Ok(true)), "{discarded:?}");
    let after_discard = keydesk::ops::retention::apply(app.services()).await.unwrap();
    assert_eq!(after_discard.raw_mail_cleared, 1);
    assert_eq!(raw_of(&app, id).await, None);
    app.drop_mail(&email("Jane Doe <jane@acme.test>", "old@acme.test", "My account jane@acme.test is locked."));
    assert_eq!(app.intake_once().await.duplicates, 1, "a redelivery is still recognised");

    // Each run is on the record, for staff to see.
    let runs = retention_runs(&app).await;
    assert_eq!(runs.len(), 2);
    let first = runs.iter().find(|run| run.detail.starts_with(&format!("{old_events} activity"))).expect("the first");
    assert_eq!((first.at, first.actor_label.as_str()), (now, "keydesk retention"));
    assert!(first.detail.contains("raw bytes of 1 message"), "{first:?}");
    let again = keydesk::ops::retention::apply(app.services()).await.unwrap();
    assert_eq!((again.activity_deleted, again.raw_mail_cleared), (0, 0));
    assert_eq!(retention_runs(&app).await.len(), 3);
}

async fn big_backlogs_go_in_batches_and_off_keeps_everything(backend: Backend) {
    let app = TestApp::with(backend, |f| f.merge(("retention.raw_mail", "off"))).await;
    let start = app.services().stored_now();
    app.services()
        .run(move |conn, _| {
            for n in 0..7 {
                let event = NewEvent {
                    at: start + Duration::minutes(n),
                    kind: EventKind::LoginFailed,
                    actor: &Actor::Anonymous { typed: "someone".into() },
                    target_user_id: None,
                    target_label: "",
                    organisation_id: None,
                    ip: None,
                    detail: "",
                };
                keydesk::store::events::record(conn, event)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    app.drop_mail(&email("Jane Doe <jane@acme.test>", "kept@acme.test", "Locked."));
    app.intake_once().await;

    app.clock.advance(Duration::days(1000));
    let run = keydesk::ops::retention::apply_in_batches(app.services(), 2).await.unwrap();
    assert_eq!(run.activity_deleted, 7, "four statements of at most two rows");
    assert_eq!((run.raw_mail_cleared, run.cutoffs.raw_mail), (0, None));
    let ledger =
        app.ledger(LedgerOutcome::Quarantined).await.into_iter().chain(app.ledger(LedgerOutcome::Ticket).await);
    for entry in ledger {
        assert!(raw_of(&app, entry.id).await.is_some(), "raw mail is kept when retention.raw_mail is off");
    }
    assert!(retention_runs(&app).await[0].detail.ends_with("raw mail kept (retention.raw_mail is off)"));
}

#[test]
fn retention_periods_are_checked_at_start_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let figment = common::test_figment("unused.sqlite", dir.path());
    let refused = |key: &str, value: &str| {
        keydesk::config::Config::from_figment(&figment.clone().merge((key, value))).unwrap_err().to_string()
    };
    assert!(refused("retention.raw_mail", "0s").contains("`retention.raw_mail` must be longer than zero"));
    assert!(refused("retention.activity", "10d").contains("`retention.activity` must be at least 30d"));
    let unreadable = refused("retention.activity", "forever");
    assert!(unreadable.contains("retention.activity") && unreadable.contains("\"off\""), "{unreadable}");
    let off = figment.merge(("retention.activity", "off")).merge(("retention.raw_mail", "2w"));
    let config = keydesk::config::Config::from_figment(&off).unwrap();
    assert_eq!(config.retention.activity.0, None);
    assert_eq!(config.retention.raw_mail.0, Some(std::time::Duration::from_secs(14 * 24 * 3600)));
}

#[test]
fn retention_apply_on_the_command_line_prints_what_it_did() {
    let keydesk = common::cli::Keydesk::new(Backend::Sqlite);
    let run = keydesk.ok(&["retention", "apply"], None);
    assert!(run.stdout.starts_with("Retention applied: 0 activity entries from before "), "{run:?}");
    assert!(run.stdout.contains("raw bytes of 0 messages"), "{run:?}");
}

#[test]
fn a_serving_keydesk_applies_retention_as_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let database = common::TestDatabase::create(Backend::Sqlite, dir.path());
    let _server = common::server::start(&database.url, dir.path(), &[]);
    let pool = keydesk::db::connect(&keydesk::db::DatabaseUrl::parse(&database.url), 1).unwrap();
    let filter = EventFilter { action: Some(EventKind::RetentionApplied), ..Default::default() };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while keydesk::store::events::count(&mut pool.get().unwrap(), &filter).unwrap() == 0 {
        assert!(std::time::Instant::now() < deadline, "no retention run was recorded");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
