//! Mail intake from the Maildir source: every email becomes exactly one ticket, parsed and
//! linked to its account; duplicates, replies, auto-replies and unreadable mail are handled
//! without losing or duplicating anything.

mod common;

use keydesk_core::{TicketEventKind, TicketStatus};

use common::{Backend, TestApp};
use keydesk_core::UnlockPolicy;
use rocket::http::{Header, Status};

on_both_backends!(
    a_locked_users_email_becomes_a_ticket_linked_to_the_account_and_is_acknowledged,
    the_same_message_delivered_twice_makes_one_ticket,
    a_different_message_reusing_a_message_id_is_not_dropped,
    a_user_who_writes_three_times_has_one_open_ticket,
    replies_thread_by_subject_tag_and_by_in_reply_to_and_reopen_resolved_tickets,
    auto_replies_bounces_and_our_own_mail_make_no_ticket_and_get_no_reply,
    unreadable_and_oversized_mail_is_quarantined_and_listed,
    a_crash_after_the_commit_but_before_the_move_takes_nothing_in_twice,
    a_new_message_under_a_name_the_deliverer_reused_is_taken_in_not_dropped,
    the_tickets_api_shows_the_ticket_and_its_thread,
    staff_see_intake_health_and_reprocess_or_discard_quarantined_mail,
    the_acknowledgement_states_the_hours_and_when_closed_the_next_opening,
    the_acknowledgement_asks_for_what_could_not_be_parsed,
);

fn email(from: &str, message_id: &str, subject: &str, body: &str) -> String {
    format!(
        "From: {from}\nTo: support@keydesk.test\nSubject: {subject}\nMessage-ID: <{message_id}>\nDate: Mon, 23 Nov 2026 09:12:00 +0000\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n{body}\n"
    )
}

const JANE_ASKS: &str = "Hello,\n\nFull name: Jane Doe\nRegistered email: jane@acme.test\nIssue: I typed my password wrong too many times and my account is locked.\n\nThanks,\nJane";

async fn acme(backend: Backend) -> TestApp {
    let app = TestApp::new(backend).await;
    let org = app.org("Acme Clinic", "acme", UnlockPolicy::Admins).await;
    app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    app.user("agent@support.test", "Agnes Agent", "agent", None).await;
    app
}

async fn a_locked_users_email_becomes_a_ticket_linked_to_the_account_and_is_acknowledged(backend: Backend) {
    let app = acme(backend).await;
    for _ in 0..5 {
        app.log_in("jane@acme.test", "wrong password").await;
    }
    let dropped = app.drop_mail(&email("Jane Doe <Jane@Acme.test>", "m1@acme.test", "Account locked", JANE_ASKS));
    let summary = app.intake_once().await;
    assert_eq!((summary.fetched, summary.new_tickets), (1, 1));
    assert!(!dropped.exists(), "the message left new/");
    let cur: Vec<_> = std::fs::read_dir(app.dir.path().join("intake/cur")).unwrap().collect();
    assert_eq!(cur.len(), 1, "and is kept in cur/");

    let tickets = app.tickets().await;
    assert_eq!(tickets.len(), 1);
    let ticket = &tickets[0];
    assert_eq!(ticket.status, TicketStatus::New);
    assert_eq!(ticket.full_name.as_deref(), Some("Jane Doe"));
    assert_eq!(ticket.full_name_source, Some(keydesk_core::intake::FieldSource::BodyLabel));
    assert_eq!(ticket.registered_email.as_deref(), Some("jane@acme.test"));
    assert!(ticket.description.as_deref().unwrap().contains("my account is locked"));
    assert!(ticket.account_user_id.is_some());

    let ack = app
        .mail_to("jane@acme.test")
        .await
        .into_iter()
        .find(|m| m.subject.starts_with(&format!("[#{}]", ticket.id)))
        .expect("acknowledged");
    assert!(ack.raw.contains("In-Reply-To: <m1@acme.test>"), "threaded to the user's message");
    assert!(ack.raw.contains("Auto-Submitted: auto-replied"));
    assert!(
        ack.raw.contains(&format!("Message-ID: <ticket-{}.", ticket.id)),
        "our Message-ID carries the ticket number"
    );
    assert!(!ack.text.contains("we need a few details"), "nothing was missing");
}

