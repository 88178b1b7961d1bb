//! Login with lockout: counting, locking once, the same answer for every failure, the lock
//! emails, temporary locks and the per-address throttle.

mod common;

use common::{Backend, TestApp, TestClient, PASSWORD};
use keydesk_core::UnlockPolicy;
use rocket::http::Status;

on_both_backends!(
    a_right_password_logs_in_and_resets_the_count,
    five_wrong_passwords_lock_the_account_once_and_email_the_user_and_admins,
    a_locked_account_refuses_even_the_right_password,
    unknown_wrong_and_locked_get_the_same_answer,
    fifty_concurrent_wrong_attempts_lock_once_and_verify_at_most_five,
    locking_ends_the_accounts_sessions,
    temporary_locks_expire,
    one_address_is_throttled_after_its_allowance,
    an_account_left_at_the_limit_without_a_lock_is_locked_properly,
    a_lock_that_wins_during_a_right_passwords_verification_opens_no_session,
);

async fn a_right_password_logs_in_and_resets_the_count(backend: Backend) {
    let app = TestApp::new(backend).await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    for _ in 0..3 {
        assert_eq!(app.log_in("jane@acme.test", "wrong password").await.status(), Status::Ok);
    }
    assert_eq!(app.reload(&jane).await.failed_attempts, 3);
    let response = app.log_in(" Jane@ACME.test ", PASSWORD).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(response.headers().get_one("Location"), Some("/start"));
    assert_eq!(app.reload(&jane).await.failed_attempts, 0);
    let home = app.client.get("/").dispatch().await.into_string().await.unwrap();
    assert!(home.contains("Welcome, Jane Doe"));
}

async fn five_wrong_passwords_lock_the_account_once_and_email_the_user_and_admins(backend: Backend) {
    let app = TestApp::new(backend).await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    app.user("boss@acme.test", "Olive Owner", "owner", Some(&org)).await;
    app.user("admin@acme.test", "Adam Admin", "admin", Some(&org)).await;
    app.user("colleague@acme.test", "Mo Member", "member", Some(&org)).await;
    for _ in 0..7 {
        app.log_in("jane@acme.test", "wrong password").await;
    }
    let jane = app.reload(&jane).await;
    assert!(jane.locked_at.is_some());
    assert_eq!(
        app.actions_of(&jane).await,
        [
            "User created",
            "Login failed",
            "Login failed",
            "Login failed",
            "Login failed",
            "Login failed",
            "Account locked",
            "Login failed (locked)",
            "Login failed (locked)"
        ]
    );

    let to_jane = app.mail_to("jane@acme.test").await;
    assert_eq!(to_jane.len(), 1, "one lock email per lock");
    assert_eq!(to_jane[0].subject, "Account Locked");
    let text = to_jane[0].text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("Your account has been locked after too many login attempts."));
    assert!(text.contains("Please note that you will not be able to reset your password using the Forgot Password? feature. Please contact your administrator to resolve this issue."));
    assert!(text.contains("support@keydesk.test"));
    assert!(
        text.contains("your full name")
            && text.contains("registered email address")
            && text.contains("brief description")
    );
    assert!(to_jane[0].raw.contains("Auto-Submitted: auto-generated"));

    for admin in ["boss@acme.test", "admin@acme.test"] {
        let mail = app.mail_to(admin).await;
        assert_eq!(mail.len(), 1, "{admin} is told once");
        assert!(
            mail[0].text.contains("Jane Doe")
                && mail[0].text.contains(&format!("http://keydesk.test/org/users/{}/unlock", jane.id))
        );
    }
    assert!(app.mail_to("colleague@acme.test").await.is_empty(), "members are not told");
}

async fn a_locked_account_refuses_even_the_right_password(backend: Backend) {
    let app = TestApp::new(backend).await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    for _ in 0..5 {
        app.log_in("jane@acme.test", "wrong password").await;
    }
    let response = app.log_in("jane@acme.test", PASSWORD).await;
    assert_eq!(response.status(), Status::Ok);
    assert!(response.into_string().await.unwrap().contains("log you in with that email address and password"));
    assert_eq!(app.actions_of(&jane).await.last().map(String::as_str), Some("Login failed (locked)"));
}

/// The page for an unknown email, a wrong password and a locked account, with the parts that
/// differ by design (the echoed email, the CSRF token) taken out.
async fn refusal_page(app: &TestApp, email: &str, password: &str) -> (Status, String) {
    let response = app.log_in(email, password).await;
    let status = response.status();
    let body = response.into_string().await.unwrap();
    let token = common::hidden_csrf_token(&body).unwrap();
    // The support link carries the typed address too, percent-encoded.
    let encoded = email.replace('@', "%40");
    (status, body.replace(&token, "TOKEN").replace(&encoded, "EMAIL").replace(email, "EMAIL"))
}

