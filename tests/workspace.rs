//! The agent's workspace: search, the next step, the service-level watch and its alerts,
//! canned replies, the stale-reply check, sign-in that returns where it was going, and the
//! locked user's way to support.

mod common;

use common::desk::*;
use common::{Backend, TestClient};
use keydesk::queue::sla_watch::{check_once, WatchReport};
use rocket::http::Status;
use std::time::Duration;

on_both_backends!(
    search_finds_tickets_by_email_number_and_words_across_statuses,
    a_request_with_a_description_of_megabytes_is_a_ticket_and_found_by_its_first_words,
    the_queue_says_what_each_ticket_needs_next_and_puts_what_can_be_finished_first,
    an_sla_alert_goes_out_once_at_80_percent_and_a_breach_once_to_the_managers,
    two_processes_checking_at_once_send_each_alert_once,
    the_daily_digest_goes_to_each_manager_once_a_day_after_its_time,
    a_reply_crossed_by_another_is_not_sent_and_keeps_its_text,
    canned_replies_fill_the_reply_box_and_managers_keep_them,
    sign_in_returns_to_the_page_it_was_going_to_or_the_roles_start_page,
    the_locked_user_always_has_a_ready_made_way_to_support,
);

async fn search_finds_tickets_by_email_number_and_words_across_statuses(backend: Backend) {
    let app = desk(backend, |f| f).await;
    lock(&app, "jane@acme.test").await;
    let jane =
        arrives(&app, &request("Jane Doe", "jane@acme.test", "j1@acme.test", false), Duration::from_secs(60)).await;
    let bob =
        arrives(&app, &request("Bob Baker", "bob@beta.test", "b1@beta.test", false), Duration::from_secs(30)).await;
    // Jane's ticket is resolved: a search still finds it.
    act(&app, jane, "resolve", &[("note", "sorted by phone")]).await;

    assert_eq!(queue(&app, "?q=jane%40acme.test").await, vec![jane]);
    assert_eq!(queue(&app, "?q=Jane.Doe").await, vec![jane], "the name's words, in any case");
    assert_eq!(queue(&app, &format!("?q=%23{bob}")).await, vec![bob]);
    assert_eq!(queue(&app, &format!("?q={bob}")).await, vec![bob]);
    assert_eq!(queue(&app, "?q=beta").await, vec![bob], "a word of the address");
    assert_eq!(
        queue(&app, "?q=typed+passw").await,
        vec![bob, jane],
        "words of the description, as prefixes, newest first"
    );
    assert_eq!(queue(&app, "?q=bob&status=resolved").await, Vec::<i64>::new(), "a chosen status still holds");
    // Nothing matches: the empty state offers to clear the filters; FTS syntax is just words.
    let page = get(&app, "/queue?q=%22nobody%22+OR+NEAR%28").await;
    assert_eq!(text(&page, "td.empty"), "No tickets match. Clear filters");
    assert_eq!(texts(&page, "td.empty a")[0], "Clear filters");
}

async fn a_request_with_a_description_of_megabytes_is_a_ticket_and_found_by_its_first_words(backend: Backend) {
    let app = desk(backend, |f| f).await;
    // 2.4 MB of distinct words under "Issue:": more than a PostgreSQL tsvector may hold (1 MB).
    let words: String = (0..200_000).map(|n| format!("w{n} ")).collect();
    let raw = format!(
        "From: Jane Doe <jane@acme.test>\nTo: support@keydesk.test\nSubject: Locked\nMessage-ID: <big@acme.test>\n\nFull name: Jane Doe\nRegistered email: jane@acme.test\nIssue: zebracorn {words}\n"
    );
    let number = arrives(&app, &raw, Duration::from_secs(60)).await;
    assert_eq!(queue(&app, "?q=zebracorn").await, vec![number]);
    assert_eq!(queue(&app, "?q=jane%40acme.test").await, vec![number], "the addresses are indexed whatever the length");
}

