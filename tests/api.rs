//! The JSON API: bearer tokens for support staff, the account and its events, and JSON
//! errors for everyone else.

mod common;

use common::{lock_by_wrong_logins, Backend, TestApp};
use keydesk::app::AppError;
use keydesk_core::UnlockPolicy;
use rocket::http::{ContentType, Header, Status};
use serde_json::{json, Value};

on_both_backends!(
    the_api_answers_401_without_a_token_or_with_a_wrong_one,
    a_signed_in_session_is_not_an_api_token,
    an_operators_token_is_forbidden,
    an_unknown_account_is_not_found,
    an_agent_reads_an_account_and_sees_its_lock,
    a_manager_may_read_accounts_too,
    events_are_newest_first_with_the_exact_action_names,
    an_organisation_owner_cannot_get_an_api_token,
    creating_a_token_is_recorded_in_the_activity_log,
    malformed_requests_get_json_errors,
    a_token_follows_its_user_locked_deleted_demoted_or_expired,
);

const ENDPOINTS: [&str; 2] = ["/api/v1/accounts/jane@acme.test", "/api/v1/events?email=jane%40acme.test"];

async fn token_for(app: &TestApp, email: &str) -> String {
    app.try_api_token(email).await.expect("an API token").expose().to_owned()
}

/// GETs `path` with an optional Authorization header; returns the status and the JSON body.
async fn get(app: &TestApp, path: &str, authorization: Option<&str>) -> (Status, Value) {
    let mut request = app.client.get(path.to_owned());
    if let Some(value) = authorization {
        request = request.header(Header::new("Authorization", value.to_owned()));
    }
    let response = request.dispatch().await;
    let status = response.status();
    assert_eq!(response.content_type(), Some(ContentType::JSON), "GET {path} answers JSON");
    let body = response.into_string().await.unwrap_or_default();
    let value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {body}"));
    (status, value)
}

async fn bearer_get(app: &TestApp, path: &str, token: &str) -> (Status, Value) {
    get(app, path, Some(&format!("Bearer {token}"))).await
}

async fn acme(app: &TestApp) -> keydesk::store::users::User {
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    app.user("agent@support.test", "Agnes Agent", "agent", None).await;
    app.user("op@support.test", "Otto Operator", "operator", None).await;
    app.user("boss@acme.test", "Olive Owner", "owner", Some(&org)).await;
    app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await
}

async fn the_api_answers_401_without_a_token_or_with_a_wrong_one(backend: Backend) {
    let app = TestApp::new(backend).await;
    acme(&app).await;
    let real = token_for(&app, "agent@support.test").await;
    let unauthorized = (Status::Unauthorized, json!({"error": "unauthorized"}));
    let made_up = "ab".repeat(32);
    let wrong_headers = [
        None,
        Some(format!("Bearer {made_up}")),
        Some("Bearer ".to_owned()),
        Some(format!("Basic {real}")),
        Some(real.clone()),
        Some(format!("Bearer {}", &real[..63])),
    ];
    for path in ENDPOINTS {
        for header in &wrong_headers {
            assert_eq!(get(&app, path, header.as_deref()).await, unauthorized, "GET {path} with {header:?}");
        }
        assert_eq!(bearer_get(&app, path, &real).await.0, Status::Ok, "GET {path} with the real token");
    }
}

async fn a_signed_in_session_is_not_an_api_token(backend: Backend) {
    let app = TestApp::new(backend).await;
    acme(&app).await;
    app.logged_in_as("agent@support.test").await;
    for path in ENDPOINTS {
        assert_eq!(get(&app, path, None).await, (Status::Unauthorized, json!({"error": "unauthorized"})), "GET {path}");
    }
}

async fn an_operators_token_is_forbidden(backend: Backend) {
    let app = TestApp::new(backend).await;
    acme(&app).await;
    let token = token_for(&app, "op@support.test").await;
    for path in ENDPOINTS {
        assert_eq!(
            bearer_get(&app, path, &token).await,
            (Status::Forbidden, json!({"error": "forbidden"})),
            "GET {path}"
        );
    }
}