async fn the_same_message_delivered_twice_makes_one_ticket(backend: Backend) {
    let app = acme(backend).await;
    let message = email("Jane Doe <jane@acme.test>", "twice@acme.test", "Locked", JANE_ASKS);
    app.drop_mail(&message);
    app.drop_mail(&message);
    let summary = app.intake_once().await;
    assert_eq!((summary.fetched, summary.new_tickets, summary.duplicates), (2, 1, 1));
    assert_eq!(app.tickets().await.len(), 1);
    let acks = app.mail().await.iter().filter(|m| m.subject.starts_with("[#")).count();
    assert_eq!(acks, 1, "one acknowledgement");
}

async fn a_different_message_reusing_a_message_id_is_not_dropped(backend: Backend) {
    let app = acme(backend).await;
    app.drop_mail(&email("Jane Doe <jane@acme.test>", "reused@x", "Locked", JANE_ASKS));
    app.drop_mail(&email(
        "Bob Roe <bob@elsewhere.test>",
        "reused@x",
        "Me too",
        "Full name: Bob Roe\nI am locked out as well.",
    ));
    let summary = app.intake_once().await;
    assert_eq!(summary.new_tickets, 2);
    let senders: Vec<String> = app.tickets().await.into_iter().map(|t| t.sender).collect();
    assert_eq!(senders, ["jane@acme.test", "bob@elsewhere.test"]);
}

async fn a_user_who_writes_three_times_has_one_open_ticket(backend: Backend) {
    let app = acme(backend).await;
    for n in 1..=3 {
        app.drop_mail(&email(
            "Jane Doe <jane@acme.test>",
            &format!("again{n}@acme.test"),
            &format!("Still locked ({n})"),
            JANE_ASKS,
        ));
        app.intake_once().await;
    }
    let tickets = app.tickets().await;
    assert_eq!(tickets.len(), 1);
    let thread = app.services().run({
        let id = tickets[0].id;
        move |conn, _| Ok(keydesk::store::tickets::messages(conn, id)?)
    });
    let thread = thread.await.unwrap();
    assert_eq!(thread.iter().filter(|m| m.direction == keydesk_core::MessageDirection::In).count(), 3);
}

async fn replies_thread_by_subject_tag_and_by_in_reply_to_and_reopen_resolved_tickets(backend: Backend) {
    let app = acme(backend).await;
    // Someone without an account, so only threading can join the messages.
    app.drop_mail(&email(
        "Sam Stranger <sam@stranger.test>",
        "first@stranger.test",
        "Locked out",
        "My name is Sam Stranger and I cannot log in.",
    ));
    app.intake_once().await;
    let ticket = app.tickets().await.remove(0);
    app.services()
        .run(move |conn, services| {
            Ok(keydesk::store::tickets::set_status(conn, ticket.id, TicketStatus::Resolved, services.stored_now())?)
        })
        .await
        .unwrap();
    app.drop_mail(&email(
        "Sam Stranger <sam@stranger.test>",
        "second@stranger.test",
        &format!("Re: [#{}] We have your request", ticket.id),
        "Still locked.",
    ));
    let ack = app.mail_to("sam@stranger.test").await.remove(0);
    let ack_id = ack.raw.lines().find_map(|l| l.strip_prefix("Message-ID: ")).unwrap().trim().to_owned();
    let reply = format!(
        "From: Sam Stranger <sam@stranger.test>\nTo: support@keydesk.test\nSubject: no tag here\nMessage-ID: <third@stranger.test>\nIn-Reply-To: {ack_id}\nReferences: {ack_id}\n\nA reply to your acknowledgement.\n"
    );
    app.drop_mail(&reply);
    let summary = app.intake_once().await;
    assert_eq!((summary.new_tickets, summary.threaded), (0, 2));
    let tickets = app.tickets().await;
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].status, TicketStatus::Open, "a reply reopens a resolved ticket");
}