async fn the_queue_says_what_each_ticket_needs_next_and_puts_what_can_be_finished_first(backend: Backend) {
    let app = desk(backend, |f| f).await;
    lock(&app, "jane@acme.test").await;
    lock(&app, "joe@acme.test").await;
    // The locks came first: mail from before a lock shows nobody now.
    app.clock.advance(chrono::Duration::minutes(10));
    // Bob is not locked: his ticket only needs resolving.
    let bob =
        arrives(&app, &request("Bob Baker", "bob@beta.test", "b@beta.test", true), Duration::from_secs(300)).await;
    let jane =
        arrives(&app, &request("Jane Doe", "jane@acme.test", "j@acme.test", false), Duration::from_secs(200)).await;
    let joe =
        arrives(&app, &request("Joe Bloggs", "joe@acme.test", "o@acme.test", true), Duration::from_secs(100)).await;
    let stranger =
        arrives(&app, &request("Sam Stranger", "sam@nowhere.test", "s@nowhere.test", false), Duration::from_secs(50))
            .await;
    act(&app, joe, "verify", &[("method", "call_back"), ("note", "called back")]).await;
    act(&app, jane, "challenge", &[]).await;

    let page = get(&app, "/queue").await;
    let step = |number: i64| text(&page, &format!("tr#ticket-{number} span.next-step"));
    assert_eq!(step(joe), "Ready to unlock");
    assert_eq!(step(bob), "Already unlocked — resolve");
    assert_eq!(step(jane), "Awaiting mailbox confirmation");
    assert_eq!(step(stranger), "No account found — ask the user");
    assert_eq!(queue(&app, "").await, vec![joe, bob, stranger, jane], "what can be finished now first");
    assert_eq!(queue(&app, "?sort=oldest").await, vec![bob, jane, joe, stranger]);
    // Every open ticket shows its targets.
    assert!(text(&page, &format!("tr#ticket-{bob} .sla[data-target=first_response]")).starts_with("Reply due in"));

    // The ticket page leads with the step and its action: one click resolves Bob's.
    let ticket = get(&app, &format!("/tickets/{bob}")).await;
    assert_eq!(text(&ticket, "#next-step-label"), "Already unlocked — resolve");
    let (kind, _) = act(&app, bob, "resolve", &[("note", "The account was already unlocked.")]).await;
    assert_eq!(kind, "success");
    assert_eq!(text(&get(&app, &format!("/tickets/{bob}")).await, "#next-step-label"), "Done");
    // "Next ticket" goes to the most urgent other one.
    let next = app.client.get(format!("/queue/next?after={bob}")).dispatch().await;
    assert_eq!(next.headers().get_one("Location"), Some(format!("/tickets/{joe}").as_str()));
}

async fn an_sla_alert_goes_out_once_at_80_percent_and_a_breach_once_to_the_managers(backend: Backend) {
    let app = desk(backend, |f| f).await;
    app.set_time("2026-11-24T10:00:00Z");
    lock(&app, "jane@acme.test").await;
    let number = arrives(&app, &request("Jane Doe", "jane@acme.test", "j@acme.test", false), Duration::ZERO).await;
    // 47 of the first hour: nothing yet.
    assert_eq!(check(&app, "2026-11-24T10:47:00Z").await, WatchReport::default());
    // 48 minutes (80%): every agent, since nobody has the ticket; once, however often checked.
    assert_eq!(check(&app, "2026-11-24T10:48:00Z").await.due_soon_alerts, 1);
    assert_eq!(check(&app, "2026-11-24T10:48:30Z").await, WatchReport::default());
    app.deliver_mail().await;
    for agent in ["agent@support.test", "agent2@support.test"] {
        let alerts = app.mail_to(agent).await;
        assert_eq!(alerts.len(), 1, "{agent}");
        assert_eq!(alerts[0].subject, format!("[#{number}] First response due soon: Account locked"));
        assert!(alerts[0].text.contains("Reply due in 12 min"), "{}", alerts[0].text);
    }
    assert!(app.mail_to("manager@support.test").await.is_empty());
    // Past the hour: the managers hear of the breach, once.
    assert_eq!(check(&app, "2026-11-24T11:01:00Z").await.breach_alerts, 1);
    assert_eq!(check(&app, "2026-11-24T11:02:00Z").await, WatchReport::default());
    app.deliver_mail().await;
    let breaches = app.mail_to("manager@support.test").await;
    assert_eq!(breaches.len(), 1);
    assert_eq!(breaches[0].subject, format!("[#{number}] First response target breached: Account locked"));
}

async fn two_processes_checking_at_once_send_each_alert_once(backend: Backend) {
    let app = desk(backend, |f| f).await;
    app.set_time("2026-11-24T10:00:00Z");
    lock(&app, "jane@acme.test").await;
    arrives(&app, &request("Jane Doe", "jane@acme.test", "j@acme.test", false), Duration::ZERO).await;
    app.set_time("2026-11-24T10:50:00Z");
    // A second Keydesk on the same database and clock, checking at the same instant.
    let config = (*app.services().config).clone();
    let second = keydesk::open_services_with_clock(config, app.services().clock.clone()).unwrap();
    let now = app.now();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let checks: Vec<_> = [app.services().clone(), second]
        .into_iter()
        .map(|services| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let conn = &mut *services.db.pool().get().unwrap();
                barrier.wait();
                check_once(conn, &services, now).unwrap()
            })
        })
        .collect();
    let reports: Vec<WatchReport> = checks.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(reports.iter().map(|r| r.due_soon_alerts).sum::<usize>(), 1, "{reports:?}");
    app.deliver_mail().await;
    assert_eq!(app.mail_to("agent@support.test").await.len(), 1, "one alert, not one per process");
}