async fn an_unknown_account_is_not_found(backend: Backend) {
    let app = TestApp::new(backend).await;
    acme(&app).await;
    let token = token_for(&app, "agent@support.test").await;
    let not_found = (Status::NotFound, json!({"error": "not_found"}));
    for path in [
        "/api/v1/accounts/nobody@acme.test",
        "/api/v1/events?email=nobody%40acme.test",
        "/api/v1/accounts/not-an-address",
    ] {
        assert_eq!(bearer_get(&app, path, &token).await, not_found, "GET {path}");
    }
}

async fn an_agent_reads_an_account_and_sees_its_lock(backend: Backend) {
    let app = TestApp::new(backend).await;
    let jane = acme(&app).await;
    let token = token_for(&app, "agent@support.test").await;

    let (status, account) = bearer_get(&app, "/api/v1/accounts/jane@acme.test", &token).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        account,
        json!({
            "email": "jane@acme.test",
            "name": "Jane Doe",
            "role": "member",
            "organisation": "acme",
            "locked": false,
            "failed_attempts": 0,
            "locked_at": null,
        })
    );

    for _ in 0..2 {
        app.log_in("jane@acme.test", "wrong password").await;
    }
    let (_, account) = bearer_get(&app, "/api/v1/accounts/Jane@ACME.test", &token).await;
    assert_eq!(account["email"], "jane@acme.test", "the address is matched whatever its case");
    assert_eq!(account["failed_attempts"], 2);
    assert_eq!(account["locked"], false);

    let jane = lock_by_wrong_logins(&app, &jane).await;
    let (status, account) = bearer_get(&app, "/api/v1/accounts/jane@acme.test", &token).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(account["locked"], true);
    assert_eq!(account["failed_attempts"], i64::from(jane.failed_attempts));
    assert!(jane.failed_attempts >= 5);
    let locked_at = jane.locked_at.unwrap().and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(account["locked_at"], json!(locked_at));
    assert!(chrono::DateTime::parse_from_rfc3339(account["locked_at"].as_str().unwrap()).is_ok());

    // Staff have no organisation.
    let (_, agent) = bearer_get(&app, "/api/v1/accounts/agent@support.test", &token).await;
    assert_eq!(agent["organisation"], Value::Null);
    assert_eq!(agent["role"], "agent");
}

async fn a_manager_may_read_accounts_too(backend: Backend) {
    let app = TestApp::new(backend).await;
    acme(&app).await;
    app.user("manager@support.test", "Mia Manager", "manager", None).await;
    let token = token_for(&app, "manager@support.test").await;
    for path in ENDPOINTS {
        assert_eq!(bearer_get(&app, path, &token).await.0, Status::Ok, "GET {path}");
    }
}

