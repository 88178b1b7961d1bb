//! Second factors through the pages: the roles that can unlock anyone are taken to set up an
//! authenticator before anything else; sign-in then asks for its code (one step of drift,
//! each code once, recovery codes once, wrong codes counting towards the lockout); unlocking,
//! verifying and approving ask for a fresh code after ten minutes; a locked user with an
//! authenticator answers the mailbox challenge with its code; owners and managers reset a
//! lost one.

mod common;

use chrono::Duration;
use common::{Backend, TestApp, PASSWORD};
use keydesk_core::second_factor::TotpSecret;
use keydesk_core::UnlockPolicy;
use rocket::http::Status;

on_both_backends!(
    the_roles_that_unlock_must_set_up_an_authenticator_before_anything_else,
    sign_in_asks_for_the_code_with_one_step_of_drift_and_each_code_once,
    recovery_codes_sign_in_once_each,
    wrong_codes_count_towards_the_lockout,
    unlocking_asks_for_a_fresh_code_after_the_step_up_window,
    changing_a_users_address_asks_for_a_fresh_code_after_the_step_up_window,
    a_locked_user_with_an_authenticator_answers_the_challenge_with_its_code,
    owners_and_managers_reset_a_lost_second_factor_but_never_their_own,
);

fn required(f: rocket::figment::Figment) -> rocket::figment::Figment {
    f.merge(("mfa.required_for", ["agent", "manager", "operator", "owner", "admin"]))
        .merge(("verification.trusted_authserv_id", "mx.keydesk.test"))
}

async fn desk(backend: Backend) -> TestApp {
    let app = TestApp::with(backend, required).await;
    let org = app.org("Acme Clinic", "acme", UnlockPolicy::Admins).await;
    app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    app.user("olive@acme.test", "Olive Owner", "owner", Some(&org)).await;
    app.user("agent@support.test", "Agnes Agent", "agent", None).await;
    app.user("manager@support.test", "Mona Manager", "manager", None).await;
    app
}

fn location(response: &rocket::local::asynchronous::LocalResponse<'_>) -> Option<String> {
    response.headers().get_one("Location").map(str::to_owned)
}

async fn page(app: &TestApp, path: &str) -> String {
    app.client.get(path.to_owned()).dispatch().await.into_string().await.unwrap()
}

fn text_of(html: &str, selector: &str) -> String {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(selector).unwrap();
    document.select(&selector).map(|e| e.text().collect::<String>()).collect::<String>().trim().to_owned()
}

/// Signs in with the password (as a new browser) and sets up an authenticator; its secret
/// and recovery codes.
async fn enrol(app: &TestApp, email: &str) -> (TotpSecret, Vec<String>) {
    new_browser(app);
    let response = app.log_in(email, PASSWORD).await;
    assert_eq!(location(&response).as_deref(), Some("/security"), "{email} is sent to set up a second factor");
    app.post_form("/security/totp/start", &[]).await;
    let enrolment = page(app, "/security/totp").await;
    let secret = TotpSecret::from_base32(&text_of(&enrolment, "#totp-secret")).expect("the key is shown as text");
    assert!(enrolment.contains("<svg"), "and as a QR code");
    assert!(text_of(&enrolment, "#otpauth-uri").starts_with("otpauth://totp/Keydesk:"), "and as a link's text");
    let done = app.post_form("/security/totp/confirm", &[("code", &secret.code_at(app.now()))]).await;
    let done = done.into_string().await.unwrap();
    let document = scraper::Html::parse_document(&done);
    let codes: Vec<String> = document
        .select(&scraper::Selector::parse("#recovery-codes code").unwrap())
        .map(|e| e.text().collect())
        .collect();
    assert_eq!(codes.len(), 10, "{done}");
    // A minute later the app shows another code.
    app.clock.advance(Duration::minutes(1));
    (secret, codes)
}

/// Forgets every cookie, as a fresh browser would.
fn new_browser(app: &TestApp) {
    let names: Vec<String> = app.client.cookies().iter().map(|c| c.name().to_owned()).collect();
    for name in names {
        app.client.cookies().remove(name);
    }
}

