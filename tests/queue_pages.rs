//! The agents' pages: the queue lists what still needs someone, oldest first, with filters;
//! a ticket's page shows the request, the thread, the checks and the history; every action
//! works through its form; Unlock says why it cannot be pressed; a sender's HTML never
//! reaches the page.

mod common;

use common::{Backend, TestApp, TestClient};
use keydesk_core::UnlockPolicy;
use rocket::figment::Figment;
use rocket::http::Status;
use std::time::Duration;

on_both_backends!(
    the_queue_lists_open_tickets_oldest_first_with_their_facts,
    the_queue_filters_by_status_verification_assignee_organisation_and_arrival,
    the_ticket_page_shows_the_request_thread_checks_and_history,
    every_action_works_through_its_form_from_take_to_unlock,
    refusals_come_back_as_error_flashes_with_the_reason,
    unlock_is_disabled_with_the_reason_when_unverified_or_already_unlocked,
    unlock_is_disabled_while_support_is_closed_and_says_when_it_opens,
    html_from_an_email_never_reaches_the_page,
    agents_and_managers_find_the_queue_from_the_navigation_and_the_start_page,
    a_resolved_tickets_age_stops_when_it_was_resolved,
);

/// Acme (Jane, Joe) and Beta Health (Bob), agents and a manager; signed in as Agnes.
async fn desk(backend: Backend, configure: impl FnOnce(Figment) -> Figment) -> TestApp {
    let app =
        TestApp::with(backend, |f| configure(f.merge(("verification.trusted_authserv_id", "mx.keydesk.test")))).await;
    let acme = app.org("Acme Clinic", "acme", UnlockPolicy::Admins).await;
    let beta = app.org("Beta Health", "beta", UnlockPolicy::Admins).await;
    app.user("jane@acme.test", "Jane Doe", "member", Some(&acme)).await;
    app.user("joe@acme.test", "Joe Bloggs", "member", Some(&acme)).await;
    app.user("bob@beta.test", "Bob Baker", "member", Some(&beta)).await;
    app.user("agent@support.test", "Agnes Agent", "agent", None).await;
    app.user("agent2@support.test", "Artur Agent", "agent", None).await;
    app.user("manager@support.test", "Mona Manager", "manager", None).await;
    app.logged_in_as("agent@support.test").await;
    app
}

async fn lock(app: &TestApp, email: &str) {
    for _ in 0..5 {
        assert_eq!(app.log_in(email, "wrong password").await.status(), Status::Ok);
    }
}

/// A locked user's request, as their mail server delivers it; `authenticated` adds our
/// receiving server's DMARC pass.
fn request(name: &str, email: &str, message_id: &str, authenticated: bool) -> String {
    let auth = if authenticated {
        format!(
            "Authentication-Results: mx.keydesk.test; dmarc=pass header.from={}\n",
            email.split('@').nth(1).unwrap()
        )
    } else {
        String::new()
    };
    format!(
        "From: {name} <{email}>\nTo: support@keydesk.test\nSubject: Account locked\nMessage-ID: <{message_id}>\n{auth}MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nHello,\n\nFull name: {name}\nRegistered email: {email}\nIssue: I typed my password wrong too many times.\nSecond line of the issue.\n\nThanks\n"
    )
}

/// Takes in one message that arrived `ago` before now; returns its ticket number.
async fn arrives(app: &TestApp, raw: &str, ago: Duration) -> i64 {
    let path = app.drop_mail(raw);
    std::fs::File::options().write(true).open(&path).unwrap().set_modified((app.now() - ago).into()).unwrap();
    let summary = app.intake_once().await;
    assert_eq!(summary.new_tickets, 1, "{summary:?}");
    app.tickets().await.iter().map(|t| t.id.0).max().unwrap()
}

async fn get(app: &TestApp, path: &str) -> String {
    let response = app.client.get(path.to_owned()).dispatch().await;
    assert_eq!(response.status(), Status::Ok, "GET {path}");
    response.into_string().await.unwrap()
}

