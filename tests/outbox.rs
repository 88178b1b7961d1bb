//! The outbox: mail that cannot be delivered waits and is retried with back-off, delivered
//! mail is written once, and every message is well formed (Auto-Submitted, Message-ID,
//! text and HTML parts, escaped HTML).

mod common;

use chrono::{Duration, NaiveDateTime};
use common::{lock_by_wrong_logins, Backend, TestApp};
use keydesk::mail::sender::DeliveryReport;
use keydesk::store::outbox::OutboxMessage;
use keydesk_core::UnlockPolicy;
use mail_parser::{MessageParser, MimeHeaders};
use rocket::http::Status;

on_both_backends!(
    an_unreachable_smtp_server_leaves_the_message_queued_for_a_retry_in_ten_seconds,
    a_failed_message_is_not_retried_before_its_time_and_waits_twice_as_long_after_a_second_failure,
    delivering_twice_writes_each_message_once,
    every_message_is_auto_submitted_with_a_message_id_a_text_and_an_html_part,
    html_parts_escape_values_and_text_parts_keep_them,
    a_message_that_can_never_be_written_is_given_up_not_retried_forever,
    a_stop_finishes_the_email_in_hand_and_claims_no_more,
    a_kind_of_email_this_version_does_not_know_holds_up_nothing,
);

/// A port on 127.0.0.1 where nothing listens.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

async fn app_with_unreachable_smtp(backend: Backend) -> TestApp {
    let port = closed_port();
    TestApp::with(backend, |f| {
        f.merge(("mail.transport", "smtp"))
            .merge(("mail.host", "127.0.0.1"))
            .merge(("mail.port", port))
            .merge(("mail.security", "none"))
    })
    .await
}

async fn outbox(app: &TestApp) -> Vec<OutboxMessage> {
    app.services().run(|conn, _| Ok(keydesk::store::outbox::all(conn)?)).await.unwrap()
}

/// Jane locked in an organisation with nobody to tell: exactly one email (hers) is queued.
async fn lock_jane_alone(app: &TestApp) {
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    lock_by_wrong_logins(app, &jane).await;
    let queued = outbox(app).await;
    assert_eq!(queued.len(), 1, "one lock email queued: {queued:?}");
    assert_eq!(queued[0].to_address, "jane@acme.test");
    assert!(queued[0].sent_at.is_none());
}

/// Delivers once and returns the report with the instants just before and after.
async fn timed_delivery(app: &TestApp) -> (DeliveryReport, NaiveDateTime, NaiveDateTime) {
    let before = app.services().stored_now();
    let report = app.deliver_mail().await;
    let after = app.services().stored_now();
    (report, before, after)
}

fn assert_between(value: NaiveDateTime, low: NaiveDateTime, high: NaiveDateTime, what: &str) {
    let slack = Duration::milliseconds(1);
    assert!(value >= low - slack && value <= high + slack, "{what}: {value} should be between {low} and {high}");
}

async fn an_unreachable_smtp_server_leaves_the_message_queued_for_a_retry_in_ten_seconds(backend: Backend) {
    let app = app_with_unreachable_smtp(backend).await;
    lock_jane_alone(&app).await;

    let (report, before, after) = timed_delivery(&app).await;
    assert_eq!(report, DeliveryReport { sent: 0, failed: 1, given_up: 0 });
    let rows = outbox(&app).await;
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.attempts, 1);
    assert!(row.sent_at.is_none(), "not sent");
    assert!(row.claimed_until.is_none(), "the lease is released after the failure");
    let error = row.last_error.as_deref().expect("the error is kept");
    assert!(error.starts_with("SMTP"), "{error}");
    assert_between(
        row.next_attempt_at,
        before + Duration::seconds(10),
        after + Duration::seconds(10),
        "the first retry is 10 s later",
    );
    assert!(app.mail().await.is_empty(), "nothing reached the mail folder");
}