async fn log_in_with_code(app: &TestApp, email: &str, code: &str) -> Option<String> {
    new_browser(app);
    let response = app.log_in(email, PASSWORD).await;
    assert_eq!(location(&response).as_deref(), Some("/login/code"));
    let response = app.post_form("/login/code", &[("code", code)]).await;
    location(&response)
}

async fn the_roles_that_unlock_must_set_up_an_authenticator_before_anything_else(backend: Backend) {
    let app = desk(backend).await;
    let response = app.log_in("agent@support.test", PASSWORD).await;
    assert_eq!(location(&response).as_deref(), Some("/security"));
    // Nothing else until then: the queue sends them back.
    let queue = app.client.get("/queue").dispatch().await;
    assert_eq!((queue.status(), location(&queue).as_deref()), (Status::SeeOther, Some("/security")));
    assert!(page(&app, "/security").await.contains("id=\"must-enrol\""));

    // A wrong first code is refused, the right one sets it up.
    app.post_form("/security/totp/start", &[]).await;
    let enrolment = page(&app, "/security/totp").await;
    let secret = TotpSecret::from_base32(&text_of(&enrolment, "#totp-secret")).unwrap();
    let wrong = app.post_form("/security/totp/confirm", &[("code", "000000")]).await.into_string().await.unwrap();
    assert!(wrong.contains("not the code the app shows now"), "{wrong}");
    assert_eq!(TotpSecret::from_base32(&text_of(&wrong, "#totp-secret")), Some(secret.clone()), "same key again");
    app.post_form("/security/totp/confirm", &[("code", &secret.code_at(app.now()))]).await;
    assert_eq!(app.client.get("/queue").dispatch().await.status(), Status::Ok, "now the queue opens");
    let agent = app.reload_email("agent@support.test").await;
    assert!(app.actions_of(&agent).await.contains(&"MFA enrolled".to_owned()));

    // A member, whose role does not require one, signs in with the password as before.
    assert_eq!(location(&app.log_in("jane@acme.test", PASSWORD).await).as_deref(), Some("/start"));
}

async fn sign_in_asks_for_the_code_with_one_step_of_drift_and_each_code_once(backend: Backend) {
    let app = desk(backend).await;
    let (secret, _) = enrol(&app, "agent@support.test").await;
    // The password alone does not sign in.
    new_browser(&app);
    app.log_in("agent@support.test", PASSWORD).await;
    let queue = app.client.get("/queue").dispatch().await;
    assert_eq!(location(&queue).as_deref(), Some("/login/code"), "half signed in, sent to finish");

    // A phone 30 seconds slow is fine.
    let slow = secret.code_at(app.now() - Duration::seconds(30));
    assert_eq!(log_in_with_code(&app, "agent@support.test", &slow).await.as_deref(), Some("/start"));
    let agent = app.reload_email("agent@support.test").await;
    let events = app.events_of(&agent).await;
    assert!(events.iter().any(|e| e.action.label() == "Login succeeded" && e.detail == "with an authenticator code"));

    // The same code again, even from another browser: refused.
    assert_eq!(log_in_with_code(&app, "agent@support.test", &slow).await, None, "a code works once");
    // Two steps off: refused.
    let stale = secret.code_at(app.now() - Duration::seconds(61));
    assert_eq!(log_in_with_code(&app, "agent@support.test", &stale).await, None);
    // The next code works.
    app.clock.advance(Duration::seconds(30));
    let next = secret.code_at(app.now());
    assert_eq!(log_in_with_code(&app, "agent@support.test", &next).await.as_deref(), Some("/start"));
}

async fn recovery_codes_sign_in_once_each(backend: Backend) {
    let app = desk(backend).await;
    let (_, codes) = enrol(&app, "manager@support.test").await;
    let typed = codes[3].to_uppercase().replace('-', " ");
    assert_eq!(log_in_with_code(&app, "manager@support.test", &typed).await.as_deref(), Some("/start"));
    let manager = app.reload_email("manager@support.test").await;
    let events = app.events_of(&manager).await;
    let used = events.iter().find(|e| e.action.label() == "Recovery code used").expect("recorded");
    assert_eq!(used.detail, "9 recovery codes left");
    assert_eq!(log_in_with_code(&app, "manager@support.test", &codes[3]).await, None, "once only");
    assert_eq!(log_in_with_code(&app, "manager@support.test", &codes[4]).await.as_deref(), Some("/start"));
}