async fn the_daily_digest_goes_to_each_manager_once_a_day_after_its_time(backend: Backend) {
    let app = desk(backend, |f| f.merge(("sla.daily_digest", true)).merge(("sla.digest_time", "08:30"))).await;
    app.set_time("2026-11-23T10:00:00Z");
    lock(&app, "jane@acme.test").await;
    arrives(&app, &request("Jane Doe", "jane@acme.test", "j@acme.test", false), Duration::ZERO).await;
    assert_eq!(check(&app, "2026-11-24T08:29:00Z").await.digests, 0, "not before its time");
    assert_eq!(check(&app, "2026-11-24T08:30:00Z").await.digests, 1, "one manager");
    assert_eq!(check(&app, "2026-11-24T08:31:00Z").await.digests, 0, "once a day");
    app.deliver_mail().await;
    // (The manager also hears of the breaches themselves, as alerts.)
    let digests: Vec<_> = app
        .mail_to("manager@support.test")
        .await
        .into_iter()
        .filter(|m| m.subject.starts_with("Support digest"))
        .collect();
    assert_eq!(digests.len(), 1);
    assert_eq!(digests[0].subject, "Support digest for Monday 23 November 2026: 1 open breach");
    assert!(digests[0].text.contains("Requests received: 1 (0 out of hours)"), "{}", digests[0].text);
    assert!(digests[0].text.contains("Account locked: Reply overdue by"), "{}", digests[0].text);
    assert_eq!(check(&app, "2026-11-25T08:30:00Z").await.digests, 1, "and again the next day");
}

/// One look by the SLA watch at `at`.
async fn check(app: &common::TestApp, at: &str) -> WatchReport {
    app.set_time(at);
    let now = app.now();
    app.services().run(move |conn, services| check_once(conn, services, now)).await.unwrap()
}