fn texts(html: &str, selector: &str) -> Vec<String> {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(selector).unwrap();
    document
        .select(&selector)
        .map(|e| e.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

fn text(html: &str, selector: &str) -> String {
    texts(html, selector).into_iter().next().unwrap_or_else(|| panic!("nothing matches {selector}"))
}

fn count(html: &str, selector: &str) -> usize {
    texts(html, selector).len()
}

/// The ticket numbers on a queue page, top to bottom.
async fn queue(app: &TestApp, query: &str) -> Vec<i64> {
    let page = get(app, &format!("/queue{query}")).await;
    let document = scraper::Html::parse_document(&page);
    let rows = scraper::Selector::parse("table.queue tbody tr[id]").unwrap();
    document
        .select(&rows)
        .map(|row| row.value().attr("id").unwrap().trim_start_matches("ticket-").parse().unwrap())
        .collect()
}

/// Posts a ticket's form and follows the redirect back; returns the flash (kind, text).
async fn act(app: &TestApp, number: i64, action: &str, fields: &[(&str, &str)]) -> (String, String) {
    let response = app.post_form(&format!("/tickets/{number}/{action}"), fields).await;
    assert_eq!(response.status(), Status::SeeOther, "POST /tickets/{number}/{action}");
    assert_eq!(response.headers().get_one("Location"), Some(format!("/tickets/{number}").as_str()));
    let page = get(app, &format!("/tickets/{number}")).await;
    let document = scraper::Html::parse_document(&page);
    let flash = document.select(&scraper::Selector::parse(".flash").unwrap()).next().expect("a flash message");
    let kind = flash.value().classes().find(|c| *c != "flash").unwrap_or_default().to_owned();
    (kind, flash.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" "))
}

async fn is_locked(app: &TestApp, email: &str) -> bool {
    let email = keydesk_core::EmailAddress::parse(email).unwrap();
    app.services()
        .run(move |conn, _| Ok(keydesk::store::users::find_by_email(conn, &email)?.unwrap().locked_at.is_some()))
        .await
        .unwrap()
}

async fn the_queue_lists_open_tickets_oldest_first_with_their_facts(backend: Backend) {
    let app = desk(backend, |f| f).await;
    lock(&app, "jane@acme.test").await;
    // Taken in in this order, but Bob's message is the oldest and Jane's the newest.
    let jane =
        arrives(&app, &request("Jane Doe", "jane@acme.test", "j@acme.test", false), Duration::from_secs(60 * 60)).await;
    let bob = arrives(
        &app,
        &request("Bob Baker", "bob@beta.test", "b@beta.test", false),
        Duration::from_secs(3 * 60 * 60 + 60),
    )
    .await;
    let stranger = arrives(&app, "From: Sam Stranger <sam@elsewhere.test>\nTo: support@keydesk.test\nSubject: help\nMessage-ID: <s@elsewhere.test>\n\nI cannot log in.\n", Duration::from_secs(2 * 60 * 60 + 60)).await;

    assert_eq!(queue(&app, "").await, vec![bob, stranger, jane], "oldest first");
    let page = get(&app, "/queue").await;
    let row = |number: i64, cell: &str| text(&page, &format!("tr#ticket-{number} td.{cell}"));
    assert_eq!(row(jane, "number"), format!("#{jane}"));
    assert_eq!(count(&page, &format!("tr#ticket-{jane} a[href='/tickets/{jane}']")), 1);
    assert_eq!(row(jane, "who"), "Jane Doe jane@acme.test");
    assert_eq!(row(jane, "org"), "Acme Clinic");
    assert_eq!(row(bob, "org"), "Beta Health");
    assert_eq!(row(stranger, "who"), "Sam Stranger sam@elsewhere.test", "taken from the From header; no account");
    assert_eq!(row(stranger, "org"), "—");
    // Support is open around the clock in tests: business hours are plain hours.
    assert_eq!(row(bob, "age"), "3 business hours");
    assert_eq!(row(stranger, "age"), "2 business hours");
    assert_eq!(row(jane, "age"), "1 business hour");
    assert_eq!(row(jane, "status"), "New");
    assert_eq!(count(&page, &format!("tr#ticket-{jane} .ticket-status.new")), 1, "status in colour too");
    assert_eq!(row(jane, "verification"), "Not verified");
    assert_eq!(row(jane, "assignee"), "—");
    assert_eq!(row(jane, "arrived"), "In hours");
}

async fn the_queue_filters_by_status_verification_assignee_organisation_and_arrival(backend: Backend) {
    let app = desk(backend, |f| f).await;
    let jane =
        arrives(&app, &request("Jane Doe", "jane@acme.test", "j@acme.test", true), Duration::from_secs(4 * 60)).await;
    let joe =
        arrives(&app, &request("Joe Bloggs", "joe@acme.test", "jo@acme.test", false), Duration::from_secs(3 * 60))
            .await;
    let bob =
        arrives(&app, &request("Bob Baker", "bob@beta.test", "b@beta.test", false), Duration::from_secs(2 * 60)).await;

    act(&app, jane, "verify", &[("method", "call_back"), ("note", "called the number on file")]).await;
    act(&app, joe, "take", &[]).await;
    act(&app, bob, "resolve", &[("note", "sorted out by phone")]).await;

    assert_eq!(queue(&app, "").await, vec![jane, joe], "resolved tickets are left out by default");
    assert_eq!(queue(&app, "?status=all").await, vec![jane, joe, bob]);
    assert_eq!(queue(&app, "?status=resolved").await, vec![bob]);
    assert_eq!(queue(&app, "?status=open").await, vec![joe], "taking a new ticket opens it");
    assert_eq!(queue(&app, "?status=new").await, vec![jane]);
    assert_eq!(queue(&app, "?verified=yes").await, vec![jane]);
    assert_eq!(queue(&app, "?verified=no").await, vec![joe]);
    assert_eq!(queue(&app, "?mine=yes").await, vec![joe]);
    assert_eq!(queue(&app, "?org=acme").await, vec![jane, joe]);
    assert_eq!(queue(&app, "?org=beta&status=all").await, vec![bob]);
    assert_eq!(queue(&app, "?org=nobody").await, Vec::<i64>::new());
    assert_eq!(queue(&app, "?hours=in").await, vec![jane, joe]);
    assert_eq!(queue(&app, "?hours=out").await, Vec::<i64>::new());
    assert_eq!(queue(&app, "?status=all&org=acme&verified=no&mine=yes").await, vec![joe], "filters combine");

    let page = get(&app, "/queue?status=all").await;
    assert_eq!(text(&page, &format!("tr#ticket-{jane} td.verification")), "Verified (call back)");
    assert_eq!(text(&page, &format!("tr#ticket-{joe} td.assignee")), "You");
    assert_eq!(text(&page, &format!("tr#ticket-{joe} td.status")), "Open");
    assert_eq!(text(&page, &format!("tr#ticket-{bob} td.status")), "Resolved");
    // The form shows the filters it was sent.
    let page = get(&app, "/queue?status=resolved&org=beta&verified=no&hours=in&mine=yes").await;
    assert_eq!(text(&page, "select[name=status] option[selected]"), "Resolved");
    assert_eq!(text(&page, "select[name=org] option[selected]"), "Beta Health");
    assert_eq!(text(&page, "select[name=verified] option[selected]"), "Not verified");
    assert_eq!(text(&page, "select[name=hours] option[selected]"), "In working hours");
    assert_eq!(count(&page, "input[name=mine][checked]"), 1);
    assert_eq!(count(&page, "form.queue-filters[method=get][action='/queue']"), 1);

    // Another agent's "mine" is their own.
    app.logged_in_as("agent2@support.test").await;
    assert_eq!(queue(&app, "?mine=yes").await, Vec::<i64>::new());
    assert_eq!(text(&get(&app, "/queue").await, &format!("tr#ticket-{joe} td.assignee")), "Agnes Agent");
}

async fn the_ticket_page_shows_the_request_thread_checks_and_history(backend: Backend) {
    let app = desk(backend, |f| f).await;
    lock(&app, "jane@acme.test").await;
    let number =
        arrives(&app, &request("Jane Doe", "jane@acme.test", "j@acme.test", false), Duration::from_secs(60)).await;
    let page = get(&app, &format!("/tickets/{number}")).await;

    assert_eq!(text(&page, "h1"), format!("#{number} · Account locked"));
    assert_eq!(text(&page, "#ticket-status"), "New");
    assert_eq!(text(&page, "#ticket-verification"), "Not verified");
    let facts = texts(&page, "dl.facts dd");
    assert_eq!(facts[0], "Jane Doe jane@acme.test");
    assert_eq!(facts[1], "Jane Doe from a labelled line");
    assert_eq!(facts[2], "jane@acme.test from a labelled line");
    assert!(facts[3].starts_with("I typed my password wrong too many times."), "{}", facts[3]);
    assert!(facts[3].ends_with("from a labelled line"), "{}", facts[3]);

    // The thread: the user's message and the acknowledgement, in order, as text.
    let messages = texts(&page, "article.message");
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].starts_with("From jane@acme.test"), "{}", messages[0]);
    assert!(messages[1].starts_with("Reply from"), "{}", messages[1]);
    let body = text(&page, "article.message.in .message-body");
    assert!(body.contains("Full name: Jane Doe"), "{body}");
    let raw_body = {
        let document = scraper::Html::parse_document(&page);
        let selector = scraper::Selector::parse("article.message.in .message-body").unwrap();
        document.select(&selector).next().unwrap().text().collect::<String>()
    };
    assert!(raw_body.contains("too many times.\nSecond line"), "line breaks kept for pre-wrap: {raw_body:?}");

    // The account and its activity.
    assert_eq!(text(&page, ".account-line .status-locked"), "Locked");
    let activity = texts(&page, "ol.activity li");
    assert!(activity.len() <= 10);
    assert!(activity[0].contains("Account locked"), "newest first: {activity:?}");
    assert!(activity.iter().any(|a| a.contains("Login failed")), "{activity:?}");

    // The five checks, each passed or failed in words.
    let checks = texts(&page, "ul.checks li.check");
    assert_eq!(checks.len(), 5, "{checks:?}");
    assert!(text(&page, "#check-account_locked").starts_with("✓ Passed Account is locked"));
    assert_eq!(count(&page, "#check-account_locked.passed"), 1);
    assert!(text(&page, "#check-name_matches").starts_with("✓ Passed"));
    assert!(text(&page, "#check-sender_authenticated").starts_with("✗ Failed Sender authenticated by our mail server"));
    assert_eq!(count(&page, "#check-sender_authenticated.failed"), 1);
    // Unauthenticated sender: the rule is shown by the Verify form.
    assert!(
        text(&page, "#verification-rule").contains("the mailbox challenge must be answered, or a manager must verify")
    );

    // The history, oldest first.
    let history = texts(&page, "ol.history li");
    assert!(history[0].contains("Received"), "{history:?}");
    assert!(history[1].contains("Acknowledged"), "{history:?}");

    // Every action is a POST form with the CSRF token.
    for action in ["take", "note", "reply", "challenge", "verify", "waiting", "resolve", "unlock"] {
        let selector = format!("form[method=post][action='/tickets/{number}/{action}'] input[name=csrf_token]");
        assert_eq!(count(&page, &selector), 1, "{action} form");
    }
    let methods = texts(&page, "#verify-method option");
    assert_eq!(
        methods,
        [
            "Choose how you verified",
            "mailbox confirmed",
            "call back",
            "confirmed by owner",
            "confirmed by organisation",
            "other"
        ]
    );

    // An unknown ticket is a 404.
    assert_eq!(app.client.get("/tickets/999999").dispatch().await.status(), Status::NotFound);
}