async fn unknown_wrong_and_locked_get_the_same_answer(backend: Backend) {
    let app = TestApp::new(backend).await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    app.user("open@acme.test", "Open Person", "member", Some(&org)).await;
    app.user("gone@acme.test", "Gone Person", "member", Some(&org)).await;
    for _ in 0..5 {
        app.log_in("gone@acme.test", "wrong password").await;
    }
    let unknown = refusal_page(&app, "nobody@acme.test", "whatever password").await;
    let wrong = refusal_page(&app, "open@acme.test", "wrong password").await;
    let locked_right = refusal_page(&app, "gone@acme.test", PASSWORD).await;
    let locked_wrong = refusal_page(&app, "gone@acme.test", "wrong password").await;
    assert_eq!(unknown.0, Status::Ok);
    assert_eq!(unknown, wrong);
    assert_eq!(wrong, locked_right);
    assert_eq!(locked_right, locked_wrong);
}

async fn fifty_concurrent_wrong_attempts_lock_once_and_verify_at_most_five(backend: Backend) {
    let app = TestApp::with(backend, |f| f.merge(("database_pool_size", 16))).await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    let token = app.csrf_token().await;
    let body =
        common::form_urlencoded(&[("csrf_token", &token), ("email", "jane@acme.test"), ("password", "wrong password")]);
    let attempts = (0..50).map(|_| {
        let request = app.client.post("/login").header(rocket::http::ContentType::Form).body(body.clone());
        async move { request.dispatch().await.status() }
    });
    let statuses = futures_join_all(attempts).await;
    assert!(statuses.iter().all(|s| *s == Status::Ok), "{statuses:?}");
    assert_concurrent_lockout(&app.actions_of(&jane).await);
    assert_eq!(app.mail_to("jane@acme.test").await.len(), 1);
}

/// Exactly one lock; five verified failures; the rest refused unverified.
pub fn assert_concurrent_lockout(actions: &[String]) {
    let count = |name: &str| actions.iter().filter(|a| *a == name).count();
    assert_eq!(count("Account locked"), 1, "{actions:?}");
    assert_eq!(count("Login failed"), 5, "{actions:?}");
    assert_eq!(count("Login failed (locked)"), 45, "{actions:?}");
}

async fn futures_join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = futures.collect();
    let mut outputs = Vec::with_capacity(handles.len());
    // Poll them all at once: join_all from the futures crate, written with tokio's JoinSet
    // would need 'static futures, which borrowing the client rules out.
    let joined = rocket::futures::future::join_all(handles).await;
    outputs.extend(joined);
    outputs
}

async fn locking_ends_the_accounts_sessions(backend: Backend) {
    let app = TestApp::new(backend).await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    app.logged_in_as("jane@acme.test").await;
    assert_eq!(app.client.get("/").dispatch().await.status(), Status::Ok);
    // Someone else guesses from another browser.
    let other = TestClient::new(&app).await;
    for _ in 0..5 {
        other.log_in("jane@acme.test", "wrong password").await;
    }
    assert!(app.reload(&jane).await.locked_at.is_some());
    let response = app.client.get("/").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther, "the old session no longer works");
    assert_eq!(response.headers().get_one("Location"), Some("/login"));
}

async fn temporary_locks_expire(backend: Backend) {
    let app = TestApp::with(backend, |f| f.merge(("lockout.auto_unlock_after", "30m"))).await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    for _ in 0..5 {
        app.log_in("jane@acme.test", "wrong password").await;
    }
    assert_eq!(app.log_in("jane@acme.test", PASSWORD).await.status(), Status::Ok, "still locked");
    app.clock.advance(chrono::Duration::minutes(29));
    assert_eq!(app.log_in("jane@acme.test", PASSWORD).await.status(), Status::Ok, "still locked after 29 minutes");
    app.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(app.log_in("jane@acme.test", PASSWORD).await.status(), Status::SeeOther, "the lock expired");
    let actions = app.actions_of(&jane).await;
    assert!(actions.ends_with(&["Account unlocked".to_owned(), "Login succeeded".to_owned()]), "{actions:?}");
}

async fn one_address_is_throttled_after_its_allowance(backend: Backend) {
    let app =
        TestApp::with(backend, |f| f.merge(("throttle.max_failures_per_ip", 3)).merge(("throttle.window", "10m")))
            .await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    let victim = app.user("victim@acme.test", "Vic Tim", "member", Some(&org)).await;
    for n in 0..3 {
        assert_eq!(app.log_in(&format!("user{n}@acme.test"), "guess").await.status(), Status::Ok);
    }
    let response = app.log_in("victim@acme.test", "guess").await;
    assert_eq!(response.status(), Status::TooManyRequests);
    assert!(response.into_string().await.unwrap().contains("Too many failed logins from your network"));
    assert_eq!(app.reload(&victim).await.failed_attempts, 0, "a throttled attempt touches no account");
}