async fn auto_replies_bounces_and_our_own_mail_make_no_ticket_and_get_no_reply(backend: Backend) {
    let app = acme(backend).await;
    let out_of_office = "From: Jane Doe <jane@acme.test>\nTo: support@keydesk.test\nSubject: Out of office\nMessage-ID: <ooo@acme.test>\nAuto-Submitted: auto-replied\n\nI am away until Monday.\n";
    let bulk = "From: News <news@lists.test>\nTo: support@keydesk.test\nSubject: Newsletter\nMessage-ID: <news@lists.test>\nPrecedence: bulk\n\nOur news.\n";
    let bounce = "From: MAILER-DAEMON@mx.test\nTo: support@keydesk.test\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: <bounce@mx.test>\n\nThis is the mail system.\n";
    let ours = "From: Keydesk <keydesk@keydesk.test>\nTo: support@keydesk.test\nSubject: [#1] We have your request\nMessage-ID: <ours@keydesk.test>\n\nLooped back.\n";
    for raw in [out_of_office, bulk, bounce, ours] {
        app.drop_mail(raw);
    }
    let summary = app.intake_once().await;
    assert_eq!((summary.fetched, summary.ignored, summary.new_tickets), (4, 4, 0));
    assert!(app.tickets().await.is_empty());
    assert!(app.mail().await.is_empty(), "no reply to any of them");
    let ignored = app.ledger(keydesk_core::intake::LedgerOutcome::Ignored).await;
    assert_eq!(ignored.len(), 4, "recorded for staff");
    assert!(ignored.iter().all(|m| !m.reason.is_empty()));
}

async fn unreadable_and_oversized_mail_is_quarantined_and_listed(backend: Backend) {
    let app = TestApp::with(backend, |f| f.merge(("intake.max_message_bytes", 2_000))).await;
    app.user("agent@support.test", "Agnes Agent", "agent", None).await;
    app.drop_mail("this is not an email at all");
    app.drop_mail(&email("Big Sender <big@sender.test>", "big@sender.test", "Huge", &"x".repeat(5_000)));
    app.drop_mail(&email(
        "Fine Sender <fine@sender.test>",
        "fine@sender.test",
        "Locked",
        "My name is Fine Sender, I am locked out.",
    ));
    let summary = app.intake_once().await;
    assert_eq!((summary.quarantined, summary.new_tickets), (2, 1), "one bad message never blocks the rest");

    let token = app.try_api_token("agent@support.test").await.unwrap();
    let response = app
        .client
        .get("/api/v1/quarantine")
        .header(Header::new("Authorization", format!("Bearer {}", token.expose())))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
    let listed: serde_json::Value = response.into_json().await.unwrap();
    let reasons: Vec<&str> = listed.as_array().unwrap().iter().map(|m| m["reason"].as_str().unwrap()).collect();
    assert_eq!(reasons.len(), 2);
    assert!(reasons.iter().any(|r| r.contains("max_message_bytes")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("cannot be parsed")), "{reasons:?}");

    let entry = |needle: &str| {
        let found = listed.as_array().unwrap().iter().find(|m| m["reason"].as_str().unwrap().contains(needle));
        keydesk::ids::LedgerId(found.unwrap()["id"].as_i64().unwrap())
    };
    let reprocess =
        |id| app.services().run(move |conn, services| keydesk::intake::reprocess_quarantined(conn, services, id));
    // Kept raw: re-processing finds the same problem again and loses nothing.
    let again = reprocess(entry("cannot be parsed")).await.unwrap();
    assert!(matches!(again, keydesk::intake::IntakeOutcome::Quarantined(_)));
    // Over the limit, only the headers were read: the listing says so, with the size at the
    // source, and re-processing explains what to do instead of pretending.
    let big = listed.as_array().unwrap().iter().find(|m| m["headers_only"] == true).expect("headers only");
    assert_eq!((big["from"].as_str(), big["subject"].as_str()), (Some("Big Sender <big@sender.test>"), Some("Huge")));
    assert!(big["size_bytes"].as_i64().unwrap() > 5_000);
    let refused = reprocess(entry("max_message_bytes")).await.unwrap_err();
    assert!(refused.to_string().contains("raise the limit"), "{refused}");
    let still = app.ledger(keydesk_core::intake::LedgerOutcome::Quarantined).await;
    assert_eq!(still.len(), 2);
}