async fn every_action_works_through_its_form_from_take_to_unlock(backend: Backend) {
    let app = desk(backend, |f| f).await;
    lock(&app, "jane@acme.test").await;
    let number =
        arrives(&app, &request("Jane Doe", "jane@acme.test", "j@acme.test", false), Duration::from_secs(60)).await;

    let (kind, message) = act(&app, number, "take", &[]).await;
    assert_eq!(
        (kind.as_str(), message.as_str()),
        ("success", format!("Done: Ticket #{number} is assigned to you.").as_str())
    );
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert_eq!(text(&page, "#ticket-assignee"), "Assigned to you");
    assert_eq!(text(&page, "#ticket-status"), "Open");
    assert_eq!(count(&page, "#take"), 0, "nothing to take any more");

    let (kind, _) = act(&app, number, "note", &[("text", "Called her office: she is on leave until Monday.")]).await;
    assert_eq!(kind, "success");
    let page = get(&app, &format!("/tickets/{number}")).await;
    let note = text(&page, "ol.history li.internal");
    assert!(
        note.contains("Internal note")
            && note.contains("Internal, not sent")
            && note.contains("she is on leave until Monday"),
        "{note}"
    );
    assert!(note.contains("agent@support.test"), "{note}");

    let (kind, message) = act(&app, number, "reply", &[("text", "Hello Jane,\nWe are looking into it.")]).await;
    assert_eq!((kind.as_str(), message.as_str()), ("success", "Done: Reply sent to jane@acme.test."));
    let reply = app
        .mail_to("jane@acme.test")
        .await
        .into_iter()
        .find(|m| m.text.contains("We are looking into it."))
        .expect("the reply was emailed");
    assert!(reply.raw.contains("In-Reply-To: <j@acme.test>"), "threaded to Jane's message:\n{}", reply.raw);
    assert!(reply.subject.contains(&format!("[#{number}]")), "{}", reply.subject);
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert_eq!(count(&page, "article.message.out"), 2, "acknowledgement and reply");
    assert!(texts(&page, "ol.history li").iter().any(|h| h.contains("Replied to the user")));

    let (kind, message) = act(&app, number, "waiting", &[]).await;
    assert_eq!((kind.as_str(), message.as_str()), ("success", "Done: Marked as waiting on the user."));
    assert_eq!(text(&get(&app, &format!("/tickets/{number}")).await, "#ticket-status"), "Waiting on user");

    let (kind, message) = act(&app, number, "challenge", &[]).await;
    assert_eq!(kind, "success");
    assert!(message.contains("jane@acme.test"), "{message}");
    let challenge = app
        .mail_to("jane@acme.test")
        .await
        .into_iter()
        .find(|m| m.subject.contains("Please confirm it is you"))
        .expect("challenge sent to the registered address");
    let link = challenge
        .text
        .split_whitespace()
        .find(|w| w.starts_with("http://keydesk.test/confirm/"))
        .unwrap()
        .trim_start_matches("http://keydesk.test")
        .to_owned();
    // Jane, in her own browser, presses the button.
    let jane = TestClient::new(&app).await;
    assert!(jane.post_form(&link, &[]).await.into_string().await.unwrap().contains("your mailbox is confirmed"));
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert_eq!(text(&page, "#ticket-verification"), "Mailbox confirmed");
    assert!(text(&page, "#unlock-blocked").contains("not verified"));

    let (kind, message) =
        act(&app, number, "verify", &[("method", "mailbox_confirmed"), ("note", "followed the link")]).await;
    assert_eq!((kind.as_str(), message.as_str()), ("success", "Done: Verified (mailbox confirmed)."));
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert_eq!(text(&page, "#ticket-verification"), "Verified (mailbox confirmed)");
    assert!(text(&page, "#verified-by").contains("Agnes Agent"));
    assert_eq!(count(&page, "#unlock:not([disabled])"), 1, "Unlock can be pressed now");
    assert_eq!(count(&page, "#unlock-blocked"), 0);

    let (kind, message) = act(&app, number, "unlock", &[]).await;
    assert_eq!(kind, "success", "{message}");
    assert!(message.starts_with("Done: Account unlocked and ticket resolved."), "{message}");
    assert!(!is_locked(&app, "jane@acme.test").await);
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert_eq!(text(&page, "#ticket-status"), "Resolved");
    assert_eq!(text(&page, ".account-line .status-active"), "Active");
    assert_eq!(text(&page, "#unlock-blocked"), "The account is already unlocked — resolve without unlocking.");
    let history = texts(&page, "ol.history li");
    assert!(history.iter().any(|h| h.contains("Account unlocked")), "{history:?}");
    let notices: Vec<_> = app
        .mail_to("jane@acme.test")
        .await
        .into_iter()
        .filter(|m| m.subject == "Your account has been unlocked")
        .collect();
    assert_eq!(notices.len(), 1);
    // Resolved: it has left the default queue.
    assert_eq!(queue(&app, "").await, Vec::<i64>::new());
}