async fn wrong_codes_count_towards_the_lockout(backend: Backend) {
    let app = desk(backend).await;
    let (secret, _) = enrol(&app, "agent@support.test").await;
    // Four wrong passwords, then the right password and the right code: signed in, all forgiven.
    for _ in 0..4 {
        app.log_in("agent@support.test", "wrong password").await;
    }
    let code = secret.code_at(app.now());
    assert_eq!(log_in_with_code(&app, "agent@support.test", &code).await.as_deref(), Some("/start"));
    assert_eq!(app.reload_email("agent@support.test").await.failed_attempts, 0);

    // Knowing the password buys no extra guesses: a right password between wrong codes only
    // gives back its own attempt.
    for _ in 0..5 {
        log_in_with_code(&app, "agent@support.test", "123456").await;
    }
    let agent = app.reload_email("agent@support.test").await;
    assert!(agent.locked_at.is_some(), "five wrong codes lock the account");
    let actions = app.actions_of(&agent).await;
    assert_eq!(actions.iter().filter(|a| *a == "MFA code failed").count(), 5, "{actions:?}");
    assert!(actions.contains(&"Account locked".to_owned()));
    // Locked: the right password gets nowhere now.
    new_browser(&app);
    assert_eq!(app.log_in("agent@support.test", PASSWORD).await.status(), Status::Ok);
}

async fn locked_jane_writes(app: &TestApp) -> i64 {
    for _ in 0..5 {
        app.log_in("jane@acme.test", "wrong password").await;
    }
    app.clock.advance(Duration::minutes(1));
    app.drop_mail("From: Jane Doe <jane@acme.test>\nTo: support@keydesk.test\nSubject: Locked\nMessage-ID: <j@acme.test>\nAuthentication-Results: mx.keydesk.test; dmarc=pass header.from=acme.test\n\nFull name: Jane Doe\nRegistered email: jane@acme.test\nIssue: locked out\n");
    app.intake_once().await;
    app.tickets().await.last().unwrap().id.0
}

/// Whether the ticket is verified, as the API says.
async fn is_verified(app: &TestApp, number: i64) -> Option<bool> {
    let manager = app.bearer("manager@support.test").await;
    let response = app.client.get(format!("/api/v1/tickets/{number}")).header(manager).dispatch().await;
    response.into_json::<serde_json::Value>().await.unwrap()["verified"].as_bool()
}

async fn unlocking_asks_for_a_fresh_code_after_the_step_up_window(backend: Backend) {
    let app = desk(backend).await;
    let number = locked_jane_writes(&app).await;
    let (secret, _) = enrol(&app, "agent@support.test").await;
    let code = secret.code_at(app.now());
    assert_eq!(log_in_with_code(&app, "agent@support.test", &code).await.as_deref(), Some("/start"));

    // Eleven minutes after the sign-in's code, verifying asks for a fresh one first, and
    // carries the form's fields through the page that asks.
    app.clock.advance(Duration::minutes(11));
    let fields = [("method", "call_back"), ("note", "called her desk phone")];
    let verify = format!("/tickets/{number}/verify");
    let asked = app.post_form(&verify, &fields).await;
    assert_eq!(asked.status(), Status::Ok);
    let asked = asked.into_string().await.unwrap();
    assert!(asked.contains("Confirm it is you"));
    let document = scraper::Html::parse_document(&asked);
    let form = document.select(&scraper::Selector::parse("main form").unwrap()).next().expect("a form asks");
    assert_eq!(form.value().attr("action"), Some(verify.as_str()));
    let hidden = |name: &str| {
        let selector = scraper::Selector::parse(&format!("main form input[type=hidden][name={name}]")).unwrap();
        document.select(&selector).next().and_then(|input| input.value().attr("value").map(str::to_owned))
    };
    assert_eq!(
        (hidden("method").as_deref(), hidden("note").as_deref()),
        (Some("call_back"), Some("called her desk phone"))
    );
    assert_eq!(is_verified(&app, number).await, Some(false), "nothing verified before the code");

    let wrong = app.post_form(&verify, &[fields[0], fields[1], ("code", "000000")]).await;
    assert!(wrong.into_string().await.unwrap().contains("That code did not work"));
    let fresh = secret.code_at(app.now());
    let done = app.post_form(&verify, &[fields[0], fields[1], ("code", &fresh)]).await;
    assert_eq!(done.status(), Status::SeeOther);
    assert_eq!(is_verified(&app, number).await, Some(true), "the verification carried on");

    // Within ten minutes of that code, the unlock goes straight through.
    app.clock.advance(Duration::minutes(9));
    let unlocked = app.post_form(&format!("/tickets/{number}/unlock"), &[]).await;
    assert_eq!(unlocked.status(), Status::SeeOther, "no code asked within the window");
    assert!(app.reload_email("jane@acme.test").await.locked_at.is_none());
}

