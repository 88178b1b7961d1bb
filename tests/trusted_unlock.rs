//! The unlock as an attacker would try it: a verification from an old lock, a resolved
//! ticket, a privileged account, an account support keeps unlocking. Each is refused with its
//! reason until the rule is met: verified after the current lock began, on an open ticket,
//! and for those accounts approved by a manager who did not verify.

mod common;

use chrono::Duration;
use common::{Backend, TestApp};
use keydesk_core::UnlockPolicy;
use rocket::http::{ContentType, Header, Status};
use serde_json::{json, Value};

on_both_backends!(
    a_verification_before_the_current_lock_is_stale_until_verified_again,
    a_resolved_ticket_unlocks_nothing_and_a_new_lock_needs_a_new_verification,
    a_forged_reply_on_an_old_authenticated_thread_verifies_nothing,
    an_owner_or_admin_needs_another_managers_approval_and_the_organisation_is_told,
    a_staff_account_needs_approval_too,
    the_fourth_support_unlock_in_thirty_days_needs_approval,
);

struct Desk {
    app: TestApp,
    agent: Header<'static>,
    manager: Header<'static>,
    other_manager: Header<'static>,
}

async fn desk(backend: Backend) -> Desk {
    let app = TestApp::with(backend, |f| f.merge(("verification.trusted_authserv_id", "mx.keydesk.test"))).await;
    let org = app.org("Acme Clinic", "acme", UnlockPolicy::Admins).await;
    app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    app.user("adam@acme.test", "Adam Admin", "admin", Some(&org)).await;
    app.user("olive@acme.test", "Olive Owner", "owner", Some(&org)).await;
    for (email, name, role) in [
        ("agent@support.test", "Agnes Agent", "agent"),
        ("manager@support.test", "Mona Manager", "manager"),
        ("manager2@support.test", "Max Manager", "manager"),
    ] {
        app.user(email, name, role, None).await;
    }
    let agent = app.bearer("agent@support.test").await;
    let manager = app.bearer("manager@support.test").await;
    let other_manager = app.bearer("manager2@support.test").await;
    Desk { app, agent, manager, other_manager }
}

impl Desk {
    /// Five wrong passwords, a minute later than whatever came before.
    async fn lock(&self, email: &str) {
        self.app.clock.advance(Duration::minutes(1));
        for _ in 0..5 {
            self.app.log_in(email, "wrong password").await;
        }
        self.app.clock.advance(Duration::minutes(1));
    }

    /// An authenticated request from `email`; the ticket it filed or joined.
    async fn writes(&self, name: &str, email: &str, message_id: &str, extra_headers: &str) -> i64 {
        self.app.drop_mail(&format!(
            "From: {name} <{email}>\nTo: support@keydesk.test\nSubject: Locked\nMessage-ID: <{message_id}>\n{extra_headers}Authentication-Results: mx.keydesk.test; dmarc=pass header.from=acme.test\n\nFull name: {name}\nRegistered email: {email}\nIssue: locked out\n"
        ));
        self.app.intake_once().await;
        self.app.clock.advance(Duration::minutes(1));
        let tickets = self.app.tickets().await;
        let ticket = tickets.iter().rev().find(|t| t.sender == email).expect("a ticket");
        ticket.id.0
    }

    /// Jane locked, her authenticated request (`message_id`) verified and unlocked by support;
    /// `later`, she locks herself out again. The old ticket's number.
    async fn unlocked_by_support_then_locked_again(&self, message_id: &str, later: Duration) -> i64 {
        self.lock("jane@acme.test").await;
        let number = self.writes("Jane Doe", "jane@acme.test", message_id, "").await;
        assert_eq!(self.verify(&self.agent, number).await.0, Status::Ok);
        assert_eq!(self.unlock(number).await.0, Status::Ok);
        self.app.clock.advance(later);
        self.lock("jane@acme.test").await;
        number
    }

    async fn post(&self, who: &Header<'static>, number: i64, action: &str, body: Value) -> (Status, Value) {
        let response = self
            .app
            .client
            .post(format!("/api/v1/tickets/{number}/{action}"))
            .header(who.clone())
            .header(ContentType::JSON)
            .body(body.to_string())
            .dispatch()
            .await;
        (response.status(), response.into_json().await.unwrap_or(Value::Null))
    }