/// An older Keydesk could die between counting the fifth failure and recording the lock,
/// leaving the count at the limit and no lock: the next attempt finishes the lock, with its
/// entry and emails, instead of refusing the right password forever without a word.
async fn an_account_left_at_the_limit_without_a_lock_is_locked_properly(backend: Backend) {
    use diesel::prelude::*;
    use keydesk::db::schema::users;
    let app = TestApp::new(backend).await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    app.user("adam@acme.test", "Adam Admin", "admin", Some(&org)).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    let id = jane.id;
    app.services()
        .db
        .run(move |conn| {
            diesel::update(users::table.find(id)).set(users::failed_attempts.eq(5)).execute(conn)?;
            Ok::<_, keydesk::db::DbError>(())
        })
        .await
        .unwrap();
    assert_eq!(app.log_in("jane@acme.test", PASSWORD).await.status(), Status::Ok, "refused, as locked");
    let jane = app.reload(&jane).await;
    assert!(jane.locked_at.is_some(), "the lock is recorded now");
    assert!(app.actions_of(&jane).await.contains(&"Account locked".to_owned()));
    let mail = app.mail().await;
    assert_eq!(mail.iter().filter(|m| m.subject == "Account Locked" && m.to == "jane@acme.test").count(), 1);
    assert!(mail.iter().any(|m| m.to == "adam@acme.test" && m.subject.contains("locked")), "and the admin is told");
}

/// A right password's writes (its count's reset, its session, its entry) go to the database as
/// one statement once its verification ends. If another process locked the account during
/// that verification, the reset matches no row: the lock wins, nothing of the sign-in stays
/// (on PostgreSQL the statement wrote the rest all the same, and the transaction is rolled
/// back), and the attempt is recorded as "Login failed (locked)".
async fn a_lock_that_wins_during_a_right_passwords_verification_opens_no_session(backend: Backend) {
    use keydesk::accounts::attempts::{reserve, settle, Checked, Completion, Secret};
    use keydesk::db::{unflushed_transaction, write_transaction, AnyWrite};
    use keydesk::store::{self, events, sessions::NewSession};
    use keydesk_core::{second_factor::SessionStage, EventKind};
    let app = TestApp::new(backend).await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    let (services, user) = (app.services().clone(), jane.clone());
    let (checked, session_left) = services
        .clone()
        .run(move |conn, services| {
            let secret = Secret::Password { second_factor_follows: false };
            let mut counted_first: Option<fn() -> bool> = None;
            let reserved =
                unflushed_transaction(conn, |conn| reserve(conn, services, &user, None, secret, &mut counted_first))?;
            // The verification: right, but only after another connection has locked the account.
            let lock_meanwhile = || {
                let mut other = services.db.pool().get().expect("a second connection");
                let now = services.stored_now();
                write_transaction(&mut other, |other| store::users::lock(other, user.id, now)).expect("locked");
                true
            };
            let now = services.stored_now();
            let token = keydesk_core::PlainToken::generate().hashed();
            let session = NewSession {
                user_id: user.id,
                token: &token,
                stage: SessionStage::SignedIn,
                second_factor_at: None,
                expires_at: now + chrono::Duration::hours(1),
            };
            let actor = events::Actor::Anonymous { typed: user.email.clone() };
            let entry = keydesk::accounts::login::event(&actor, &user, now, EventKind::LoginSucceeded, None, "");
            let writes: Vec<AnyWrite> =
                vec![Box::new(store::sessions::create_write(session, now)), Box::new(events::record_write(entry))];
            let right = Completion { writes: &writes, then: |_: &mut keydesk::db::DbConnection| Ok(()) };
            let checked = settle(conn, services, &user, None, secret, reserved, Some(lock_meanwhile), || (), right)?;
            let left = store::sessions::find(conn, &token, now)?;
            Ok((checked, left.is_some()))
        })
        .await
        .unwrap();
    assert_eq!(checked, Checked::Locked, "the lock wins");
    assert!(!session_left, "no session was opened");
    let jane = app.reload(&jane).await;
    assert!(jane.locked_at.is_some());
    assert_eq!(jane.failed_attempts, 1, "the count is as the attempt left it, not reset");
    assert_eq!(app.actions_of(&jane).await, ["User created", "Login failed (locked)"]);
}