async fn a_crash_after_the_commit_but_before_the_move_takes_nothing_in_twice(backend: Backend) {
    let app = acme(backend).await;
    let path = app.drop_mail(&email("Jane Doe <jane@acme.test>", "crash@acme.test", "Locked", JANE_ASKS));
    // The ticket is committed, then the process dies before moving the file to cur/.
    let raw = keydesk::intake::RawMessage::whole(
        keydesk::intake::maildir::source_name(&app.dir.path().join("intake")),
        path.file_name().unwrap().to_str().unwrap().split(':').next().unwrap().to_owned(),
        app.services().stored_now(),
        std::fs::read(&path).unwrap(),
    );
    app.services().run(move |conn, services| keydesk::intake::take_in(conn, services, &raw)).await.unwrap();
    // On restart the pass finds the file still in new/.
    let summary = app.intake_once().await;
    assert_eq!((summary.fetched, summary.duplicates, summary.new_tickets), (1, 1, 0));
    assert_eq!(app.tickets().await.len(), 1);
    assert!(!path.exists());
}

/// A delivery script that names its files `1`, `2`, ... and starts again (or an IMAP server
/// that hands a UID out again): the source's key is taken, but by another message.
async fn a_new_message_under_a_name_the_deliverer_reused_is_taken_in_not_dropped(backend: Backend) {
    let app = acme(backend).await;
    let intake = app.dir.path().join("intake");
    let deliver = |raw: &str| {
        std::fs::create_dir_all(intake.join("new")).unwrap();
        std::fs::write(intake.join("new/1764000000.1.script"), raw.replace('\n', "\r\n")).unwrap();
    };
    let janes = email("Jane Doe <jane@acme.test>", "jane-1@acme.test", "Locked", JANE_ASKS);
    let bobs =
        email("Bob Roe <bob@elsewhere.test>", "bob-1@elsewhere.test", "Me too", "Full name: Bob Roe\nLocked out.");
    deliver(&janes);
    assert_eq!(app.intake_once().await.new_tickets, 1);

    deliver(&bobs);
    let summary = app.intake_once().await;
    assert_eq!((summary.fetched, summary.new_tickets, summary.duplicates), (1, 1, 0), "{summary:?}");
    let senders: Vec<String> = app.tickets().await.into_iter().map(|t| t.sender).collect();
    assert_eq!(senders, ["jane@acme.test", "bob@elsewhere.test"]);
    let mut kept: Vec<String> = std::fs::read_dir(intake.join("cur"))
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    kept.sort();
    assert_eq!(kept.len(), 2, "the earlier message's file in cur/ is not overwritten");
    assert!(kept[0].contains("Bob Roe") && kept[1].contains("Jane Doe"));

    // The process died before moving Bob's file: found again, it is taken in before.
    deliver(&bobs);
    let summary = app.intake_once().await;
    assert_eq!((summary.fetched, summary.new_tickets, summary.duplicates), (1, 0, 1), "{summary:?}");
    assert_eq!(app.tickets().await.len(), 2);
    let acks = app.mail().await.iter().filter(|m| m.subject.starts_with("[#")).count();
    assert_eq!(acks, 2, "each acknowledged once");
}