async fn a_locked_user_with_an_authenticator_answers_the_challenge_with_its_code(backend: Backend) {
    let app = desk(backend).await;
    // Jane, a member, chose to set up an authenticator.
    new_browser(&app);
    app.log_in("jane@acme.test", PASSWORD).await;
    app.post_form("/security/totp/start", &[]).await;
    let secret = TotpSecret::from_base32(&text_of(&page(&app, "/security/totp").await, "#totp-secret")).unwrap();
    app.post_form("/security/totp/confirm", &[("code", &secret.code_at(app.now()))]).await;
    app.clock.advance(Duration::minutes(5));
    new_browser(&app);

    let number = locked_jane_writes(&app).await;
    let agent = app.bearer("agent@support.test").await;
    let sent = app.client.post(format!("/api/v1/tickets/{number}/challenge")).header(agent.clone()).dispatch().await;
    assert_eq!(sent.status(), Status::Ok);
    let link = app.latest_confirm_path("jane@acme.test").await;
    app.clock.advance(Duration::minutes(2));
    assert!(page(&app, &link).await.contains("name=\"code\""), "the page asks for the app's code");
    let wrong = app.post_form(&link, &[("code", "000000")]).await.into_string().await.unwrap();
    assert!(wrong.contains("4 of 5 tries left"), "{wrong}");
    let right = app.post_form(&link, &[("code", &secret.code_at(app.now()))]).await.into_string().await.unwrap();
    assert!(right.contains("and so is your authenticator app"), "{right}");
    let ticket = app.client.get(format!("/api/v1/tickets/{number}")).header(agent.clone()).dispatch().await;
    let ticket: serde_json::Value = ticket.into_json().await.unwrap();
    assert_eq!(
        (ticket["verified"].as_bool(), ticket["verification_method"].as_str()),
        (Some(true), Some("authenticator_code"))
    );
    assert_eq!(ticket["verified_by"], serde_json::Value::Null, "verified by the user herself");
    assert_eq!(ticket["unlock"]["allowed"], true, "ready to unlock");

    // Five wrong codes close a challenge.
    let second = app.client.post(format!("/api/v1/tickets/{number}/challenge")).header(agent).dispatch().await;
    assert_eq!(second.status(), Status::Ok);
    let link = app.latest_confirm_path("jane@acme.test").await;
    for _ in 0..5 {
        app.post_form(&link, &[("code", "000000")]).await;
    }
    assert!(page(&app, &link).await.contains("This link cannot be used"));
}