async fn a_failed_message_is_not_retried_before_its_time_and_waits_twice_as_long_after_a_second_failure(
    backend: Backend,
) {
    let app = app_with_unreachable_smtp(backend).await;
    lock_jane_alone(&app).await;
    assert_eq!(app.deliver_mail().await, DeliveryReport { sent: 0, failed: 1, given_up: 0 });
    let first = outbox(&app).await.remove(0);

    assert_eq!(
        app.deliver_mail().await,
        DeliveryReport { sent: 0, failed: 0, given_up: 0 },
        "not due yet: no early retry"
    );
    let unchanged = outbox(&app).await.remove(0);
    assert_eq!(unchanged.attempts, 1);
    assert_eq!(unchanged.next_attempt_at, first.next_attempt_at);

    // Time passes: the retry falls due, fails again, and waits 20 s.
    let id = first.id;
    let due = app.services().stored_now() - Duration::seconds(1);
    app.services()
        .run(move |conn, _| {
            use diesel::prelude::*;
            use keydesk::db::schema::outbox;
            diesel::update(outbox::table.find(id)).set(outbox::next_attempt_at.eq(due)).execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let (report, before, after) = timed_delivery(&app).await;
    assert_eq!(report, DeliveryReport { sent: 0, failed: 1, given_up: 0 });
    let second = outbox(&app).await.remove(0);
    assert_eq!(second.attempts, 2);
    assert!(second.sent_at.is_none());
    assert_between(
        second.next_attempt_at,
        before + Duration::seconds(20),
        after + Duration::seconds(20),
        "the second retry is 20 s later",
    );
}

/// The `.eml` files and any other entries (e.g. half-written files) in the mail folder.
fn mail_folder_entries(app: &TestApp) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(app.dir.path().join("mail"))
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

async fn delivering_twice_writes_each_message_once(backend: Backend) {
    let app = TestApp::new(backend).await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    app.user("boss@acme.test", "Olive Owner", "owner", Some(&org)).await;
    lock_by_wrong_logins(&app, &jane).await;

    assert_eq!(app.deliver_mail().await, DeliveryReport { sent: 2, failed: 0, given_up: 0 });
    let files = mail_folder_entries(&app);
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files.iter().all(|f| f.ends_with(".eml")), "only whole messages: {files:?}");
    let rows = outbox(&app).await;
    assert!(rows.iter().all(|r| r.sent_at.is_some() && r.attempts == 1 && r.last_error.is_none()), "{rows:?}");

    assert_eq!(app.deliver_mail().await, DeliveryReport { sent: 0, failed: 0, given_up: 0 });
    assert_eq!(mail_folder_entries(&app), files, "a second delivery writes nothing");

    // A new email adds exactly one file.
    assert_eq!(app.post_form("/forgot-password", &[("email", "boss@acme.test")]).await.status(), Status::Ok);
    assert_eq!(app.deliver_mail().await, DeliveryReport { sent: 1, failed: 0, given_up: 0 });
    assert_eq!(app.deliver_mail().await, DeliveryReport { sent: 0, failed: 0, given_up: 0 });
    assert_eq!(mail_folder_entries(&app).len(), 3);
}

/// A delivered email's text and HTML parts (decoded), and its Message-ID and Auto-Submitted.
struct Parts {
    root: String,
    text: Vec<String>,
    html: Vec<String>,
    message_id: Option<String>,
    auto_submitted: Option<String>,
}

fn parts_of(raw: &str) -> Parts {
    let message = MessageParser::default().parse(raw.as_bytes()).expect("a parseable email");
    let kind = |p: &mail_parser::MessagePart<'_>| {
        p.content_type().map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or_default())).unwrap_or_default()
    };
    let of_kind = |wanted: &str| -> Vec<String> {
        message
            .parts
            .iter()
            .filter(|p| kind(p) == wanted)
            .filter_map(|p| p.text_contents())
            .map(str::to_owned)
            .collect()
    };
    Parts {
        root: message
            .content_type()
            .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or_default()))
            .unwrap_or_default(),
        text: of_kind("text/plain"),
        html: of_kind("text/html"),
        message_id: message.message_id().map(str::to_owned),
        auto_submitted: message.header_raw("Auto-Submitted").map(|v| v.trim().to_owned()),
    }
}