/// On PostgreSQL an agent's resolve and intake's filing of a reply can overlap: the reply
/// must not land on the resolved ticket without reopening it (it would drop out of the queue
/// with the user's newest words unread).
#[rocket::async_test]
async fn a_reply_filed_while_an_agent_resolves_its_ticket_reopens_it() {
    let app = acme(Backend::Postgres).await;
    app.drop_mail(&email("Jane Doe <jane@acme.test>", "first@acme.test", "Locked", JANE_ASKS));
    app.intake_once().await;
    let ticket = app.tickets().await.remove(0);
    let (resolved, wait) = std::sync::mpsc::channel();
    let resolver = std::thread::spawn({
        let pool = app.services().db.pool().clone();
        let now = app.services().stored_now();
        move || {
            let conn = &mut *pool.get().unwrap();
            diesel::Connection::transaction(conn, |conn| {
                // What `queue::work::resolve` writes, with intake's pass arriving before it commits.
                keydesk::store::tickets::resolve_if_open(conn, ticket.id, now)?;
                resolved.send(()).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(500));
                keydesk::store::ticket_events::record(conn, ticket.id, now, None, TicketEventKind::Resolved, "")
            })
        }
    });
    wait.recv().unwrap();
    let subject = format!("Re: [#{}] We have your request", ticket.id);
    app.drop_mail(&email("Jane Doe <jane@acme.test>", "second@acme.test", &subject, "Still locked."));
    let summary = app.intake_once().await;
    resolver.join().unwrap().unwrap();
    assert_eq!(summary.threaded, 1);
    let ticket = app.tickets().await.remove(0);
    assert_eq!(ticket.status, TicketStatus::Open, "the reply reopened the ticket resolved meanwhile");
}

async fn the_tickets_api_shows_the_ticket_and_its_thread(backend: Backend) {
    let app = acme(backend).await;
    app.drop_mail(&email("Jane Doe <jane@acme.test>", "api@acme.test", "Account locked", JANE_ASKS));
    app.intake_once().await;
    let token = app.try_api_token("agent@support.test").await.unwrap();
    let auth = Header::new("Authorization", format!("Bearer {}", token.expose()));
    let list: serde_json::Value =
        app.client.get("/api/v1/tickets?status=new").header(auth.clone()).dispatch().await.into_json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let number = list[0]["number"].as_i64().unwrap();
    let ticket: serde_json::Value = app
        .client
        .get(format!("/api/v1/tickets/{number}"))
        .header(auth.clone())
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    for key in [
        "number",
        "status",
        "received_at",
        "sender",
        "subject",
        "full_name",
        "registered_email",
        "description",
        "account",
        "account_locked",
        "messages",
    ] {
        assert!(ticket.get(key).is_some(), "{key} missing from {ticket}");
    }
    assert_eq!(ticket["account"], "jane@acme.test");
    assert_eq!(ticket["account_locked"], false);
    let directions: Vec<&str> =
        ticket["messages"].as_array().unwrap().iter().map(|m| m["direction"].as_str().unwrap()).collect();
    assert_eq!(directions, ["in", "out"], "the user's message, then our acknowledgement");
    let none: serde_json::Value = app
        .client
        .get("/api/v1/tickets?status=resolved")
        .header(auth.clone())
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    assert_eq!(none.as_array().unwrap().len(), 0);
    assert_eq!(
        app.client.get("/api/v1/tickets/999999").header(auth.clone()).dispatch().await.status(),
        Status::NotFound
    );
    assert_eq!(
        app.client.get("/api/v1/tickets?status=bogus").header(auth).dispatch().await.status(),
        Status::BadRequest
    );
    assert_eq!(app.client.get("/api/v1/tickets").dispatch().await.status(), Status::Unauthorized);
}