async fn refusals_come_back_as_error_flashes_with_the_reason(backend: Backend) {
    let app = desk(backend, |f| f).await;
    lock(&app, "jane@acme.test").await;
    let number =
        arrives(&app, &request("Jane Doe", "jane@acme.test", "j@acme.test", false), Duration::from_secs(60)).await;
    let stranger = arrives(&app, "From: sam@elsewhere.test\nTo: support@keydesk.test\nSubject: help\nMessage-ID: <s@elsewhere.test>\n\nI cannot log in.\n", Duration::from_secs(30)).await;

    let (kind, message) = act(&app, number, "verify", &[("method", "call_back"), ("note", "sounds right")]).await;
    assert_eq!(kind, "error");
    assert_eq!(message, "Error: Not verified. The sender is not authenticated: the mailbox challenge must be answered, or a manager must verify.");
    let (kind, message) = act(&app, number, "verify", &[("method", "mailbox_confirmed"), ("note", "")]).await;
    assert_eq!(kind, "error");
    assert!(message.contains("mailbox challenge has not been answered"), "{message}");
    let (kind, message) = act(&app, number, "note", &[("text", "   ")]).await;
    assert_eq!((kind.as_str(), message.as_str()), ("error", "Error: Write the note first."));
    let (kind, message) = act(&app, number, "reply", &[("text", "")]).await;
    assert_eq!((kind.as_str(), message.as_str()), ("error", "Error: Write the reply first."));
    let (kind, message) = act(&app, number, "unlock", &[]).await;
    assert_eq!(
        (kind.as_str(), message.as_str()),
        ("error", "Error: Not unlocked. The ticket is not verified: verify the sender first.")
    );
    assert!(is_locked(&app, "jane@acme.test").await);
    let (kind, message) = act(&app, stranger, "challenge", &[]).await;
    assert_eq!(kind, "error");
    assert!(message.contains("not linked to an account"), "{message}");
    assert_eq!(
        count(&get(&app, &format!("/tickets/{stranger}")).await, "#send-challenge"),
        0,
        "no challenge button without an account"
    );

    // A manager may verify an unauthenticated sender.
    app.logged_in_as("manager@support.test").await;
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert!(text(&page, "#verification-rule").contains("As a manager, you may verify"));
    let (kind, message) = act(&app, number, "verify", &[("method", "call_back"), ("note", "known to me")]).await;
    assert_eq!((kind.as_str(), message.as_str()), ("success", "Done: Verified (call back)."));
    let (kind, _) = act(&app, number, "verify", &[("method", "call_back"), ("note", "again")]).await;
    assert_eq!(kind, "info", "verified already: a note, not an error");

    act(&app, number, "resolve", &[]).await;
    let (kind, message) = act(&app, number, "waiting", &[]).await;
    assert_eq!(kind, "error");
    assert!(message.contains("is resolved"), "{message}");
    let (kind, _) = act(&app, number, "resolve", &[]).await;
    assert_eq!(kind, "info", "resolved already");
}

