//! CSRF protection of every state-changing form, and the cookies' attributes: a form
//! without the right token is refused with 403 before anything changes.

mod common;

use common::{lock_by_wrong_logins, Backend, TestApp, TestClient, PASSWORD};
use keydesk::store::users::User;
use keydesk_core::UnlockPolicy;
use rocket::http::{Cookie, SameSite, Status};
use rocket::local::asynchronous::LocalResponse;

on_both_backends!(
    login_without_the_right_token_is_refused_and_counts_no_attempt,
    logout_without_the_right_token_is_refused_and_keeps_the_session,
    forgot_password_without_the_right_token_is_refused_and_sends_nothing,
    reset_password_without_the_right_token_is_refused_and_keeps_the_password,
    adding_a_user_without_the_right_token_is_refused_and_creates_nobody,
    editing_a_user_without_the_right_token_is_refused_and_changes_nothing,
    unlocking_without_the_right_token_is_refused_and_leaves_the_user_locked,
    entering_a_pin_without_the_right_token_is_refused_and_spends_no_try,
    the_csrf_cookie_is_http_only_and_same_site_strict,
    the_session_cookie_is_http_only_and_same_site_lax_and_not_secure_over_http,
    cookies_are_secure_when_public_url_is_https,
    every_login_gets_a_new_session_id,
    requests_that_cannot_be_used_get_an_error_page,
);

/// Posts `fields` to `path` with no token, with another browser's (valid) token, with a
/// made-up token and with an empty one: each must be a 403 with the "Not allowed" page.
async fn assert_refused_without_the_right_token(app: &TestApp, path: &str, fields: &[(&str, &str)]) {
    let own = app.csrf_token().await; // this browser holds a CSRF cookie of its own
    let foreign = TestClient::new(app).await.csrf_token().await;
    assert_ne!(own, foreign, "two browsers get different tokens");
    let made_up = "0123456789abcdef".repeat(4);
    let cases: [(&str, Option<&str>); 4] = [
        ("no token", None),
        ("another browser's token", Some(&foreign)),
        ("a made-up token", Some(&made_up)),
        ("an empty token", Some("")),
    ];
    for (case, token) in cases {
        let mut all: Vec<(&str, &str)> = token.map(|t| ("csrf_token", t)).into_iter().collect();
        all.extend_from_slice(fields);
        let response = app.post_raw(path, &all).await;
        assert_eq!(response.status(), Status::Forbidden, "POST {path} with {case}");
        let body = response.into_string().await.unwrap_or_default();
        assert!(body.contains("Not allowed"), "POST {path} with {case}: {body}");
    }
}

async fn acme(app: &TestApp, policy: UnlockPolicy) -> (User, User) {
    let org = app.org("Acme", "acme", policy).await;
    let admin_role = if policy == UnlockPolicy::OwnerPin { "owner" } else { "admin" };
    let admin = app.user("boss@acme.test", "Bea Boss", admin_role, Some(&org)).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    (admin, jane)
}

async fn outbox_len(app: &TestApp) -> usize {
    app.settled().await;
    app.services().run(|conn, _| Ok(keydesk::store::outbox::all(conn)?)).await.unwrap().len()
}

async fn login_without_the_right_token_is_refused_and_counts_no_attempt(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (_, jane) = acme(&app, UnlockPolicy::Admins).await;
    assert_refused_without_the_right_token(
        &app,
        "/login",
        &[("email", "jane@acme.test"), ("password", "wrong password")],
    )
    .await;
    assert_refused_without_the_right_token(&app, "/login", &[("email", "jane@acme.test"), ("password", PASSWORD)])
        .await;
    assert_eq!(app.reload(&jane).await.failed_attempts, 0, "no attempt was counted");
    assert_eq!(app.actions_of(&jane).await, ["User created"]);
    assert!(app.client.cookies().get_private("keydesk_session").is_none(), "no session was started");
    assert_eq!(app.client.get("/").dispatch().await.status(), Status::SeeOther);

    assert_eq!(app.log_in("jane@acme.test", PASSWORD).await.status(), Status::SeeOther, "the right token passes");
    assert_eq!(app.client.get("/").dispatch().await.status(), Status::Ok);
}