async fn events_are_newest_first_with_the_exact_action_names(backend: Backend) {
    let app = TestApp::new(backend).await;
    acme(&app).await;
    let token = token_for(&app, "agent@support.test").await;
    for _ in 0..2 {
        app.log_in("jane@acme.test", "wrong password").await;
    }
    app.logged_in_as("jane@acme.test").await;
    assert_eq!(app.post_form("/logout", &[]).await.status(), Status::SeeOther);
    for _ in 0..6 {
        app.log_in("jane@acme.test", "wrong password").await;
    }
    // The request for a link comes from a known address, to see the IP in the event.
    let token_field = app.csrf_token().await;
    let body = common::form_urlencoded(&[("csrf_token", &token_field), ("email", "jane@acme.test")]);
    let from: std::net::SocketAddr = "203.0.113.7:40000".parse().unwrap();
    let response =
        app.client.post("/forgot-password").header(ContentType::Form).remote(from).body(body).dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    app.settled().await;

    let (status, events) = bearer_get(&app, "/api/v1/events?email=jane%40acme.test", &token).await;
    assert_eq!(status, Status::Ok);
    let events = events.as_array().expect("an array").clone();
    let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "Password reset requested",
            "Login failed (locked)",
            "Account locked",
            "Login failed",
            "Login failed",
            "Login failed",
            "Login failed",
            "Login failed",
            "Logged out",
            "Login succeeded",
            "Login failed",
            "Login failed",
            "User created",
        ]
    );
    for event in &events {
        let keys: Vec<&str> = event.as_object().unwrap().keys().map(String::as_str).collect();
        for key in ["at", "action", "actor", "target", "ip", "detail"] {
            assert!(keys.contains(&key), "{key} in {event}");
        }
        assert_eq!(event["target"], "jane@acme.test");
    }
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = events
        .iter()
        .map(|e| chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap()).expect("RFC 3339"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");
    assert_eq!(events[0]["detail"], "refused: the account is locked, no link sent");
    assert_eq!(events[0]["ip"], "203.0.113.7");
    assert_eq!(events[0]["actor"], "jane@acme.test");
    assert_eq!(events.last().unwrap()["actor"], "test", "the harness created Jane");
    assert_eq!(events[8]["actor"], "jane@acme.test", "Jane logged herself out");

    // Events of other people are not mixed in.
    let (_, boss_events) = bearer_get(&app, "/api/v1/events?email=boss%40acme.test", &token).await;
    let boss_actions: Vec<&str> =
        boss_events.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(boss_actions, ["User created"]);
}

async fn an_organisation_owner_cannot_get_an_api_token(backend: Backend) {
    let app = TestApp::new(backend).await;
    acme(&app).await;
    for email in ["boss@acme.test", "jane@acme.test", "nobody@acme.test"] {
        let result = app.try_api_token(email).await;
        assert!(matches!(result, Err(AppError::Invalid(_))), "{email}: {:?}", result.map(|_| "a token"));
    }
    // An agent's token is 64 hex characters.
    let token = token_for(&app, "agent@support.test").await;
    assert_eq!(token.len(), 64);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
}

async fn creating_a_token_is_recorded_in_the_activity_log(backend: Backend) {
    let app = TestApp::new(backend).await;
    let agent = app.user("agent@support.test", "Agnes Agent", "agent", None).await;
    token_for(&app, "agent@support.test").await;
    let events = app.events_of(&agent).await;
    let created = events.iter().find(|e| e.action.label() == "API token created").expect("recorded");
    assert_eq!((created.actor_label.as_str(), created.target_label.as_str()), ("test", "agent@support.test"));
    assert!(!created.detail.contains(&token_for(&app, "agent@support.test").await), "the token itself is never logged");
}