async fn a_reply_crossed_by_another_is_not_sent_and_keeps_its_text(backend: Backend) {
    let app = desk(backend, |f| f).await;
    lock(&app, "jane@acme.test").await;
    let number =
        arrives(&app, &request("Jane Doe", "jane@acme.test", "j@acme.test", false), Duration::from_secs(60)).await;
    let page = get(&app, &format!("/tickets/{number}")).await;
    let seen = scraper::Html::parse_document(&page)
        .select(&scraper::Selector::parse("#seen-last").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("value")
        .unwrap()
        .to_owned();
    // Artur, in his own browser, has the ticket open and replies first.
    let artur = TestClient::new(&app).await;
    artur.log_in("agent2@support.test", common::PASSWORD).await;
    assert_eq!(artur.client.get(format!("/tickets/{number}")).dispatch().await.status(), Status::Ok);
    let presence = app.client.get(format!("/tickets/{number}/presence")).dispatch().await.into_string().await.unwrap();
    assert!(presence.contains("Artur Agent"), "{presence}");
    let artur_page = artur.client.get(format!("/tickets/{number}")).dispatch().await.into_string().await.unwrap();
    let artur_seen =
        artur_page.split("id=\"seen-last\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let sent =
        artur.post_form(&format!("/tickets/{number}/reply"), &[("text", "On it."), ("seen_last", &artur_seen)]).await;
    assert_eq!(sent.status(), Status::SeeOther);

    let crossed =
        app.post_form(&format!("/tickets/{number}/reply"), &[("text", "My draft"), ("seen_last", &seen)]).await;
    assert_eq!(crossed.status(), Status::Conflict);
    let page = crossed.into_string().await.unwrap();
    assert!(text(&page, "#reply-warning").contains("agent2@support.test added to the thread"), "{page}");
    assert_eq!(text(&page, "#reply-text"), "My draft", "the draft is kept");
    app.deliver_mail().await;
    assert_eq!(app.mail_to("jane@acme.test").await.iter().filter(|m| m.text.contains("My draft")).count(), 0);
    // Sent again from the refreshed page, it goes.
    let fresh = page.split("id=\"seen-last\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let again =
        app.post_form(&format!("/tickets/{number}/reply"), &[("text", "My draft"), ("seen_last", &fresh)]).await;
    assert_eq!(again.status(), Status::SeeOther);
}

async fn canned_replies_fill_the_reply_box_and_managers_keep_them(backend: Backend) {
    let app = desk(backend, |f| f).await;
    lock(&app, "jane@acme.test").await;
    let number =
        arrives(&app, &request("Jane Doe", "jane@acme.test", "j@acme.test", false), Duration::from_secs(60)).await;
    let page = get(&app, &format!("/tickets/{number}")).await;
    let titles = texts(&page, "#canned-select option");
    assert_eq!(titles, ["Ask for missing details", "Could not verify you", "Unlocked — please reset your password"]);
    // Without JavaScript: choosing one shows the page with the box filled for this ticket.
    let filled = get(&app, &format!("/tickets/{number}?canned=1")).await;
    let text_in_box = text(&filled, "#reply-text");
    assert!(text_in_box.starts_with("Hello Jane Doe,"), "{text_in_box}");
    assert!(text_in_box.contains(&format!("ticket #{number}")), "{text_in_box}");
    // Agents may not edit them; a manager may, and a placeholder typo is refused.
    assert_eq!(app.post_form("/canned-replies", &[("title", "x"), ("body", "y")]).await.status(), Status::Forbidden);
    app.logged_in_as("manager@support.test").await;
    let refused = app.post_form("/canned-replies", &[("title", "Typo"), ("body", "Dear {{ fullname }}")]).await;
    assert_eq!(refused.status(), Status::SeeOther);
    let page = get(&app, "/canned-replies").await;
    assert!(text(&page, ".flash").contains("Unknown placeholder {{ fullname }}"), "{}", text(&page, ".flash"));
    app.post_form("/canned-replies", &[("title", "On leave"), ("body", "Hi {{ full_name }}, {{ agent_name }} here.")])
        .await;
    app.logged_in_as("agent@support.test").await;
    let page = get(&app, &format!("/tickets/{number}")).await;
    assert!(texts(&page, "#canned-select option").contains(&"On leave".to_string()));
}

async fn sign_in_returns_to_the_page_it_was_going_to_or_the_roles_start_page(backend: Backend) {
    let app = desk(backend, |f| f).await;
    lock(&app, "jane@acme.test").await;
    let number =
        arrives(&app, &request("Jane Doe", "jane@acme.test", "j@acme.test", false), Duration::from_secs(60)).await;
    // A shared ticket link, opened signed out: log in, and back to the ticket.
    let browser = TestClient::new(&app).await;
    let first = browser.client.get(format!("/tickets/{number}")).dispatch().await;
    assert_eq!(first.headers().get_one("Location"), Some("/login"));
    let signed_in = browser.log_in("manager@support.test", common::PASSWORD).await;
    assert_eq!(signed_in.headers().get_one("Location"), Some("/start"));
    let start = browser.client.get("/start").dispatch().await;
    assert_eq!(start.headers().get_one("Location"), Some(format!("/tickets/{number}").as_str()));
    // Only once: the next sign-in goes to the role's own page.
    let again = browser.client.get("/start").dispatch().await;
    assert_eq!(again.headers().get_one("Location"), Some("/reports"));
    // Another site is never a destination.
    let other = TestClient::new(&app).await;
    other.client.get("/login?next=//evil.test/").dispatch().await;
    other.log_in("agent@support.test", common::PASSWORD).await;
    assert_eq!(other.client.get("/start").dispatch().await.headers().get_one("Location"), Some("/queue"));
}

async fn the_locked_user_always_has_a_ready_made_way_to_support(backend: Backend) {
    let app = desk(backend, |f| f).await;
    let browser = TestClient::new(&app).await;
    let mut page = String::new();
    for attempt in 1..=5 {
        let response = browser.log_in("jane@acme.test", "wrong").await;
        page = response.into_string().await.unwrap();
        assert_eq!(count(&page, "#may-be-locked"), usize::from(attempt == 5), "attempt {attempt}");
    }
    let link = scraper::Html::parse_document(&page)
        .select(&scraper::Selector::parse("#login-error a.support-link").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("href")
        .unwrap()
        .to_owned();
    assert!(link.starts_with("mailto:"), "{link}");
    assert!(link.contains("subject=My%20account%20is%20locked"), "{link}");
    assert!(
        link.contains("Full%20name%3A%20%0D%0ARegistered%20email%3A%20jane%40acme.test%0D%0ADescription"),
        "{link}"
    );
    // An unknown address gets the same page: the count is this browser's, not the account's.
    let stranger = TestClient::new(&app).await;
    let mut unknown = String::new();
    for _ in 1..=5 {
        unknown = stranger.log_in("nobody@acme.test", "wrong").await.into_string().await.unwrap();
    }
    assert_eq!(count(&unknown, "#may-be-locked"), 1);
    let forgot = browser.client.get("/forgot-password").dispatch().await.into_string().await.unwrap();
    assert!(text(&forgot, "#forgot-support").contains('@'));
}