async fn logout_without_the_right_token_is_refused_and_keeps_the_session(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (_, jane) = acme(&app, UnlockPolicy::Admins).await;
    app.logged_in_as("jane@acme.test").await;
    assert_refused_without_the_right_token(&app, "/logout", &[]).await;
    assert_eq!(app.client.get("/").dispatch().await.status(), Status::Ok, "still logged in");
    assert!(!app.actions_of(&jane).await.contains(&"Logged out".to_owned()));

    let response = app.post_form("/logout", &[]).await;
    assert_eq!(response.status(), Status::SeeOther, "the right token passes");
    assert_eq!(response.headers().get_one("Location"), Some("/login"));
    assert_eq!(app.client.get("/").dispatch().await.status(), Status::SeeOther, "logged out");
    assert_eq!(app.actions_of(&jane).await.last().map(String::as_str), Some("Logged out"));
}

async fn forgot_password_without_the_right_token_is_refused_and_sends_nothing(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (_, jane) = acme(&app, UnlockPolicy::Admins).await;
    assert_refused_without_the_right_token(&app, "/forgot-password", &[("email", "jane@acme.test")]).await;
    assert_eq!(outbox_len(&app).await, 0, "no email queued");
    let id = jane.id;
    let resets =
        app.services().run(move |conn, _| Ok(keydesk::store::secrets::count_password_resets(conn, id)?)).await.unwrap();
    assert_eq!(resets, 0, "no reset link created");
    assert_eq!(app.actions_of(&jane).await, ["User created"]);

    assert_eq!(app.post_form("/forgot-password", &[("email", "jane@acme.test")]).await.status(), Status::Ok);
    assert_eq!(outbox_len(&app).await, 1, "the right token passes: one email queued");
}