async fn unlock_is_disabled_with_the_reason_when_unverified_or_already_unlocked(backend: Backend) {
    let app = desk(backend, |f| f).await;
    lock(&app, "jane@acme.test").await;
    let number =
        arrives(&app, &request("Jane Doe", "jane@acme.test", "j@acme.test", true), Duration::from_secs(60)).await;

    let page = get(&app, &format!("/tickets/{number}")).await;
    assert_eq!(count(&page, "button#unlock[disabled]"), 1);
    assert_eq!(text(&page, "#unlock-blocked"), "The ticket is not verified: verify the sender first.");
    assert_eq!(count(&page, "#verification-rule"), 0, "an authenticated sender needs no challenge");

    act(&app, number, "verify", &[("method", "call_back"), ("note", "called the number on file")]).await;
    assert_eq!(count(&get(&app, &format!("/tickets/{number}")).await, "button#unlock:not([disabled])"), 1);

    // Her admin unlocked her meanwhile.
    let jane = app.tickets().await[0].account_user_id.unwrap();
    app.services().run(move |conn, _| Ok(keydesk::store::users::unlock(conn, jane)?)).await.unwrap();
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert_eq!(count(&page, "button#unlock[disabled]"), 1);
    assert_eq!(text(&page, "#unlock-blocked"), "The account is already unlocked — resolve without unlocking.");
    let (kind, message) = act(&app, number, "unlock", &[]).await;
    assert_eq!(
        (kind.as_str(), message.as_str()),
        ("error", "Error: Not unlocked. The account is already unlocked — resolve without unlocking.")
    );
    let (kind, message) = act(&app, number, "resolve", &[("note", "unlocked by her admin")]).await;
    assert_eq!((kind.as_str(), message.as_str()), ("success", format!("Done: Ticket #{number} resolved.").as_str()));
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert!(texts(&page, "ol.history li")
        .iter()
        .any(|h| h.contains("Resolved") && h.contains("unlocked by her admin")));
}

