//! The agents' pages: the queue lists what still needs someone, oldest first, with filters;
//! a ticket's page shows the request, the thread, the checks and the history. (The actions
//! on a ticket are in `ticket_actions.rs`.)

mod common;

use common::desk::*;
use common::Backend;
use rocket::http::Status;
use std::time::Duration;

on_both_backends!(
    the_queue_lists_open_tickets_oldest_first_with_their_facts,
    the_queue_filters_by_status_verification_assignee_organisation_and_arrival,
    the_ticket_page_shows_the_request_thread_checks_and_history,
    agents_and_managers_find_the_queue_from_the_navigation_and_the_start_page,
    a_resolved_tickets_age_stops_when_it_was_resolved,
);

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

    assert_eq!(queue(&app, "?sort=oldest").await, vec![bob, stranger, jane], "oldest first");
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
    assert_eq!(row(bob, "age span[title]"), "3 business hours");
    assert_eq!(row(stranger, "age span[title]"), "2 business hours");
    assert_eq!(row(jane, "age span[title]"), "1 business hour");
    assert_eq!(row(jane, "status .ticket-status"), "New");
    assert_eq!(count(&page, &format!("tr#ticket-{jane} .ticket-status.new")), 1, "status in colour too");
    assert_eq!(row(jane, "verification"), "Not verified");
    assert_eq!(row(jane, "status small.assignee"), "Unassigned");
    assert_eq!(row(jane, "age .arrived"), "In hours");
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

    assert_eq!(queue(&app, "?sort=oldest").await, vec![jane, joe], "resolved tickets are left out by default");
    assert_eq!(queue(&app, "?sort=oldest&status=all").await, vec![jane, joe, bob]);
    assert_eq!(queue(&app, "?sort=oldest&status=resolved").await, vec![bob]);
    assert_eq!(queue(&app, "?sort=oldest&status=open").await, vec![joe], "taking a new ticket opens it");
    assert_eq!(queue(&app, "?sort=oldest&status=new").await, vec![jane]);
    assert_eq!(queue(&app, "?sort=oldest&verified=yes").await, vec![jane]);
    assert_eq!(queue(&app, "?sort=oldest&verified=no").await, vec![joe]);
    assert_eq!(queue(&app, "?sort=oldest&mine=yes").await, vec![joe]);
    assert_eq!(queue(&app, "?sort=oldest&org=acme").await, vec![jane, joe]);
    assert_eq!(queue(&app, "?sort=oldest&org=beta&status=all").await, vec![bob]);
    assert_eq!(queue(&app, "?sort=oldest&org=nobody").await, Vec::<i64>::new());
    assert_eq!(queue(&app, "?sort=oldest&hours=in").await, vec![jane, joe]);
    assert_eq!(queue(&app, "?sort=oldest&hours=out").await, Vec::<i64>::new());
    assert_eq!(
        queue(&app, "?sort=oldest&status=all&org=acme&verified=no&mine=yes").await,
        vec![joe],
        "filters combine"
    );

    let page = get(&app, "/queue?status=all").await;
    assert_eq!(text(&page, &format!("tr#ticket-{jane} td.verification")), "Verified (call back)");
    assert_eq!(text(&page, &format!("tr#ticket-{joe} td.status small.assignee")), "You");
    assert_eq!(text(&page, &format!("tr#ticket-{joe} td.status .ticket-status")), "Open");
    assert_eq!(text(&page, &format!("tr#ticket-{bob} td.status .ticket-status")), "Resolved");
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
    assert_eq!(queue(&app, "?sort=oldest&mine=yes").await, Vec::<i64>::new());
    assert_eq!(text(&get(&app, "/queue").await, &format!("tr#ticket-{joe} td.status small.assignee")), "Agnes Agent");
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
    assert_eq!(
        text(&page, &format!("tr#ticket-{bob} td.age span[title]")),
        "1 business hour",
        "not the 3 hours since it arrived"
    );
}