async fn reset_password_without_the_right_token_is_refused_and_keeps_the_password(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (_, jane) = acme(&app, UnlockPolicy::Admins).await;
    assert_eq!(app.post_form("/forgot-password", &[("email", "jane@acme.test")]).await.status(), Status::Ok);
    let mail = app.mail_to("jane@acme.test").await;
    assert_eq!(mail.len(), 1);
    let start = mail[0].text.find("/reset-password/").expect("a reset link");
    let link: String = mail[0].text[start..].chars().take_while(|c| !c.is_whitespace()).collect();

    assert_refused_without_the_right_token(&app, &link, &[("password", "a brand new passphrase")]).await;
    let hash = app.reload(&jane).await.password_hash;
    assert!(app.services().passwords.verify(PASSWORD, &hash), "the password is unchanged");
    let page = app.client.get(link.clone()).dispatch().await.into_string().await.unwrap();
    assert!(page.contains(r#"name="password""#), "the link still works");

    let response = app.post_form(&link, &[("password", "a brand new passphrase")]).await;
    assert_eq!(response.status(), Status::SeeOther, "the right token passes");
    let hash = app.reload(&jane).await.password_hash;
    assert!(app.services().passwords.verify("a brand new passphrase", &hash));
}

async fn adding_a_user_without_the_right_token_is_refused_and_creates_nobody(backend: Backend) {
    let app = TestApp::new(backend).await;
    acme(&app, UnlockPolicy::Admins).await;
    app.logged_in_as("boss@acme.test").await;
    let fields = [("email", "new@acme.test"), ("full_name", "Nina New"), ("role", "admin")];
    assert_refused_without_the_right_token(&app, "/org/users", &fields).await;
    let count = app.services().run(|conn, _| Ok(keydesk::store::users::count(conn)?)).await.unwrap();
    assert_eq!(count, 2, "nobody was created");
    assert_eq!(outbox_len(&app).await, 0);

    let response = app.post_form("/org/users", &fields).await;
    assert_eq!(response.status(), Status::SeeOther, "the right token passes");
    let count = app.services().run(|conn, _| Ok(keydesk::store::users::count(conn)?)).await.unwrap();
    assert_eq!(count, 3);
}

async fn editing_a_user_without_the_right_token_is_refused_and_changes_nothing(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (_, jane) = acme(&app, UnlockPolicy::Admins).await;
    app.logged_in_as("boss@acme.test").await;
    let path = format!("/org/users/{}", jane.id);
    let fields = [("email", "jane.doe@acme.test"), ("full_name", "Jane Q. Doe"), ("role", "admin")];
    assert_refused_without_the_right_token(&app, &path, &fields).await;
    let unchanged = app.reload(&jane).await;
    assert_eq!(
        (unchanged.email.as_str(), unchanged.full_name.as_str(), unchanged.role.as_str()),
        ("jane@acme.test", "Jane Doe", "member")
    );
    assert_eq!(app.actions_of(&jane).await, ["User created"]);

    assert_eq!(app.post_form(&path, &fields).await.status(), Status::SeeOther, "the right token passes");
    let id = jane.id;
    let changed = app.services().run(move |conn, _| Ok(keydesk::store::users::find(conn, id)?)).await.unwrap().unwrap();
    assert_eq!(
        (changed.email.as_str(), changed.full_name.as_str(), changed.role.as_str()),
        ("jane.doe@acme.test", "Jane Q. Doe", "admin")
    );
}

async fn unlocking_without_the_right_token_is_refused_and_leaves_the_user_locked(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (_, jane) = acme(&app, UnlockPolicy::Admins).await;
    let jane = lock_by_wrong_logins(&app, &jane).await;
    app.logged_in_as("boss@acme.test").await;
    let events_before = app.events_of(&jane).await.len();
    let mails_before = outbox_len(&app).await;
    let path = format!("/org/users/{}/unlock", jane.id);

    assert_refused_without_the_right_token(&app, &path, &[]).await;
    let still = app.reload(&jane).await;
    assert!(still.locked_at.is_some(), "still locked");
    assert_eq!(still.failed_attempts, jane.failed_attempts);
    assert_eq!(app.events_of(&jane).await.len(), events_before, "no event recorded");
    assert_eq!(outbox_len(&app).await, mails_before, "no email queued");

    let response = app.post_form(&path, &[]).await;
    assert_eq!(response.status(), Status::SeeOther, "the right token passes");
    assert!(app.reload(&jane).await.locked_at.is_none());
    assert_eq!(app.actions_of(&jane).await.last().map(String::as_str), Some("Account unlocked"));
}

async fn entering_a_pin_without_the_right_token_is_refused_and_spends_no_try(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (owner, jane) = acme(&app, UnlockPolicy::OwnerPin).await;
    let jane = lock_by_wrong_logins(&app, &jane).await;
    app.logged_in_as("boss@acme.test").await;
    let response = app.post_form(&format!("/org/users/{}/unlock", jane.id), &[]).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(
        response.headers().get_one("Location").map(str::to_owned),
        Some(format!("/org/users/{}/unlock/pin", jane.id))
    );
    let pin_mail = app
        .mail_to("boss@acme.test")
        .await
        .into_iter()
        .find(|m| m.subject == "User Account Unlock")
        .expect("a PIN email");
    let pin = pin_mail
        .text
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.chars().all(|c| c.is_ascii_digit()))
        .expect("a PIN")
        .to_owned();
    let events_before = app.events_of(&jane).await.len();

    let path = format!("/org/users/{}/unlock/pin", jane.id);
    assert_refused_without_the_right_token(&app, &path, &[("pin", &pin)]).await;
    assert!(app.reload(&jane).await.locked_at.is_some(), "still locked");
    assert_eq!(app.events_of(&jane).await.len(), events_before, "no event recorded");
    let (owner_id, jane_id) = (owner.id, jane.id);
    let challenge = app
        .services()
        .run(move |conn, _| Ok(keydesk::store::secrets::open_unlock_pin(conn, owner_id, jane_id)?))
        .await
        .unwrap()
        .expect("the PIN is still open");
    assert_eq!(challenge.tries, 0, "no try was spent");

    let response = app.post_form(&path, &[("pin", &pin)]).await;
    assert_eq!(response.status(), Status::SeeOther, "the right token passes");
    assert!(app.reload(&jane).await.locked_at.is_none());
}

/// The `Set-Cookie` of `name` in a response.
fn set_cookie(response: &LocalResponse<'_>, name: &str) -> Option<Cookie<'static>> {
    response.headers().get("Set-Cookie").filter_map(|h| Cookie::parse(h.to_owned()).ok()).find(|c| c.name() == name)
}

async fn the_csrf_cookie_is_http_only_and_same_site_strict(backend: Backend) {
    let app = TestApp::new(backend).await;
    let response = app.client.get("/login").dispatch().await;
    let cookie = set_cookie(&response, "keydesk_csrf").expect("the login page issues a CSRF cookie");
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(SameSite::Strict));
    assert_ne!(cookie.secure(), Some(true), "not Secure over http");
    assert_eq!(cookie.path(), Some("/"));
    // The cookie is private (encrypted): its value is not the token in the form.
    let token = common::hidden_csrf_token(&response.into_string().await.unwrap()).unwrap();
    assert!(!cookie.value().contains(&token));
}

async fn the_session_cookie_is_http_only_and_same_site_lax_and_not_secure_over_http(backend: Backend) {
    let app = TestApp::new(backend).await;
    acme(&app, UnlockPolicy::Admins).await;
    let response = app.log_in("jane@acme.test", PASSWORD).await;
    assert_eq!(response.status(), Status::SeeOther);
    let cookie = set_cookie(&response, "keydesk_session").expect("login sets the session cookie");
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(SameSite::Lax));
    assert_ne!(cookie.secure(), Some(true), "not Secure over http");
    assert_eq!(cookie.path(), Some("/"));
}

