//! `GET /metrics`: what a scrape says after logins, a lock, an unlock and an intake pass (the
//! text parsed, not grepped), who may read it, and that it is off without a token.

mod common;

use common::{Backend, TestApp};
use keydesk::queue::sla_watch::check_once;
use keydesk_core::UnlockPolicy;
use rocket::http::{Header, Status};
use std::collections::BTreeMap;
use std::time::Duration;

on_both_backends!(
    a_scrape_counts_logins_a_lock_an_unlock_and_intake,
    an_expired_lock_counts_as_an_automatic_unlock,
    support_unlocks_count_by_where_they_came_from_and_breaches_by_target,
    metrics_need_the_configured_bearer_token,
    without_a_token_metrics_are_not_there
);

const TOKEN: &str = "scrape-token-0123456789";

async fn with_token(backend: Backend) -> TestApp {
    TestApp::with(backend, |figment| figment.merge(("metrics.token", TOKEN))).await
}

/// One sample: its name and labels.
type Series = (String, BTreeMap<String, String>);

/// Parses the Prometheus text format (0.0.4): comments skipped, one `name{labels} value` per line.
fn parse(text: &str) -> BTreeMap<Series, f64> {
    let mut samples = BTreeMap::new();
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value in {line:?}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number in {line:?}"));
        let (name, labels) = match series.split_once('{') {
            None => (series.to_owned(), BTreeMap::new()),
            Some((name, rest)) => (name.to_owned(), parse_labels(rest.strip_suffix('}').expect("labels end with }"))),
        };
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'), "metric name {name:?}");
        assert!(samples.insert((name, labels), value).is_none(), "a series twice: {line:?}");
    }
    samples
}

/// `a="x",b="y\"z"` (the format's escapes: \\, \", \n).
fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "label {key:?} is quoted");
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => panic!("dangling escape"),
                },
                c => value.push(c),
            }
        }
        labels.insert(key.trim_start_matches(',').to_owned(), value);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    labels
}