    async fn verify(&self, who: &Header<'static>, number: i64) -> (Status, Value) {
        let result = self.post(who, number, "verify", json!({"method": "call_back", "note": "called back"})).await;
        self.app.clock.advance(Duration::minutes(1));
        result
    }

    async fn unlock(&self, number: i64) -> (Status, Value) {
        self.post(&self.agent, number, "unlock", json!({})).await
    }

    async fn is_locked(&self, email: &str) -> bool {
        let email = keydesk_core::EmailAddress::parse(email).unwrap();
        let app = &self.app;
        let user = app
            .services()
            .run(move |conn, _| Ok(keydesk::store::users::find_by_email(conn, &email)?.unwrap()))
            .await
            .unwrap();
        user.locked_at.is_some()
    }

    /// Unlocks from Manage Users, as Jane's admin would.
    async fn admin_unlocks(&self, email: &str) {
        let email_address = keydesk_core::EmailAddress::parse(email).unwrap();
        let user = self
            .app
            .services()
            .run(move |conn, _| Ok(keydesk::store::users::find_by_email(conn, &email_address)?.unwrap()))
            .await
            .unwrap();
        let admin = common::TestClient::new(&self.app).await;
        assert_eq!(admin.log_in("adam@acme.test", common::PASSWORD).await.status(), Status::SeeOther);
        admin.post_form(&format!("/org/users/{}/unlock", user.id), &[]).await;
        assert!(!self.is_locked(email).await, "{email} unlocked from Manage Users");
    }
}

fn refusal(body: &Value) -> (&str, &str) {
    (body["error"].as_str().unwrap_or_default(), body["reason"].as_str().unwrap_or_default())
}