async fn cookies_are_secure_when_public_url_is_https(backend: Backend) {
    let app = TestApp::with(backend, |f| f.merge(("public_url", "https://keydesk.test"))).await;
    acme(&app, UnlockPolicy::Admins).await;
    let page = app.client.get("/login").dispatch().await;
    let csrf = set_cookie(&page, "keydesk_csrf").expect("a CSRF cookie");
    assert_eq!(csrf.secure(), Some(true), "the CSRF cookie is Secure over https");
    assert_eq!(csrf.same_site(), Some(SameSite::Strict));
    let token = common::hidden_csrf_token(&page.into_string().await.unwrap()).unwrap();

    let body = common::form_urlencoded(&[("csrf_token", &token), ("email", "jane@acme.test"), ("password", PASSWORD)]);
    let response = app.client.post("/login").header(rocket::http::ContentType::Form).body(body).dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
    let session = set_cookie(&response, "keydesk_session").expect("login sets the session cookie");
    assert_eq!(session.secure(), Some(true), "the session cookie is Secure over https");
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(session.same_site(), Some(SameSite::Lax));
}

async fn every_login_gets_a_new_session_id(backend: Backend) {
    let app = TestApp::new(backend).await;
    acme(&app, UnlockPolicy::Admins).await;
    let session_id = |app: &TestApp| app.client.cookies().get_private("keydesk_session").map(|c| c.value().to_owned());

    app.logged_in_as("jane@acme.test").await;
    let first = session_id(&app).expect("a session after the first login");
    app.logged_in_as("jane@acme.test").await;
    let second = session_id(&app).expect("a session after the second login");
    assert_eq!(first.len(), 64, "{first}");
    assert_ne!(first, second, "a new session id at every login");

    // The session after the second login is a live one.
    let home = app.client.get("/").dispatch().await;
    assert_eq!(home.status(), Status::Ok);
}

/// What fails before a handler runs still gets Keydesk's own page, with its status.
async fn requests_that_cannot_be_used_get_an_error_page(backend: Backend) {
    let app = TestApp::new(backend).await;
    app.user("agent@support.test", "Agnes Agent", "agent", None).await;
    app.logged_in_as("agent@support.test").await;
    let token = app.csrf_token().await;
    let mut body = format!("csrf_token={token}&email=").into_bytes();
    body.extend([0xff, 0xfe]);
    let response = app.client.post("/login").header(rocket::http::ContentType::Form).body(body).dispatch().await;
    let cases = [
        (
            response.status(),
            response.into_string().await.unwrap(),
            Status::BadRequest,
            "That request could not be used",
        ),
        {
            let r = app.client.get("/nowhere").dispatch().await;
            (r.status(), r.into_string().await.unwrap(), Status::NotFound, "Not found")
        },
        {
            let r = app.client.get("/tickets/not-a-number").dispatch().await;
            (r.status(), r.into_string().await.unwrap(), Status::UnprocessableEntity, "That request was incomplete")
        },
    ];
    for (status, page, expected, heading) in cases {
        assert_eq!(status, expected, "{page}");
        assert!(page.contains(heading) && page.contains("<main"), "{expected}: {page}");
    }
}
