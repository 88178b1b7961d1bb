//! Forgot password: one answer whatever the address, a single-use link for an open account,
//! nothing for a locked one, links voided by a lock, and sessions ended by a reset.

mod common;

use common::{lock_by_wrong_logins, Backend, TestApp, TestClient, PASSWORD};
use keydesk::store::users::User;
use keydesk_core::UnlockPolicy;
use rocket::http::Status;

on_both_backends!(
    forgot_password_answers_alike_for_unknown_active_and_locked_addresses,
    an_active_account_gets_exactly_one_email_with_a_reset_link,
    a_locked_account_gets_no_email_no_link_and_a_refused_event,
    the_link_shows_the_form_and_refuses_a_too_short_password,
    a_new_password_replaces_the_old_one_and_the_link_works_only_once,
    a_link_issued_before_a_lock_is_refused_after_the_lock,
    setting_a_new_password_ends_existing_sessions,
    a_dead_link_shows_no_form_whatever_password_is_sent,
    a_link_expires_after_password_reset_ttl,
);

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn acme_with_jane(app: &TestApp) -> User {
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await
}

/// The forgot-password answer with the CSRF token (different per request by design) taken out.
async fn forgot_answer(app: &TestApp, email: &str) -> (Status, String) {
    let response = app.post_form("/forgot-password", &[("email", email)]).await;
    let status = response.status();
    (status, common::without_csrf_token(&response.into_string().await.unwrap()))
}

/// Asks for a link for `email` and returns the path of the one link emailed (e.g.
/// `/reset-password/<64 hex>`), checking that exactly one new reset email arrived.
async fn request_link(app: &TestApp, email: &str) -> String {
    let before = reset_mails(app, email).await.len();
    assert_eq!(app.post_form("/forgot-password", &[("email", email)]).await.status(), Status::Ok);
    let mails = reset_mails(app, email).await;
    assert_eq!(mails.len(), before + 1, "one reset email per request: {mails:?}");
    reset_link_in(&mails.last().unwrap().text).expect("the reset email's text part carries a link")
}

async fn reset_mails(app: &TestApp, email: &str) -> Vec<common::Mail> {
    app.mail_to(email).await.into_iter().filter(|m| m.subject == "Reset your password").collect()
}

/// The path of the reset link in an email's text, checked to be absolute (public_url) and to
/// carry a 64-hex token.
fn reset_link_in(text: &str) -> Option<String> {
    let prefix = "http://keydesk.test/reset-password/";
    let start = text.find(prefix)? + prefix.len();
    let token: String = text[start..].chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    assert_eq!(token.len(), 64, "a reset token is 64 hex characters: {text}");
    Some(format!("/reset-password/{token}"))
}

async fn password_is(app: &TestApp, user: &User, password: &str) -> bool {
    let hash = app.reload(user).await.password_hash;
    app.services().passwords.verify(password, &hash)
}

async fn count_resets(app: &TestApp, user: &User) -> i64 {
    let id = user.id;
    app.services().run(move |conn, _| Ok(keydesk::store::secrets::count_password_resets(conn, id)?)).await.unwrap()
}

async fn forgot_password_answers_alike_for_unknown_active_and_locked_addresses(backend: Backend) {
    let app = TestApp::new(backend).await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    app.user("open@acme.test", "Open Person", "member", Some(&org)).await;
    let gone = app.user("gone@acme.test", "Gone Person", "member", Some(&org)).await;
    lock_by_wrong_logins(&app, &gone).await;

    let unknown = forgot_answer(&app, "nobody@acme.test").await;
    let active = forgot_answer(&app, "open@acme.test").await;
    let locked = forgot_answer(&app, "gone@acme.test").await;
    assert_eq!(unknown.0, Status::Ok);
    assert!(unknown.1.contains("If that address belongs to an account that can reset its password"), "{}", unknown.1);
    assert_eq!(unknown, active, "unknown and active addresses get the same answer");
    assert_eq!(active, locked, "active and locked addresses get the same answer");
    assert_eq!(forgot_answer(&app, "not an address").await, unknown, "a malformed address gets the same answer");
}