async fn unlock_is_disabled_while_support_is_closed_and_says_when_it_opens(backend: Backend) {
    let today = common::test_start().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let reopening = tomorrow.succ_opt().unwrap();
    let app =
        desk(backend, move |f| f.merge(("working_hours.holidays", [today.to_string(), tomorrow.to_string()]))).await;
    lock(&app, "jane@acme.test").await;
    let number =
        arrives(&app, &request("Jane Doe", "jane@acme.test", "j@acme.test", true), Duration::from_secs(60)).await;
    act(&app, number, "verify", &[("method", "call_back"), ("note", "called the number on file")]).await;

    let expected = format!("Support is closed; opens {} 00:00 UTC.", reopening.format("%a %-d %b"));
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert_eq!(count(&page, "button#unlock[disabled]"), 1);
    assert_eq!(text(&page, "#unlock-blocked"), expected);
    let (kind, message) = act(&app, number, "unlock", &[]).await;
    assert_eq!((kind.as_str(), message.as_str()), ("error", format!("Error: Not unlocked. {expected}").as_str()));
    assert!(is_locked(&app, "jane@acme.test").await);

    // It arrived on a holiday: out of hours, and no business time has passed.
    assert_eq!(queue(&app, "?hours=out").await, vec![number]);
    assert_eq!(queue(&app, "?hours=in").await, Vec::<i64>::new());
    let page = get(&app, "/queue").await;
    assert_eq!(text(&page, &format!("tr#ticket-{number} td.arrived")), "Out of hours");
    assert_eq!(text(&page, &format!("tr#ticket-{number} td.age")), "under 1 business hour");
}

