//! The throttles hold: counted in the database in one statement with their check, so a burst
//! of concurrent requests — or two Keydesk processes — cannot slip past the limit; keyed by
//! the socket's address, so a client rotating `X-Real-IP` gains nothing unless the operator
//! says a trusted proxy sets it; and forgot-password sends an account at most its share of
//! links, answering the same page either way.

mod common;

use chrono::Duration;
use common::{server, Backend, TestApp, TestDatabase};
use keydesk_core::UnlockPolicy;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::LocalResponse;
use std::net::SocketAddr;

on_both_backends!(
    a_spoofed_x_real_ip_is_ignored_unless_a_proxy_is_trusted,
    a_hundred_concurrent_failures_from_one_address_get_at_most_the_limit_through,
    an_account_gets_at_most_its_share_of_reset_emails_and_the_same_page_either_way,
    one_address_cannot_flood_forgot_password,
    a_throttled_address_costs_no_more_password_verifications,
);

const FROM: &str = "198.51.100.20:50000";

async fn log_in_from<'c>(app: &'c TestApp, from: &str, headers: &[(&str, &str)], email: &str) -> LocalResponse<'c> {
    let token = app.csrf_token().await;
    let body = common::form_urlencoded(&[("csrf_token", &token), ("email", email), ("password", "wrong password")]);
    let mut request =
        app.client.post("/login").header(ContentType::Form).remote(from.parse::<SocketAddr>().unwrap()).body(body);
    for (name, value) in headers {
        request = request.header(Header::new(name.to_string(), value.to_string()));
    }
    request.dispatch().await
}

fn throttled(limit: u32) -> impl FnOnce(rocket::figment::Figment) -> rocket::figment::Figment {
    move |f| f.merge(("throttle.max_failures_per_ip", limit)).merge(("throttle.window", "15m"))
}

async fn a_spoofed_x_real_ip_is_ignored_unless_a_proxy_is_trusted(backend: Backend) {
    let app = TestApp::with(backend, throttled(3)).await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    for n in 0..3 {
        let spoofed = format!("10.0.0.{n}");
        let response = log_in_from(&app, FROM, &[("X-Real-IP", &spoofed)], "jane@acme.test").await;
        assert_eq!(response.status(), Status::Ok, "attempt {n}");
    }
    let fourth = log_in_from(&app, FROM, &[("X-Real-IP", "10.0.0.99")], "nobody@acme.test").await;
    assert_eq!(fourth.status(), Status::TooManyRequests, "a new X-Real-IP is not a new client");
    let failures = app.events_of(&jane).await.into_iter().filter(|e| e.action.label() == "Login failed");
    let ips: Vec<Option<String>> = failures.map(|e| e.ip).collect();
    assert_eq!(ips.len(), 3);
    assert!(
        ips.iter().all(|ip| ip.as_deref() == Some("198.51.100.20")),
        "the log records the socket's address: {ips:?}"
    );

    // Behind a proxy the operator trusts, its header is the client's address.
    let proxied = TestApp::with(backend, |f| throttled(3)(f).merge(("ip_header", "X-Real-IP"))).await;
    for n in 0..5 {
        let client = format!("10.0.0.{n}");
        let response = log_in_from(&proxied, "127.0.0.1:40000", &[("X-Real-IP", &client)], "nobody@acme.test").await;
        assert_eq!(response.status(), Status::Ok, "client {client} behind the proxy");
    }
}

/// On PostgreSQL a login verifies the password beside its count (`accounts::verification`);
/// once this process has refused an address as throttled, that address's attempts are
/// counted first again and refused without a verification, so a throttled client cannot keep
/// a core busy. (SQLite always counts first: the same answers.)
async fn a_throttled_address_costs_no_more_password_verifications(backend: Backend) {
    let app = TestApp::with(backend, throttled(3)).await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    let passwords = app.services().passwords.clone();
    for (n, email) in ["jane@acme.test", "nobody@acme.test", "jane@acme.test"].into_iter().enumerate() {
        let before = passwords.verifications();
        assert_eq!(log_in_from(&app, FROM, &[], email).await.status(), Status::Ok, "attempt {n}");
        assert_eq!(passwords.verifications(), before + 1, "attempt {n} costs one verification, account or not");
    }
    // The first refusal comes from the count (on PostgreSQL its verification began beside it).
    assert_eq!(log_in_from(&app, FROM, &[], "jane@acme.test").await.status(), Status::TooManyRequests);
    let known = passwords.verifications();
    for email in ["jane@acme.test", "nobody@acme.test"] {
        assert_eq!(log_in_from(&app, FROM, &[], email).await.status(), Status::TooManyRequests);
    }
    assert_eq!(passwords.verifications(), known, "throttled attempts run no verification");
    // Another address is not held back by this one's refusals.
    assert_eq!(log_in_from(&app, "198.51.100.21:50000", &[], "jane@acme.test").await.status(), Status::Ok);
    assert_eq!(passwords.verifications(), known + 1);
}

