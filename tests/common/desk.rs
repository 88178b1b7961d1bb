//! The agents' desk for page tests: two organisations, their people, agents and a manager,
//! requests as mail servers deliver them, and reading pages with CSS selectors.
#![allow(dead_code)]

use super::{Backend, TestApp};
use keydesk_core::UnlockPolicy;
use rocket::figment::Figment;
use rocket::http::Status;
use std::time::Duration;

/// Acme (Jane, Joe) and Beta Health (Bob), agents and a manager; signed in as Agnes.
pub async fn desk(backend: Backend, configure: impl FnOnce(Figment) -> Figment) -> TestApp {
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

pub async fn lock(app: &TestApp, email: &str) {
    for _ in 0..5 {
        assert_eq!(app.log_in(email, "wrong password").await.status(), Status::Ok);
    }
}

/// A locked user's request, as their mail server delivers it; `authenticated` adds our
/// receiving server's DMARC pass.
pub fn request(name: &str, email: &str, message_id: &str, authenticated: bool) -> String {
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
pub async fn arrives(app: &TestApp, raw: &str, ago: Duration) -> i64 {
    let path = app.drop_mail(raw);
    std::fs::File::options().write(true).open(&path).unwrap().set_modified((app.now() - ago).into()).unwrap();
    let summary = app.intake_once().await;
    assert_eq!(summary.new_tickets, 1, "{summary:?}");
    app.tickets().await.iter().map(|t| t.id.0).max().unwrap()
}

pub async fn get(app: &TestApp, path: &str) -> String {
    let response = app.client.get(path.to_owned()).dispatch().await;
    assert_eq!(response.status(), Status::Ok, "GET {path}");
    response.into_string().await.unwrap()
}

pub fn texts(html: &str, selector: &str) -> Vec<String> {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(selector).unwrap();
    document
        .select(&selector)
        .map(|e| e.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

pub fn text(html: &str, selector: &str) -> String {
    texts(html, selector).into_iter().next().unwrap_or_else(|| panic!("nothing matches {selector}"))
}

pub fn count(html: &str, selector: &str) -> usize {
    texts(html, selector).len()
}

/// The ticket numbers on a queue page, top to bottom.
pub async fn queue(app: &TestApp, query: &str) -> Vec<i64> {
    let page = get(app, &format!("/queue{query}")).await;
    let document = scraper::Html::parse_document(&page);
    let rows = scraper::Selector::parse("table.queue tbody tr[id]").unwrap();
    document
        .select(&rows)
        .map(|row| row.value().attr("id").unwrap().trim_start_matches("ticket-").parse().unwrap())
        .collect()
}

/// Posts a ticket's form and follows the redirect back; returns the flash (kind, text).
pub async fn act(app: &TestApp, number: i64, action: &str, fields: &[(&str, &str)]) -> (String, String) {
    let response = app.post_form(&format!("/tickets/{number}/{action}"), fields).await;
    assert_eq!(response.status(), Status::SeeOther, "POST /tickets/{number}/{action}");
    assert_eq!(response.headers().get_one("Location"), Some(format!("/tickets/{number}").as_str()));
    let page = get(app, &format!("/tickets/{number}")).await;
    let document = scraper::Html::parse_document(&page);
    let flash = document.select(&scraper::Selector::parse(".flash").unwrap()).next().expect("a flash message");
    let kind = flash.value().classes().find(|c| *c != "flash").unwrap_or_default().to_owned();
    (kind, flash.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" "))
}

pub async fn is_locked(app: &TestApp, email: &str) -> bool {
    let email = keydesk_core::EmailAddress::parse(email).unwrap();
    app.services()
        .run(move |conn, _| Ok(keydesk::store::users::find_by_email(conn, &email)?.unwrap().locked_at.is_some()))
        .await
        .unwrap()
}