async fn owners_and_managers_reset_a_lost_second_factor_but_never_their_own(backend: Backend) {
    let app = desk(backend).await;
    let admin_org = app.reload_email("olive@acme.test").await.organisation_id;
    let org = keydesk::store::orgs::Organisation {
        id: admin_org.unwrap(),
        name: "Acme Clinic".into(),
        slug: "acme".into(),
        unlock_policy: UnlockPolicy::Admins,
        created_at: app.now().naive_utc(),
    };
    app.user("adam@acme.test", "Adam Admin", "admin", Some(&org)).await;
    enrol(&app, "adam@acme.test").await;
    let (olive_secret, _) = enrol(&app, "olive@acme.test").await;
    enrol(&app, "agent@support.test").await;
    let (manager_secret, _) = enrol(&app, "manager@support.test").await;

    // The owner resets Adam's, with a reason; Adam's sessions end.
    assert_eq!(
        log_in_with_code(&app, "olive@acme.test", &olive_secret.code_at(app.now())).await.as_deref(),
        Some("/start")
    );
    let adam = app.reload_email("adam@acme.test").await;
    let edit = page(&app, &format!("/org/users/{}/edit", adam.id)).await;
    assert!(edit.contains("id=\"reset-second-factor\""), "the owner is offered the reset");
    let reset = app
        .post_form(&format!("/org/users/{}/second-factor/reset", adam.id), &[("reason", "phone lost, called him back")])
        .await;
    assert_eq!(reset.status(), Status::SeeOther);
    let adam = app.reload_email("adam@acme.test").await;
    assert!(!adam.has_second_factor());
    let reset_event =
        app.events_of(&adam).await.into_iter().find(|e| e.action.label() == "MFA reset").expect("recorded");
    assert_eq!(
        (reset_event.actor_label.as_str(), reset_event.detail.as_str()),
        ("olive@acme.test", "phone lost, called him back")
    );
    // Never one's own.
    let olive = app.reload_email("olive@acme.test").await;
    let own = app.post_form(&format!("/org/users/{}/second-factor/reset", olive.id), &[("reason", "me")]).await;
    assert_eq!(own.status(), Status::NotFound);
    assert!(app.reload_email("olive@acme.test").await.has_second_factor());

    // A manager resets an agent's, from the Staff page.
    app.clock.advance(Duration::minutes(1));
    let code = manager_secret.code_at(app.now());
    assert_eq!(log_in_with_code(&app, "manager@support.test", &code).await.as_deref(), Some("/start"));
    let agent = app.reload_email("agent@support.test").await;
    assert!(page(&app, "/staff").await.contains(&format!("/staff/{}/second-factor/reset", agent.id)));
    let reset = app.post_form(&format!("/staff/{}/second-factor/reset", agent.id), &[("reason", "new phone")]).await;
    assert_eq!(reset.status(), Status::SeeOther);
    assert!(!app.reload_email("agent@support.test").await.has_second_factor());
    // The agent is taken to set up a new one at the next sign-in.
    new_browser(&app);
    assert_eq!(location(&app.log_in("agent@support.test", PASSWORD).await).as_deref(), Some("/security"));
}

/// A new address is where password-reset links go: an owner's session left open (or stolen)
/// does not change one without a fresh code.
async fn changing_a_users_address_asks_for_a_fresh_code_after_the_step_up_window(backend: Backend) {
    let app = desk(backend).await;
    let (secret, _) = enrol(&app, "olive@acme.test").await;
    let code = secret.code_at(app.now());
    assert_eq!(log_in_with_code(&app, "olive@acme.test", &code).await.as_deref(), Some("/start"));
    let jane = app.reload_email("jane@acme.test").await;
    app.clock.advance(Duration::minutes(11));
    let path = format!("/org/users/{}", jane.id);
    let fields = [("email", "jane@elsewhere.test"), ("full_name", "Jane Doe"), ("role", "member")];
    let asked = app.post_form(&path, &fields).await;
    assert_eq!(asked.status(), Status::Ok);
    assert!(asked.into_string().await.unwrap().contains("Confirm it is you"));
    assert_eq!(app.reload(&jane).await.email, "jane@acme.test", "nothing changed before the code");
    let fresh = secret.code_at(app.now());
    let done = app.post_form(&path, &[fields[0], fields[1], fields[2], ("code", &fresh)]).await;
    assert_eq!(done.status(), Status::SeeOther);
    assert_eq!(app.reload_email("jane@elsewhere.test").await.id, jane.id, "the change carried on");
}