async fn a_verification_before_the_current_lock_is_stale_until_verified_again(backend: Backend) {
    let desk = desk(backend).await;
    desk.lock("jane@acme.test").await;
    let number = desk.writes("Jane Doe", "jane@acme.test", "first@acme.test", "").await;
    assert_eq!(desk.verify(&desk.agent, number).await.0, Status::Ok);

    // Before the unlock, her admin unlocks her and she locks herself out again.
    desk.admin_unlocks("jane@acme.test").await;
    desk.lock("jane@acme.test").await;
    let (status, body) = desk.unlock(number).await;
    assert_eq!((status, refusal(&body)), (Status::Conflict, ("not_verified", "verification_stale")));
    assert!(desk.is_locked("jane@acme.test").await);
    let ticket = desk.app.client.get(format!("/api/v1/tickets/{number}")).header(desk.agent.clone()).dispatch().await;
    let ticket: Value = ticket.into_json().await.unwrap();
    assert_eq!(ticket["unlock"]["reason"], "verification_stale", "the API says so before anyone tries");

    // The page says it in words, and offers to verify again.
    desk.app.logged_in_as("agent@support.test").await;
    let page = desk.app.client.get(format!("/tickets/{number}")).dispatch().await.into_string().await.unwrap();
    assert!(
        page.contains("before the account&#x27;s current lock began")
            || page.contains("before the account's current lock began"),
        "{page}"
    );
    assert!(page.contains(r#"id="verify-form""#));

    // Her mail from before the new lock shows nobody now: an agent cannot verify on it.
    let (status, body) = desk.verify(&desk.agent, number).await;
    assert_eq!(status, Status::Conflict, "{body}");
    assert!(body["message"].as_str().unwrap().contains("the sender is not authenticated"), "{body}");

    // She writes again on the thread: verified on that, the unlock goes through.
    let again = desk.writes("Jane Doe", "jane@acme.test", "second@acme.test", "In-Reply-To: <first@acme.test>\n").await;
    assert_eq!(again, number, "threaded onto the same ticket");
    assert_eq!(desk.verify(&desk.agent, number).await.0, Status::Ok);
    let (status, body) = desk.unlock(number).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert!(!desk.is_locked("jane@acme.test").await);
}

/// An attacker who has locked Jane out answers her old, authenticated ticket with a forged
/// From and a guessed ticket number. The reply reopens the ticket, but it is judged on its
/// own headers: an agent cannot verify on the old mail's evidence.
async fn a_forged_reply_on_an_old_authenticated_thread_verifies_nothing(backend: Backend) {
    let desk = desk(backend).await;
    let number = desk.unlocked_by_support_then_locked_again("honest@acme.test", Duration::days(30)).await;
    desk.app.drop_mail(&format!(
        "From: Jane Doe <jane@acme.test>\nTo: support@keydesk.test\nSubject: Re: Locked [#{number}]\n\
         Message-ID: <forged@evil.test>\nAuthentication-Results: mx.keydesk.test; dmarc=fail header.from=acme.test\n\n\
         Locked again, please unlock me quickly.\n"
    ));
    desk.app.intake_once().await;
    desk.app.clock.advance(Duration::minutes(1));
    assert_eq!(desk.app.tickets().await.len(), 1, "the forged reply joined the old ticket");

    let ticket = desk.app.client.get(format!("/api/v1/tickets/{number}")).header(desk.agent.clone()).dispatch().await;
    let ticket: Value = ticket.into_json().await.unwrap();
    let checks = ticket["checks"].as_array().expect("the checks");
    let authenticated = checks.iter().find(|c| c["name"] == "sender_authenticated").expect("sender_authenticated");
    assert_eq!(authenticated["passed"], false, "judged on the forged reply, not on the first mail: {ticket}");

    let (status, body) = desk.verify(&desk.agent, number).await;
    assert_eq!(status, Status::Conflict, "{body}");
    assert!(body["message"].as_str().unwrap().contains("the sender is not authenticated"), "{body}");
    let (status, body) = desk.unlock(number).await;
    assert_eq!((status, refusal(&body).0), (Status::Conflict, "not_verified"));
    assert!(desk.is_locked("jane@acme.test").await);
}

async fn a_resolved_ticket_unlocks_nothing_and_a_new_lock_needs_a_new_verification(backend: Backend) {
    let desk = desk(backend).await;
    // Two months after support unlocked her, she is locked out again.
    let number = desk.unlocked_by_support_then_locked_again("old@acme.test", Duration::days(60)).await;
    let (status, body) = desk.unlock(number).await;
    assert_eq!((status, refusal(&body)), (Status::Conflict, ("not_verified", "ticket_resolved")));
    assert!(desk.is_locked("jane@acme.test").await, "the old verification unlocked nothing");
    desk.app.logged_in_as("agent@support.test").await;
    let page = desk.app.client.get(format!("/tickets/{number}")).dispatch().await.into_string().await.unwrap();
    assert!(page.contains(r#"id="resolved-note""#) && !page.contains(r#"id="unlock""#), "no Unlock on the old ticket");

    // She answers the old thread: the ticket reopens, but its verification is from the old
    // lock, so it must be verified again.
    let reopened = desk.writes("Jane Doe", "jane@acme.test", "again@acme.test", "In-Reply-To: <old@acme.test>\n").await;
    assert_eq!(reopened, number, "threaded onto the old ticket");
    let (status, body) = desk.unlock(number).await;
    assert_eq!((status, refusal(&body)), (Status::Conflict, ("not_verified", "verification_stale")));
    assert_eq!(desk.verify(&desk.agent, number).await.0, Status::Ok);
    assert_eq!(desk.unlock(number).await.0, Status::Ok);
    assert!(!desk.is_locked("jane@acme.test").await);

    // Locked a third time, she writes a new email: a new ticket, unverified.
    desk.lock("jane@acme.test").await;
    let fresh = desk.writes("Jane Doe", "jane@acme.test", "third@acme.test", "").await;
    assert_ne!(fresh, number);
    let (status, body) = desk.unlock(fresh).await;
    assert_eq!((status, refusal(&body)), (Status::Conflict, ("not_verified", "not_verified")));
}

async fn an_owner_or_admin_needs_another_managers_approval_and_the_organisation_is_told(backend: Backend) {
    let desk = desk(backend).await;
    desk.lock("adam@acme.test").await;
    let number = desk.writes("Adam Admin", "adam@acme.test", "adam@acme.test", "").await;
    // A manager verifies: the unlock still needs a second person.
    assert_eq!(desk.verify(&desk.manager, number).await.0, Status::Ok);
    let (status, body) = desk.unlock(number).await;
    assert_eq!((status, refusal(&body)), (Status::Conflict, ("approval_required", "privileged_account")));

    // Not by the verifier, not by an agent.
    let (status, body) = desk.post(&desk.manager, number, "approve", json!({"note": "it is me"})).await;
    assert_eq!((status, body["error"].as_str()), (Status::Conflict, Some("approval_refused")), "{body}");
    let (status, _) = desk.post(&desk.agent, number, "approve", json!({"note": "trust me"})).await;
    assert_eq!(status, Status::Forbidden);
    assert!(desk.is_locked("adam@acme.test").await);

    // Another manager approves; the agent unlocks.
    let (status, body) = desk.post(&desk.other_manager, number, "approve", json!({"note": "called Olive"})).await;
    assert_eq!((status, body), (Status::Ok, json!({"approved": true})));
    let (status, body) = desk.unlock(number).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert!(!desk.is_locked("adam@acme.test").await);

    // The owner is told; Jane (a member) is not.
    let told: Vec<_> = desk.app.mail().await.into_iter().filter(|m| m.subject.contains("Support unlocked")).collect();
    assert_eq!(told.iter().map(|m| m.to.as_str()).collect::<Vec<_>>(), ["olive@acme.test"]);
    assert!(told[0].text.contains("Adam Admin") && told[0].text.contains("ticket #"), "{}", told[0].text);

    // When the owner is the one unlocked, the admins hear of it.
    desk.lock("olive@acme.test").await;
    let number = desk.writes("Olive Owner", "olive@acme.test", "olive@acme.test", "").await;
    assert_eq!(desk.verify(&desk.agent, number).await.0, Status::Ok);
    assert_eq!(desk.post(&desk.manager, number, "approve", json!({"note": "ok"})).await.0, Status::Ok);
    assert_eq!(desk.unlock(number).await.0, Status::Ok);
    let told: Vec<_> = desk
        .app
        .mail()
        .await
        .into_iter()
        .filter(|m| m.subject.contains("Support unlocked Olive Owner"))
        .map(|m| m.to)
        .collect();
    assert_eq!(told, ["adam@acme.test"]);
}

async fn a_staff_account_needs_approval_too(backend: Backend) {
    let desk = desk(backend).await;
    desk.app.user("ann@support.test", "Ann Agent", "agent", None).await;
    desk.lock("ann@support.test").await;
    desk.app.drop_mail("From: Ann Agent <ann@support.test>\nTo: support@keydesk.test\nSubject: Locked\nMessage-ID: <ann@support.test>\nAuthentication-Results: mx.keydesk.test; dmarc=pass header.from=support.test\n\nFull name: Ann Agent\nRegistered email: ann@support.test\nIssue: locked out\n");
    desk.app.intake_once().await;
    desk.app.clock.advance(Duration::minutes(1));
    let number = desk.app.tickets().await.last().unwrap().id.0;
    assert_eq!(desk.verify(&desk.agent, number).await.0, Status::Ok);
    let (status, body) = desk.unlock(number).await;
    assert_eq!((status, refusal(&body)), (Status::Conflict, ("approval_required", "privileged_account")));
    assert_eq!(desk.post(&desk.manager, number, "approve", json!({"note": "saw Ann in person"})).await.0, Status::Ok);
    assert_eq!(desk.unlock(number).await.0, Status::Ok);
}

async fn the_fourth_support_unlock_in_thirty_days_needs_approval(backend: Backend) {
    let desk = desk(backend).await;
    for round in 0..3 {
        desk.lock("jane@acme.test").await;
        let number = desk.writes("Jane Doe", "jane@acme.test", &format!("r{round}@acme.test"), "").await;
        assert_eq!(desk.verify(&desk.agent, number).await.0, Status::Ok);
        assert_eq!(desk.unlock(number).await.0, Status::Ok, "support unlock {}", round + 1);
        desk.app.clock.advance(Duration::days(5));
    }
    desk.lock("jane@acme.test").await;
    let number = desk.writes("Jane Doe", "jane@acme.test", "r3@acme.test", "").await;
    assert_eq!(desk.verify(&desk.agent, number).await.0, Status::Ok);
    let (status, body) = desk.unlock(number).await;
    assert_eq!((status, refusal(&body)), (Status::Conflict, ("approval_required", "repeated_unlocks")));

    // A month after the first, only two remain in the window: no second person needed.
    desk.app.clock.advance(Duration::days(16));
    let (status, body) = desk.unlock(number).await;
    assert_eq!(status, Status::Ok, "{body}");
}