async fn a_hundred_concurrent_failures_from_one_address_get_at_most_the_limit_through(backend: Backend) {
    let app = TestApp::with(backend, throttled(30)).await;
    let token = app.csrf_token().await;
    let requests = (0..100).map(|n| {
        let email = format!("nobody{n}@acme.test");
        let body = common::form_urlencoded(&[("csrf_token", &token), ("email", &email), ("password", "guess")]);
        app.client.post("/login").header(ContentType::Form).remote(FROM.parse().unwrap()).body(body).dispatch()
    });
    let statuses: Vec<Status> = futures_join_all(requests).await;
    let through = statuses.iter().filter(|s| **s == Status::Ok).count();
    let stopped = statuses.iter().filter(|s| **s == Status::TooManyRequests).count();
    assert_eq!((through, stopped), (30, 70), "{statuses:?}");
}

async fn futures_join_all<'c>(
    requests: impl Iterator<Item = impl std::future::Future<Output = LocalResponse<'c>>>,
) -> Vec<Status> {
    let handles: Vec<_> = requests.collect();
    let mut statuses = Vec::new();
    // Polled together, so they run concurrently on the test's runtime.
    let responses = rocket::futures::future::join_all(handles).await;
    for response in responses {
        statuses.push(response.status());
    }
    statuses
}

async fn an_account_gets_at_most_its_share_of_reset_emails_and_the_same_page_either_way(backend: Backend) {
    let app = TestApp::new(backend).await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    let mut pages = Vec::new();
    for _ in 0..5 {
        let response = app.post_form("/forgot-password", &[("email", "jane@acme.test")]).await;
        assert_eq!(response.status(), Status::Ok);
        pages.push(common::without_csrf_token(&response.into_string().await.unwrap()));
    }
    let unknown = app.post_form("/forgot-password", &[("email", "nobody@acme.test")]).await;
    pages.push(common::without_csrf_token(&unknown.into_string().await.unwrap()));
    assert!(pages.windows(2).all(|w| w[0] == w[1]), "one page for every request");
    let links = |mail: Vec<common::Mail>| mail.into_iter().filter(|m| m.subject == "Reset your password").count();
    assert_eq!(links(app.mail_to("jane@acme.test").await), 3, "three links an hour");
    let refusals =
        app.events_of(&jane).await.into_iter().filter(|e| e.detail.starts_with("refused: enough reset emails")).count();
    assert_eq!(refusals, 2, "each refusal is in Jane's activity");

    app.clock.advance(Duration::minutes(61));
    app.post_form("/forgot-password", &[("email", "jane@acme.test")]).await;
    assert_eq!(links(app.mail_to("jane@acme.test").await), 4, "an hour later, one more");
}

async fn one_address_cannot_flood_forgot_password(backend: Backend) {
    let app = TestApp::with(backend, |f| f.merge(("throttle.max_reset_requests_per_ip", 4))).await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    for n in 0..6 {
        app.user(&format!("user{n}@acme.test"), &format!("User Number{n}"), "member", Some(&org)).await;
    }
    for n in 0..6 {
        let token = app.csrf_token().await;
        let email = format!("user{n}@acme.test");
        let body = common::form_urlencoded(&[("csrf_token", &token), ("email", &email)]);
        let response = app
            .client
            .post("/forgot-password")
            .header(ContentType::Form)
            .remote(FROM.parse::<SocketAddr>().unwrap())
            .body(body)
            .dispatch()
            .await;
        assert_eq!(response.status(), Status::Ok, "the same answer for request {n}");
    }
    let sent = app.mail().await.into_iter().filter(|m| m.subject == "Reset your password").count();
    assert_eq!(sent, 4, "four requests an address in the window");
}

/// Two Keydesk processes on one PostgreSQL share one allowance per address.
#[test]
fn two_processes_share_one_allowance_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(Backend::Postgres, dir.path());
    let env = [("ROCKET_THROTTLE", "{max_failures_per_ip=30,window=\"15m\"}"), ("ROCKET_MFA", "{required_for=[]}")];
    let servers = [server::start(&database.url, dir.path(), &env), server::start(&database.url, dir.path(), &env)];
    let visitors: Vec<_> = (0..100).map(|n| (n, servers[n % 2].visitor(), servers[n % 2].base.clone())).collect();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(visitors.len()));
    let threads: Vec<_> = visitors
        .into_iter()
        .map(|(n, (agent, token), base)| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let email = format!("nobody{n}@acme.test");
                let form = [("csrf_token", token.as_str()), ("email", email.as_str()), ("password", "guess")];
                match agent.post(&format!("{base}/login")).send_form(&form) {
                    Ok(response) => response.status(),
                    Err(ureq::Error::Status(code, _)) => code,
                    Err(error) => panic!("{error}"),
                }
            })
        })
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let through = statuses.iter().filter(|s| **s == 200).count();
    let stopped = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((through, stopped), (30, 70), "{statuses:?}");
}