/// Requests that fail before a handler runs still answer in JSON, with their status.
async fn malformed_requests_get_json_errors(backend: Backend) {
    let app = TestApp::new(backend).await;
    acme(&app).await;
    app.drop_mail("From: Jane Doe <jane@acme.test>\nTo: support@keydesk.test\nSubject: Locked\nMessage-ID: <j@acme.test>\n\nFull name: Jane Doe\n");
    app.intake_once().await;
    let number = app.tickets().await[0].id;
    let token = token_for(&app, "agent@support.test").await;
    let post = |path: String, body: Vec<u8>| {
        app.client
            .post(path)
            .header(ContentType::JSON)
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .body(body)
    };
    let cases: [(&str, Vec<u8>, Status); 4] = [
        ("not JSON at all", b"{".to_vec(), Status::BadRequest),
        ("JSON of the wrong shape", br#"{"methods": 1}"#.to_vec(), Status::UnprocessableEntity),
        ("larger than the JSON limit", vec![b' '; 2 * 1024 * 1024], Status::PayloadTooLarge),
        ("not UTF-8", vec![0xff, 0xfe, b'{'], Status::BadRequest),
    ];
    for (what, body, expected) in cases {
        let response = post(format!("/api/v1/tickets/{number}/verify"), body).dispatch().await;
        assert_eq!(response.status(), expected, "{what}");
        assert_eq!(response.content_type(), Some(ContentType::JSON), "{what}");
        let body: Value = response.into_json().await.expect("a JSON body");
        assert!(body["error"].is_string(), "{what}: {body}");
    }
    let (status, body) = bearer_get(&app, "/api/v1/tickets?status=bogus", &token).await;
    assert_eq!((status, body), (Status::BadRequest, json!({"error": "unknown_status"})));
    // A path segment that is not a ticket number cannot be used: 422, in JSON.
    let (status, body) = bearer_get(&app, "/api/v1/tickets/not-a-number", &token).await;
    assert_eq!((status, body), (Status::UnprocessableEntity, json!({"error": "unprocessable"})));
    let (status, body) = bearer_get(&app, "/api/v1/tickets/999999", &token).await;
    assert_eq!((status, body), (Status::NotFound, json!({"error": "not_found"})));
}

async fn a_token_follows_its_user_locked_deleted_demoted_or_expired(backend: Backend) {
    use diesel::prelude::*;
    use keydesk::db::schema::users;
    let app = TestApp::new(backend).await;
    acme(&app).await;
    let staff = [("ann@support.test", "manager"), ("bob@support.test", "agent"), ("cat@support.test", "manager")];
    for (email, role) in staff {
        app.user(email, &format!("Staff {role}"), role, None).await;
    }
    let ann = token_for(&app, "ann@support.test").await;
    let bob = token_for(&app, "bob@support.test").await;
    let cat = token_for(&app, "cat@support.test").await;
    let works = |token: String| {
        let app = &app;
        async move {
            let (get, _) = bearer_get(app, "/api/v1/accounts/jane@acme.test", &token).await;
            let post = app
                .client
                .post("/api/v1/tickets/999/notes")
                .header(ContentType::JSON)
                .header(Header::new("Authorization", format!("Bearer {token}")))
                .body(r#"{"text": "hello"}"#)
                .dispatch()
                .await
                .status();
            (get, post)
        }
    };
    assert_eq!(works(ann.clone()).await, (Status::Ok, Status::NotFound), "a working token");

    // Locked: five wrong passwords.
    for _ in 0..5 {
        app.log_in("ann@support.test", "wrong password").await;
    }
    assert_eq!(works(ann).await, (Status::Unauthorized, Status::Unauthorized), "a locked user's token");

    // Demoted: a manager made an agent.
    app.services()
        .db
        .run(|conn| {
            diesel::update(users::table.filter(users::email.eq("cat@support.test")))
                .set(users::role.eq("agent"))
                .execute(conn)?;
            Ok::<_, keydesk::db::DbError>(())
        })
        .await
        .unwrap();
    assert_eq!(works(cat).await, (Status::Unauthorized, Status::Unauthorized), "a token issued for another role");

    // Deleted.
    app.services()
        .db
        .run(|conn| {
            diesel::delete(users::table.filter(users::email.eq("bob@support.test"))).execute(conn)?;
            Ok::<_, keydesk::db::DbError>(())
        })
        .await
        .unwrap();
    assert_eq!(works(bob).await, (Status::Unauthorized, Status::Unauthorized), "a deleted user's token");

    // Expiring: works until its time, then not.
    let expiring = app
        .services()
        .run(|conn, services| {
            let expires = Some(services.stored_now() + chrono::Duration::days(90));
            let actor = keydesk::store::events::Actor::System("test");
            keydesk::accounts::api_tokens::create(conn, "agent@support.test", expires, &actor, services.stored_now())
        })
        .await
        .unwrap()
        .expose()
        .to_owned();
    app.clock.advance(chrono::Duration::days(89));
    assert_eq!(works(expiring.clone()).await.0, Status::Ok, "day 89");
    app.clock.advance(chrono::Duration::days(1));
    assert_eq!(works(expiring).await.0, Status::Unauthorized, "day 90");
}