async fn every_message_is_auto_submitted_with_a_message_id_a_text_and_an_html_part(backend: Backend) {
    let app = TestApp::new(backend).await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    app.user("boss@acme.test", "Olive Owner", "owner", Some(&org)).await;
    app.post_form("/forgot-password", &[("email", "jane@acme.test")]).await;
    app.settled().await;
    lock_by_wrong_logins(&app, &jane).await;
    app.logged_in_as("boss@acme.test").await;
    assert_eq!(app.post_form(&format!("/org/users/{}/unlock", jane.id), &[]).await.status(), Status::SeeOther);

    let mails = app.mail().await;
    let rows = outbox(&app).await;
    let kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(kinds, ["password_reset", "account_locked", "account_locked_admin", "account_unlocked"]);
    assert_eq!(mails.len(), rows.len());
    let mut ids = Vec::new();
    for (mail, row) in mails.iter().zip(&rows) {
        let parts = parts_of(&mail.raw);
        assert_eq!(parts.auto_submitted.as_deref(), Some("auto-generated"), "{}: {}", row.kind, mail.raw);
        let id = parts.message_id.clone().unwrap_or_else(|| panic!("{} has a Message-ID", row.kind));
        assert_eq!(format!("<{id}>"), row.message_id, "{}: the Message-ID is the outbox row's", row.kind);
        assert!(id.ends_with("@keydesk.test"), "in Keydesk's own domain: {id}");
        ids.push(id);
        assert_eq!(parts.root, "multipart/alternative", "{}", row.kind);
        assert_eq!(parts.text.len(), 1, "{}: one text part", row.kind);
        assert_eq!(parts.html.len(), 1, "{}: one HTML part", row.kind);
        // Email lines end in CRLF on the wire.
        let lf = |s: &str| s.replace("\r\n", "\n").trim().to_owned();
        if row.kind == keydesk_core::outgoing::EmailKind::PasswordReset {
            // Sent, the link is no longer kept: the database and its backups hold no working one.
            assert!(parts.text[0].contains("/reset-password/"), "the email has the link");
            let cleared = keydesk::store::outbox::SECRET_CLEARED;
            assert_eq!((row.text_body.as_str(), row.html_body.as_str()), (cleared, cleared));
            continue;
        }
        assert_eq!(lf(&parts.text[0]), lf(&row.text_body), "{}: the text part is the rendered text", row.kind);
        assert!(lf(&parts.html[0]).contains(&lf(&row.html_body)), "{}: the HTML part is the rendered HTML", row.kind);
        assert!(!parts.text[0].contains("<p>"), "{}: the text part is not HTML", row.kind);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), rows.len(), "every message has its own Message-ID");
}

async fn html_parts_escape_values_and_text_parts_keep_them(backend: Backend) {
    let app = TestApp::new(backend).await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    let name = "Jane <script>alert(1)</script> Doe";
    let jane = app.user("jane@acme.test", name, "member", Some(&org)).await;
    app.user("boss@acme.test", "Olive Owner", "owner", Some(&org)).await;
    app.post_form("/forgot-password", &[("email", "jane@acme.test")]).await;
    app.settled().await;
    lock_by_wrong_logins(&app, &jane).await;

    let reset = app
        .mail_to("jane@acme.test")
        .await
        .into_iter()
        .find(|m| m.subject == "Reset your password")
        .expect("a reset email");
    let note = app.mail_to("boss@acme.test").await.into_iter().next().expect("the owner's lock note");
    for mail in [reset, note] {
        let parts = parts_of(&mail.raw);
        let html = &parts.html[0];
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
                || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{}: {html}",
            mail.subject
        );
        assert!(!html.contains("<script>"), "{}: the HTML part must not carry the raw tag: {html}", mail.subject);
        assert!(
            parts.text[0].contains(name),
            "{}: the text part shows the name as typed: {}",
            mail.subject,
            parts.text[0]
        );
    }
}

/// Real mailboxes exist that the mail library will not write (Japanese carriers handed out
/// addresses like taro..yamada@docomo.ne.jp for years); Keydesk's own parser takes them in.
/// Their acknowledgement can never be sent as it stands: it is given up — kept with its
/// error and counted for the operator — instead of being tried every 15 minutes for ever,
/// and the mail beside it goes out.
async fn a_message_that_can_never_be_written_is_given_up_not_retried_forever(backend: Backend) {
    let app = TestApp::new(backend).await;
    app.drop_mail(
        "From: Taro Yamada <taro..yamada@docomo.example>\nSubject: Locked\nMessage-ID: <taro@docomo.example>\n\n\
         Full name: Taro Yamada\nI am locked out.\n",
    );
    app.drop_mail(
        "From: Jane Doe <jane@acme.test>\nSubject: Locked\nMessage-ID: <jane@acme.test>\n\nFull name: Jane Doe\nLocked.\n",
    );
    let summary = app.intake_once().await;
    assert_eq!(summary.new_tickets, 2, "{summary}");
    let report = app.deliver_mail().await;
    assert_eq!((report.sent, report.failed, report.given_up), (1, 0, 1), "{report:?}");
    let rows = outbox(&app).await;
    let taro = rows.iter().find(|m| m.to_address.starts_with("taro")).expect("Taro's acknowledgement");
    assert!(taro.given_up_at.is_some() && taro.sent_at.is_none(), "{taro:?}");
    assert!(taro.last_error.as_deref().unwrap_or_default().contains("recipient"), "{taro:?}");

    // Never tried again, and no longer pending.
    app.clock.advance(Duration::days(1));
    assert_eq!(app.deliver_mail().await, DeliveryReport::default());
    let health = app.services().run(|conn, _| Ok(keydesk::store::outbox::health(conn)?)).await.unwrap();
    assert_eq!((health.queued, health.given_up), (0, 1));
}