async fn staff_see_intake_health_and_reprocess_or_discard_quarantined_mail(backend: Backend) {
    let app = acme(backend).await;
    app.drop_mail("not an email");
    app.drop_mail("neither is this");
    app.intake_once().await;
    app.logged_in_as("agent@support.test").await;
    let page = app.client.get("/intake").dispatch().await.into_string().await.unwrap();
    assert!(page.contains("maildir:"), "the source's health is shown");
    let health: serde_json::Value = app.client.get("/healthz").dispatch().await.into_json().await.unwrap();
    assert_eq!(health["intake"][0]["consecutive_errors"], 0);
    assert!(health["intake"][0]["last_success_at"].is_string(), "{health}");
    assert!(!health.to_string().contains("maildir:"), "the public health names no source: {health}");
    let document = scraper::Html::parse_document(&page);
    let rows: Vec<String> = document
        .select(&scraper::Selector::parse("[id^=quarantined-]").unwrap())
        .map(|r| r.value().attr("id").unwrap().trim_start_matches("quarantined-").to_owned())
        .collect();
    assert_eq!(rows.len(), 2);
    assert!(page.contains("cannot be parsed"));

    let response = app.post_form(&format!("/intake/quarantine/{}/reprocess", rows[0]), &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    let page = app.client.get("/intake").dispatch().await.into_string().await.unwrap();
    assert!(page.contains("Still cannot be taken in"));

    app.post_form(&format!("/intake/quarantine/{}/discard", rows[1]), &[]).await;
    let quarantined = app.ledger(keydesk_core::intake::LedgerOutcome::Quarantined).await;
    assert_eq!(quarantined.len(), 1, "one re-processed back into quarantine, one discarded");
    let discarded = app.ledger(keydesk_core::intake::LedgerOutcome::Discarded).await;
    assert_eq!(discarded.len(), 1);
    assert!(discarded[0].reason.starts_with("discarded by agent@support.test"));
    assert!(discarded[0].size_bytes > 0 && discarded[0].raw_complete, "kept raw");

    // A second press (another tab, another agent) finds nothing to discard or re-process:
    // the check and the change are one statement, so the entry keeps its one story.
    for action in ["discard", "reprocess"] {
        let again = app.post_form(&format!("/intake/quarantine/{}/{action}", rows[1]), &[]).await;
        assert_eq!(again.status(), Status::NotFound, "{action} a discarded message");
    }
    let reprocessed_before = app.ledger(keydesk_core::intake::LedgerOutcome::Reprocessed).await;
    assert_eq!(reprocessed_before.len(), 1, "only the first re-process took it in again");
}

async fn the_acknowledgement_states_the_hours_and_when_closed_the_next_opening(backend: Backend) {
    let today = common::test_start().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let reopening = tomorrow.succ_opt().unwrap();
    let app =
        TestApp::with(backend, move |f| f.merge(("working_hours.holidays", [today.to_string(), tomorrow.to_string()])))
            .await;
    app.drop_mail(&email("Jane Doe <jane@acme.test>", "closed@acme.test", "Locked", JANE_ASKS));
    app.intake_once().await;
    let ack = app.mail_to("jane@acme.test").await.remove(0);
    let text = ack.text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("Support hours: Every day, 0:00–24:00 (UTC)"), "{text}");
    let expected = format!(
        "we will look at your ticket from {} (UTC)",
        reopening.and_hms_opt(0, 0, 0).unwrap().format("%A %-d %B at %H:%M")
    );
    assert!(text.contains(&expected), "{text}");

    let open_app = acme(backend).await;
    open_app.drop_mail(&email("Jane Doe <jane@acme.test>", "open@acme.test", "Locked", JANE_ASKS));
    open_app.intake_once().await;
    let ack = open_app.mail_to("jane@acme.test").await.remove(0);
    assert!(ack.text.contains("We are open now"));
}

async fn the_acknowledgement_asks_for_what_could_not_be_parsed(backend: Backend) {
    let app = acme(backend).await;
    app.drop_mail("From: someone@nowhere.test\nTo: support@keydesk.test\nSubject: help\nMessage-ID: <vague@nowhere.test>\n\nI cannot get in.\n");
    app.intake_once().await;
    let ack = app.mail_to("someone@nowhere.test").await.remove(0);
    let text = ack.text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("we need a few details"), "{text}");
    assert!(text.contains("your full name"), "{text}");
}