fn series(name: &str, labels: &[(&str, &str)]) -> Series {
    (name.to_owned(), labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

async fn scrape(app: &TestApp) -> BTreeMap<Series, f64> {
    let response =
        app.client.get("/metrics").header(Header::new("Authorization", format!("Bearer {TOKEN}"))).dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.headers().get_one("Content-Type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    parse(&response.into_string().await.unwrap())
}

/// The value of a series that must be there.
fn value(samples: &BTreeMap<Series, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    *samples.get(&series(name, labels)).unwrap_or_else(|| {
        let known: Vec<_> = samples.keys().filter(|(n, _)| n == name).collect();
        panic!("no {name} {labels:?}; there are {known:#?}")
    })
}

async fn a_scrape_counts_logins_a_lock_an_unlock_and_intake(backend: Backend) {
    let app = with_token(backend).await;
    let org = app.org("Acme Clinic", "acme", UnlockPolicy::Admins).await;
    app.user("admin@acme.test", "Adam Admin", "admin", Some(&org)).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;

    app.logged_in_as("jane@acme.test").await;
    assert_eq!(app.log_in("nobody@acme.test", "a guess").await.status(), Status::Ok);
    for _ in 0..5 {
        app.log_in("jane@acme.test", "wrong password").await;
    }
    app.log_in("jane@acme.test", "wrong password").await;
    assert!(app.reload(&jane).await.locked_at.is_some());
    app.logged_in_as("admin@acme.test").await;
    let unlocked = app.post_form(&format!("/org/users/{}/unlock", jane.id), &[]).await;
    assert_eq!(unlocked.status(), Status::SeeOther);
    assert_eq!(app.client.get("/no/such/page").dispatch().await.status(), Status::NotFound);
    app.drop_mail("From: Bob <bob@example.test>\nTo: support@keydesk.test\nSubject: Locked out\nMessage-ID: <m1@example.test>\n\nPlease help, I am locked out.\n");
    assert_eq!(app.intake_once().await.new_tickets, 1);
    // The emails (the lock's, the unlock's, the acknowledgement) wait 90 seconds.
    app.set_time("2026-11-24T12:01:30Z");

    let samples = scrape(&app).await;
    let logins = |outcome| value(&samples, "keydesk_logins_total", &[("outcome", outcome)]);
    assert_eq!(logins("success"), 2.0);
    assert_eq!(logins("unknown_account"), 1.0);
    assert_eq!(logins("wrong_password"), 5.0, "the fifth wrong password locks and counts as wrong");
    assert_eq!(logins("locked"), 1.0);
    assert_eq!(logins("throttled"), 0.0, "every outcome is there from the start");
    assert_eq!(value(&samples, "keydesk_accounts_locked_total", &[]), 1.0);
    assert_eq!(value(&samples, "keydesk_unlocks_total", &[("source", "admin")]), 1.0);
    assert_eq!(value(&samples, "keydesk_unlocks_total", &[("source", "helpdesk")]), 0.0);
    assert_eq!(value(&samples, "keydesk_intake_messages_total", &[("outcome", "ticket")]), 1.0);
    assert_eq!(value(&samples, "keydesk_intake_messages_total", &[("outcome", "quarantined")]), 0.0);
    assert_eq!(value(&samples, "keydesk_sla_breaches_total", &[("target", "unlock")]), 0.0);

    // Shared state, read from the database.
    assert_eq!(value(&samples, "keydesk_tickets_open", &[]), 1.0);
    let pending = value(&samples, "keydesk_outbox_pending", &[]);
    assert_eq!(
        pending,
        app.services().run(|conn, _| Ok(keydesk::store::outbox::all(conn)?)).await.unwrap().len() as f64
    );
    assert!(pending >= 3.0, "{pending}");
    assert_eq!(value(&samples, "keydesk_outbox_oldest_pending_age_seconds", &[]), 90.0);
    let intake_dir = app.dir.path().join("intake");
    let source = keydesk::intake::maildir::source_name(&intake_dir);
    let last_success = value(&samples, "keydesk_intake_last_success_timestamp_seconds", &[("source", &source)]);
    let started = common::test_start().timestamp() as f64;
    assert!((started..started + 1.0).contains(&last_success), "{last_success}: the pass at the test's start");
    assert_eq!(value(&samples, "keydesk_intake_consecutive_errors", &[("source", &source)]), 0.0);

    // Requests, by the route's template: never the path asked for.
    let requests = |method, route, status| {
        value(&samples, "keydesk_http_requests_total", &[("method", method), ("route", route), ("status", status)])
    };
    assert_eq!(requests("POST", "/login", "200"), 7.0, "the refused logins");
    assert_eq!(requests("POST", "/login", "303"), 2.0);
    assert_eq!(requests("POST", "/org/users/<id>/unlock", "303"), 1.0);
    assert_eq!(requests("GET", "unmatched", "404"), 1.0);
    let timed = |suffix: &str, extra: &[(&str, &str)]| {
        let mut labels = vec![("method", "POST"), ("route", "/login")];
        labels.extend_from_slice(extra);
        value(&samples, &format!("keydesk_http_request_duration_seconds{suffix}"), &labels)
    };
    assert_eq!(timed("_count", &[]), 9.0);
    assert_eq!(timed("_bucket", &[("le", "+Inf")]), 9.0);
    assert!(timed("_sum", &[]) > 0.0);
    for (name, labels) in samples.keys() {
        for value in labels.values() {
            assert!(!value.contains("jane") && !value.contains(&format!("/{}/", jane.id)), "{name} {labels:?}");
        }
    }
}

async fn an_expired_lock_counts_as_an_automatic_unlock(backend: Backend) {
    let app = TestApp::with(backend, |figment| {
        figment.merge(("metrics.token", TOKEN)).merge(("lockout.auto_unlock_after", "30m"))
    })
    .await;
    let org = app.org("Acme Clinic", "acme", UnlockPolicy::Admins).await;
    app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    for _ in 0..5 {
        app.log_in("jane@acme.test", "wrong password").await;
    }
    app.set_time("2026-11-24T12:31:00Z");
    app.logged_in_as("jane@acme.test").await;

    let samples = scrape(&app).await;
    assert_eq!(value(&samples, "keydesk_accounts_locked_total", &[]), 1.0);
    assert_eq!(value(&samples, "keydesk_unlocks_total", &[("source", "auto")]), 1.0);
    assert_eq!(value(&samples, "keydesk_logins_total", &[("outcome", "success")]), 1.0);
}

async fn support_unlocks_count_by_where_they_came_from_and_breaches_by_target(backend: Backend) {
    use common::desk::{act, arrives, desk, lock, request};
    let app = desk(backend, |f| f.merge(("metrics.token", TOKEN))).await;
    app.set_time("2026-11-24T10:00:00Z");
    lock(&app, "jane@acme.test").await;
    lock(&app, "joe@acme.test").await;
    app.set_time("2026-11-24T10:01:00Z");
    let jane = arrives(&app, &request("Jane Doe", "jane@acme.test", "j@acme.test", true), Duration::ZERO).await;
    let joe = arrives(&app, &request("Joe Bloggs", "joe@acme.test", "jb@acme.test", true), Duration::ZERO).await;
    arrives(&app, &request("Bob Baker", "bob@beta.test", "b@beta.test", true), Duration::ZERO).await;
    app.set_time("2026-11-24T10:02:00Z");
    for number in [jane, joe] {
        let (kind, message) = act(&app, number, "verify", &[("method", "call_back"), ("note", "called back")]).await;
        assert_eq!(kind, "success", "{message}");
    }
    app.set_time("2026-11-24T10:03:00Z");
    let (kind, message) = act(&app, jane, "unlock", &[]).await;
    assert_eq!(kind, "success", "{message}");
    let by_api = app
        .client
        .post(format!("/api/v1/tickets/{joe}/unlock"))
        .header(app.bearer("agent@support.test").await)
        .header(rocket::http::ContentType::JSON)
        .body("{}")
        .dispatch()
        .await;
    assert_eq!(by_api.status(), Status::Ok);
    // Bob's ticket waits past its first-response hour: the watch claims one breach.
    app.set_time("2026-11-24T11:02:00Z");
    let now = app.now();
    let watched = app.services().run(move |conn, services| check_once(conn, services, now)).await.unwrap();
    assert_eq!(watched.breach_alerts, 1);

    let samples = scrape(&app).await;
    let unlocks = |source| value(&samples, "keydesk_unlocks_total", &[("source", source)]);
    assert_eq!((unlocks("helpdesk"), unlocks("api"), unlocks("admin")), (1.0, 1.0, 0.0));
    assert_eq!(value(&samples, "keydesk_accounts_locked_total", &[]), 2.0);
    let breaches = |target| value(&samples, "keydesk_sla_breaches_total", &[("target", target)]);
    assert_eq!((breaches("first_response"), breaches("unlock")), (1.0, 0.0));
    assert_eq!(value(&samples, "keydesk_tickets_open", &[]), 1.0, "Bob's; Jane's and Joe's are resolved");
}

async fn metrics_need_the_configured_bearer_token(backend: Backend) {
    let app = with_token(backend).await;
    let refused = [None, Some("Bearer not-the-token".to_owned()), Some(format!("Bearer {TOKEN}x")), Some(TOKEN.into())];
    for authorization in refused {
        let mut request = app.client.get("/metrics");
        if let Some(value) = &authorization {
            request = request.header(Header::new("Authorization", value.clone()));
        }
        let response = request.dispatch().await;
        assert_eq!(response.status(), Status::Unauthorized, "{authorization:?}");
        assert_eq!(response.headers().get_one("WWW-Authenticate"), Some("Bearer"));
        assert_eq!(response.headers().get_one("Location"), None, "a scraper is not sent to the login page");
        assert!(!response.into_string().await.unwrap().contains("keydesk_"));
    }
    // A signed-in session is not a token.
    let org = app.org("Acme Clinic", "acme", UnlockPolicy::Admins).await;
    app.user("owner@acme.test", "Olive Owner", "owner", Some(&org)).await;
    app.logged_in_as("owner@acme.test").await;
    assert_eq!(app.client.get("/metrics").dispatch().await.status(), Status::Unauthorized);
    assert!(scrape(&app).await.contains_key(&series("keydesk_tickets_open", &[])));
}

async fn without_a_token_metrics_are_not_there(backend: Backend) {
    let app = TestApp::new(backend).await;
    let unknown = app.client.get("/no-such-page").dispatch().await;
    let (unknown_status, unknown_body) = (unknown.status(), unknown.into_string().await);
    for authorization in [None, Some(format!("Bearer {TOKEN}"))] {
        let mut request = app.client.get("/metrics");
        if let Some(value) = authorization {
            request = request.header(Header::new("Authorization", value));
        }
        let response = request.dispatch().await;
        assert_eq!(response.status(), Status::NotFound);
        assert_eq!((response.status(), response.into_string().await), (unknown_status, unknown_body.clone()));
    }
}