/// A stop (SIGTERM at a deploy) is not a crash: the email in hand is recorded as sent before
/// the process exits, so the next process does not send it again, and nothing more is taken.
async fn a_stop_finishes_the_email_in_hand_and_claims_no_more(backend: Backend) {
    let sink = common::smtp_sink::SmtpSink::start(std::time::Duration::from_millis(800));
    let app = TestApp::with(backend, |f| {
        f.merge(("mail.transport", "smtp"))
            .merge(("mail.host", "127.0.0.1"))
            .merge(("mail.port", sink.port))
            .merge(("mail.security", "none"))
            .merge(("mail.connections", 1))
    })
    .await;
    lock_jane_alone(&app).await;
    let org = app.org("Globex", "globex", UnlockPolicy::Admins).await;
    let gus = app.user("gus@globex.test", "Gus Globex", "member", Some(&org)).await;
    lock_by_wrong_logins(&app, &gus).await;
    assert_eq!(outbox(&app).await.len(), 2);

    let services = app.services();
    let transport = keydesk::mail::sender::Transport::from_config(&services.config).unwrap();
    let sender = rocket::tokio::spawn(keydesk::mail::sender::run_forever(
        services.db.clone(),
        (*services.config).clone(),
        services.clock.clone(),
        transport,
        services.outbox_wake.clone(),
        services.background.clone(),
    ));
    // The first email is with the (slow) server when the stop comes.
    rocket::tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(sink.message_ids().is_empty());
    keydesk::finish_background_work(services).await;

    let rows = outbox(&app).await;
    let sent: Vec<_> = rows.iter().filter(|row| row.sent_at.is_some()).collect();
    assert_eq!(sent.len(), 1, "the email in hand is recorded before the stop ends: {rows:?}");
    assert_eq!(rows.iter().filter(|row| row.attempts == 0).count(), 1, "the other is not taken");
    assert_eq!(sink.message_ids().len(), 1);
    sender.abort();
}

/// During a rolling upgrade a newer process may queue a kind of email this one cannot
/// render or even load: it is left for a process that can, and the mail behind it goes out.
async fn a_kind_of_email_this_version_does_not_know_holds_up_nothing(backend: Backend) {
    let app = TestApp::new(backend).await;
    let now = app.services().stored_now();
    app.services()
        .db
        .run(move |conn| {
            use diesel::prelude::*;
            use keydesk::db::schema::outbox;
            common::outbox::queue_unlock_notices(conn, 2, "known");
            // Due by the test's clock.
            diesel::update(outbox::table).set(outbox::next_attempt_at.eq(now)).execute(conn)?;
            let first = outbox::table.select(diesel::dsl::min(outbox::id)).first::<Option<i64>>(conn)?.unwrap();
            diesel::update(outbox::table.find(first)).set(outbox::kind.eq("from_a_newer_version")).execute(conn)?;
            Ok::<_, keydesk::db::DbError>(())
        })
        .await
        .unwrap();
    let report = app.deliver_mail().await;
    assert_eq!((report.sent, report.failed), (1, 0), "the known one goes out past the unknown one");
    let unknown = app
        .services()
        .db
        .run(|conn| {
            use diesel::prelude::*;
            use keydesk::db::schema::outbox;
            let row = outbox::table
                .filter(outbox::kind.eq("from_a_newer_version"))
                .select((outbox::sent_at.is_null(), outbox::attempts))
                .first::<(bool, i32)>(conn)?;
            Ok::<_, keydesk::db::DbError>(row)
        })
        .await
        .unwrap();
    assert_eq!(unknown, (true, 0), "left as it was for a newer process");
}