async fn an_active_account_gets_exactly_one_email_with_a_reset_link(backend: Backend) {
    let app = TestApp::new(backend).await;
    let jane = acme_with_jane(&app).await;
    assert_eq!(app.post_form("/forgot-password", &[("email", " Jane@ACME.test ")]).await.status(), Status::Ok);

    let mails = app.mail_to("jane@acme.test").await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].subject, "Reset your password");
    let link = reset_link_in(&mails[0].text).expect("a link in the text part");
    assert!(mails[0].text.contains("Hello Jane Doe"), "{}", mails[0].text);
    assert_eq!(count_resets(&app, &jane).await, 1);
    // Only the hash is stored: the token from the email is not in the database row.
    let token = link.trim_start_matches("/reset-password/").to_owned();
    let id = jane.id;
    let stored = app
        .services()
        .run(move |conn, _| {
            use diesel::prelude::*;
            use keydesk::db::schema::password_resets;
            Ok(password_resets::table
                .filter(password_resets::user_id.eq(id))
                .select(password_resets::token_hash)
                .load::<String>(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token, "the plain token must not be stored");

    let events = app.events_of(&jane).await;
    assert_eq!(events[0].action.label(), "Password reset requested");
    assert_eq!(events[0].detail, "link sent");
}

async fn a_locked_account_gets_no_email_no_link_and_a_refused_event(backend: Backend) {
    let app = TestApp::new(backend).await;
    let jane = acme_with_jane(&app).await;
    let jane = lock_by_wrong_logins(&app, &jane).await;
    assert_eq!(app.post_form("/forgot-password", &[("email", "jane@acme.test")]).await.status(), Status::Ok);

    let subjects: Vec<String> = app.mail_to("jane@acme.test").await.into_iter().map(|m| m.subject).collect();
    assert_eq!(subjects, ["Account Locked"], "only the lock email, no reset link");
    assert_eq!(count_resets(&app, &jane).await, 0, "no reset token is created for a locked account");

    let events = app.events_of(&jane).await;
    assert_eq!(events[0].action.label(), "Password reset requested");
    assert!(events[0].detail.contains("refused"), "detail: {:?}", events[0].detail);
}

async fn the_link_shows_the_form_and_refuses_a_too_short_password(backend: Backend) {
    let app = TestApp::new(backend).await;
    let jane = acme_with_jane(&app).await;
    let link = request_link(&app, "jane@acme.test").await;

    let page = app.client.get(link.clone()).dispatch().await;
    assert_eq!(page.status(), Status::Ok);
    let page = page.into_string().await.unwrap();
    assert!(page.contains("Choose a new password"));
    assert!(page.contains(r#"name="password""#), "the form is shown: {page}");
    assert!(!page.contains("This link cannot be used"));

    let response = app.post_form(&link, &[("password", "short")]).await;
    assert_eq!(response.status(), Status::Ok);
    let body = response.into_string().await.unwrap();
    assert!(body.contains(r#"id="password-error""#) && body.contains("use at least 10 characters"), "{body}");
    assert!(body.contains(r#"aria-invalid="true""#));
    assert!(password_is(&app, &jane, PASSWORD).await, "the password is unchanged");
    assert!(!app.actions_of(&jane).await.contains(&"Password reset completed".to_owned()));

    // A refused password does not use up the link.
    let again = app.client.get(link).dispatch().await.into_string().await.unwrap();
    assert!(again.contains(r#"name="password""#) && !again.contains("This link cannot be used"));
}

async fn a_new_password_replaces_the_old_one_and_the_link_works_only_once(backend: Backend) {
    let app = TestApp::new(backend).await;
    let jane = acme_with_jane(&app).await;
    let link = request_link(&app, "jane@acme.test").await;

    let response = app.post_form(&link, &[("password", NEW_PASSWORD)]).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(response.headers().get_one("Location"), Some("/login"));
    assert_eq!(app.actions_of(&jane).await.last().map(String::as_str), Some("Password reset completed"));

    let other = TestClient::new(&app).await;
    assert_eq!(
        other.log_in("jane@acme.test", PASSWORD).await.status(),
        Status::Ok,
        "the old password no longer logs in"
    );
    assert_eq!(app.log_in("jane@acme.test", NEW_PASSWORD).await.status(), Status::SeeOther, "the new password logs in");

    let page = app.client.get(link.clone()).dispatch().await.into_string().await.unwrap();
    assert!(page.contains("This link cannot be used"), "a used link shows no form: {page}");
    assert!(!page.contains(r#"name="password""#));
    let response = app.post_form(&link, &[("password", "yet another passphrase")]).await;
    assert_eq!(response.status(), Status::Ok);
    assert!(response.into_string().await.unwrap().contains("This link cannot be used"));
    assert!(password_is(&app, &jane, NEW_PASSWORD).await, "a second use changes nothing");
    let completed = app.actions_of(&jane).await.iter().filter(|a| *a == "Password reset completed").count();
    assert_eq!(completed, 1);
}

async fn a_link_issued_before_a_lock_is_refused_after_the_lock(backend: Backend) {
    let app = TestApp::new(backend).await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    app.user("admin@acme.test", "Adam Admin", "admin", Some(&org)).await;
    let link = request_link(&app, "jane@acme.test").await;
    lock_by_wrong_logins(&app, &jane).await;

    let page = app.client.get(link.clone()).dispatch().await.into_string().await.unwrap();
    assert!(page.contains("This link cannot be used"), "{page}");
    let response = app.post_form(&link, &[("password", NEW_PASSWORD)]).await;
    assert_eq!(response.status(), Status::Ok);
    assert!(response.into_string().await.unwrap().contains("This link cannot be used"));
    assert!(password_is(&app, &jane, PASSWORD).await, "the password is unchanged");

    // Unlocking does not bring the old link back: the lock voided it.
    let admin = TestClient::new(&app).await;
    assert_eq!(admin.log_in("admin@acme.test", PASSWORD).await.status(), Status::SeeOther);
    let unlock = admin.post_form(&format!("/org/users/{}/unlock", jane.id), &[]).await;
    assert_eq!(unlock.status(), Status::SeeOther);
    assert!(app.reload(&jane).await.locked_at.is_none(), "the admin unlocked Jane");
    let response = app.post_form(&link, &[("password", NEW_PASSWORD)]).await;
    assert_eq!(response.status(), Status::Ok);
    assert!(response.into_string().await.unwrap().contains("This link cannot be used"));
    assert!(password_is(&app, &jane, PASSWORD).await);
}

async fn setting_a_new_password_ends_existing_sessions(backend: Backend) {
    let app = TestApp::new(backend).await;
    let jane = acme_with_jane(&app).await;
    app.logged_in_as("jane@acme.test").await;
    assert_eq!(app.client.get("/").dispatch().await.status(), Status::Ok);

    // From another browser, Jane (or whoever reads her mail) resets the password.
    let other = TestClient::new(&app).await;
    assert_eq!(other.post_form("/forgot-password", &[("email", "jane@acme.test")]).await.status(), Status::Ok);
    other.settled().await;
    let mails = reset_mails(&app, "jane@acme.test").await;
    assert_eq!(mails.len(), 1);
    let link = reset_link_in(&mails[0].text).unwrap();
    assert_eq!(other.post_form(&link, &[("password", NEW_PASSWORD)]).await.status(), Status::SeeOther);

    let response = app.client.get("/").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther, "the old session no longer works");
    assert_eq!(response.headers().get_one("Location"), Some("/login"));
    let id = jane.id;
    let sessions =
        app.services().run(move |conn, _| Ok(keydesk::store::sessions::count_for_user(conn, id)?)).await.unwrap();
    assert_eq!(sessions, 0);
}

/// A used or unknown link answers "cannot be used" to every submission: a too-short password
/// sent to it must not bring the "choose a new password" form back.
async fn a_dead_link_shows_no_form_whatever_password_is_sent(backend: Backend) {
    let app = TestApp::new(backend).await;
    acme_with_jane(&app).await;
    let link = request_link(&app, "jane@acme.test").await;
    assert_eq!(app.post_form(&link, &[("password", NEW_PASSWORD)]).await.status(), Status::SeeOther);
    let unknown = format!("/reset-password/{}", "ab".repeat(32));
    for dead in [link.as_str(), unknown.as_str()] {
        let response = app.post_form(dead, &[("password", "short")]).await;
        assert_eq!(response.status(), Status::Ok);
        let body = response.into_string().await.unwrap();
        assert!(body.contains("This link cannot be used"), "POST {dead} with a short password: {body}");
        assert!(!body.contains(r#"name="password""#), "POST {dead}: no password form for a dead link");
    }
}

async fn a_link_expires_after_password_reset_ttl(backend: Backend) {
    let app = TestApp::with(backend, |f| f.merge(("password_reset_ttl", "1h"))).await;
    let jane = acme_with_jane(&app).await;
    let link = request_link(&app, "jane@acme.test").await;
    let live = app.client.get(link.clone()).dispatch().await.into_string().await.unwrap();
    assert!(live.contains(r#"name="password""#), "the link works at first");
    app.clock.advance(chrono::Duration::minutes(59));
    let still = app.client.get(link.clone()).dispatch().await.into_string().await.unwrap();
    assert!(still.contains(r#"name="password""#), "the link still works after 59 minutes");
    app.clock.advance(chrono::Duration::minutes(1));

    let page = app.client.get(link.clone()).dispatch().await.into_string().await.unwrap();
    assert!(page.contains("This link cannot be used"), "{page}");
    let response = app.post_form(&link, &[("password", NEW_PASSWORD)]).await;
    assert_eq!(response.status(), Status::Ok);
    assert!(response.into_string().await.unwrap().contains("This link cannot be used"));
    assert!(password_is(&app, &jane, PASSWORD).await, "an expired link changes nothing");
}

/// A stop (systemd's SIGTERM) right after a forgot-password answer still sends its link: the
/// work starts only after the answer, and a stopping server finishes it first.
#[test]
fn a_server_stopped_right_after_answering_still_queues_the_link() {
    use common::{server, TestDatabase};
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(Backend::Sqlite, dir.path());
    let (services, _) = server::open_with_jane(&database.url);
    let conn = &mut *services.db.pool().get().unwrap();

    let mut server = server::start(&database.url, dir.path(), &[]);
    let (agent, token) = server.visitor();
    let form = [("csrf_token", token.as_str()), ("email", "jane@acme.test")];
    let answer = agent.post(&format!("{}/forgot-password", server.base)).send_form(&form).unwrap();
    assert_eq!(answer.status(), 200);
    // No connection left open, so the stop does not wait for one (Rocket's grace period).
    drop((answer, agent));
    let _ = std::process::Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status();
    assert!(server.child.wait().unwrap().success(), "a clean stop");

    let queued = keydesk::store::outbox::all(conn).unwrap();
    let kinds: Vec<&str> = queued.iter().map(|row| row.kind.as_str()).collect();
    assert_eq!(kinds, ["password_reset"], "the link answered before the stop is queued");
}