async fn html_from_an_email_never_reaches_the_page(backend: Backend) {
    let app = desk(backend, |f| f).await;
    let html = "From: Jane Doe <jane@acme.test>\nTo: support@keydesk.test\nSubject: <b>Locked</b> <script>alert(0)</script>\nMessage-ID: <h@acme.test>\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<html><body><p>Full name: Jane Doe</p><p>Registered email: jane@acme.test</p><p>Issue: locked out <script>alert(1)</script></p><img src=x onerror=\"alert(2)\"><p>&lt;script&gt;alert(3)&lt;/script&gt; <a href=\"javascript:alert(4)\" onclick=\"alert(5)\">link</a></p></body></html>\n";
    let number = arrives(&app, html, Duration::from_secs(60)).await;
    for path in [format!("/tickets/{number}"), "/queue".to_owned()] {
        let page = get(&app, &path).await;
        assert!(!page.contains("<script>alert"), "{path}:\n{page}");
        assert!(!page.contains("onerror="), "{path}:\n{page}");
        assert!(!page.contains("onclick="), "{path}:\n{page}");
        assert!(!page.contains("<img"), "{path}:\n{page}");
        assert!(!page.contains("<b>Locked"), "{path}:\n{page}");
    }
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert!(text(&page, "article.message.in .message-body").contains("Full name: Jane Doe"), "the text is kept");
}

async fn agents_and_managers_find_the_queue_from_the_navigation_and_the_start_page(backend: Backend) {
    let app = desk(backend, |f| f).await;
    for (email, sees_queue) in [("agent@support.test", true), ("manager@support.test", true), ("jane@acme.test", false)]
    {
        app.logged_in_as(email).await;
        let home = get(&app, "/").await;
        assert_eq!(count(&home, "nav a[href='/queue']"), usize::from(sees_queue), "{email}: Queue in the nav");
        assert_eq!(count(&home, "main a[href='/queue']"), usize::from(sees_queue), "{email}: Queue on the start page");
    }
}

async fn a_resolved_tickets_age_stops_when_it_was_resolved(backend: Backend) {
    let app = desk(backend, |f| f).await;
    let bob = arrives(
        &app,
        &request("Bob Baker", "bob@beta.test", "b@beta.test", false),
        Duration::from_secs(3 * 60 * 60 + 60),
    )
    .await;
    act(&app, bob, "resolve", &[("note", "sorted by phone")]).await;
    // As if it had been resolved an hour after it arrived.
    app.services()
        .run(move |conn, _| {
            use diesel::prelude::*;
            use keydesk::db::schema::tickets;
            let arrived = tickets::table.find(bob).select(tickets::received_at).first::<chrono::NaiveDateTime>(conn)?;
            diesel::update(tickets::table.find(bob))
                .set(tickets::updated_at.eq(arrived + chrono::Duration::minutes(61)))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let page = get(&app, "/queue?status=resolved").await;
    assert_eq!(text(&page, &format!("tr#ticket-{bob} td.age")), "1 business hour", "not the 3 hours since it arrived");
}
