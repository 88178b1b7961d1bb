//! The support queue's heart: verify who wrote, then unlock — only a verified ticket, only
//! within working hours — in one transaction that resolves the ticket and tells the user.

mod common;

use keydesk_core::TicketStatus;

use common::{Backend, TestApp};
use keydesk_core::UnlockPolicy;
use rocket::http::{ContentType, Header, Status};
use serde_json::{json, Value};

on_both_backends!(
    an_unverified_ticket_cannot_be_unlocked,
    outside_working_hours_the_unlock_is_refused_with_the_next_opening,
    the_full_loop_challenge_verify_unlock_notify,
    two_agents_unlocking_at_once_unlock_once,
    an_authenticated_sender_can_be_verified_by_call_back,
    an_unauthenticated_sender_needs_the_challenge_or_a_manager,
    an_account_unlocked_another_way_is_resolved_without_unlocking,
    an_admin_may_write_on_behalf_of_an_employee_and_the_organisation_confirms,
);

const REQUEST: &str = "Full name: Jane Doe\nRegistered email: jane@acme.test\nIssue: locked out";

/// Jane, locked, has emailed support; returns the app and the ticket number.
async fn locked_jane_wrote(
    backend: Backend,
    configure: impl FnOnce(rocket::figment::Figment) -> rocket::figment::Figment,
) -> (TestApp, keydesk::ids::TicketNumber) {
    let app = TestApp::with(backend, configure).await;
    let org = app.org("Acme Clinic", "acme", UnlockPolicy::Admins).await;
    app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    app.user("agent@support.test", "Agnes Agent", "agent", None).await;
    app.user("agent2@support.test", "Artur Agent", "agent", None).await;
    app.user("manager@support.test", "Mona Manager", "manager", None).await;
    for _ in 0..5 {
        app.log_in("jane@acme.test", "wrong password").await;
    }
    app.drop_mail(&format!(
        "From: Jane Doe <jane@acme.test>\nTo: support@keydesk.test\nSubject: Locked\nMessage-ID: <q@acme.test>\nAuthentication-Results: mx.keydesk.test; dmarc=pass header.from=acme.test\n\n{REQUEST}\n"
    ));
    app.intake_once().await;
    let number = app.tickets().await[0].id;
    (app, number)
}

async fn token_for(app: &TestApp, email: &str) -> Header<'static> {
    app.bearer(email).await
}

async fn post_json(app: &TestApp, auth: &Header<'static>, path: String, body: Value) -> (Status, Value) {
    let response =
        app.client.post(path).header(auth.clone()).header(ContentType::JSON).body(body.to_string()).dispatch().await;
    let status = response.status();
    (status, response.into_json().await.unwrap_or(Value::Null))
}

async fn an_unverified_ticket_cannot_be_unlocked(backend: Backend) {
    let (app, number) = locked_jane_wrote(backend, |f| f).await;
    let agent = token_for(&app, "agent@support.test").await;
    let (status, body) = post_json(&app, &agent, format!("/api/v1/tickets/{number}/unlock"), json!({})).await;
    let message = "The ticket is not verified: verify the sender first.";
    let refusal = json!({"error": "not_verified", "reason": "not_verified", "message": message});
    assert_eq!((status, body), (Status::Conflict, refusal));
    let jane = app.tickets().await[0].account_user_id.unwrap();
    let still_locked = app
        .services()
        .run(move |conn, _| Ok(keydesk::store::users::find(conn, jane)?.unwrap().locked_at.is_some()))
        .await
        .unwrap();
    assert!(still_locked);
}

async fn outside_working_hours_the_unlock_is_refused_with_the_next_opening(backend: Backend) {
    let today = common::test_start().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let reopening = tomorrow.succ_opt().unwrap();
    let (app, number) = locked_jane_wrote(backend, move |f| {
        f.merge(("working_hours.holidays", [today.to_string(), tomorrow.to_string()]))
            .merge(("verification.trusted_authserv_id", "mx.keydesk.test"))
    })
    .await;
    let agent = token_for(&app, "agent@support.test").await;
    let (status, _) = post_json(
        &app,
        &agent,
        format!("/api/v1/tickets/{number}/verify"),
        json!({"method": "call_back", "note": "called the number on file"}),
    )
    .await;
    assert_eq!(status, Status::Ok);
    let (status, body) = post_json(&app, &agent, format!("/api/v1/tickets/{number}/unlock"), json!({})).await;
    assert_eq!(status, Status::Conflict);
    assert_eq!(body["error"], "outside_working_hours");
    assert_eq!(body["next_opening"], format!("{reopening}T00:00:00Z"));
}

async fn the_full_loop_challenge_verify_unlock_notify(backend: Backend) {
    let (app, number) = locked_jane_wrote(backend, |f| f).await;
    let agent = token_for(&app, "agent@support.test").await;

    let ticket: Value = app
        .client
        .get(format!("/api/v1/tickets/{number}"))
        .header(agent.clone())
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    let checks: Vec<(&str, bool)> = ticket["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["passed"].as_bool().unwrap()))
        .collect();
    assert_eq!(checks.len(), 5);
    assert!(checks.contains(&("sender_authenticated", false)), "no trusted authserv-id is configured: {checks:?}");
    assert!(checks.contains(&("account_locked", true)));
    assert_eq!(ticket["verified"], false);

    // The sender is not authenticated: an agent's own say-so is not enough.
    let (status, body) = post_json(
        &app,
        &agent,
        format!("/api/v1/tickets/{number}/verify"),
        json!({"method": "call_back", "note": "sounds right"}),
    )
    .await;
    assert_eq!(status, Status::Conflict, "{body}");

    let (status, body) = post_json(&app, &agent, format!("/api/v1/tickets/{number}/challenge"), json!({})).await;
    assert_eq!((status, body["sent_to"].as_str()), (Status::Ok, Some("jane@acme.test")));
    let link = app.latest_confirm_path("jane@acme.test").await;
    // Opening the link confirms nothing; pressing the button does.
    assert!(app.client.get(link.clone()).dispatch().await.into_string().await.unwrap().contains("Yes, it was me"));
    let confirmed = app.post_form(&link, &[]).await.into_string().await.unwrap();
    assert!(confirmed.contains("your mailbox is confirmed"));
    assert!(app.post_form(&link, &[]).await.into_string().await.unwrap().contains("cannot be used"), "single use");

    let (status, _) = post_json(
        &app,
        &agent,
        format!("/api/v1/tickets/{number}/verify"),
        json!({"method": "mailbox_confirmed", "note": "followed the link"}),
    )
    .await;
    assert_eq!(status, Status::Ok);
    let (status, body) = post_json(&app, &agent, format!("/api/v1/tickets/{number}/unlock"), json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");

    let ticket: Value = app
        .client
        .get(format!("/api/v1/tickets/{number}"))
        .header(agent.clone())
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    assert_eq!(ticket["status"], "resolved");
    assert_eq!(ticket["verified_by"], "agent@support.test");
    assert_eq!(ticket["account_locked"], false);
    let events: Value = app
        .client
        .get("/api/v1/events?email=jane@acme.test")
        .header(agent.clone())
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    let unlocked = events.as_array().unwrap().iter().find(|e| e["action"] == "Account unlocked").expect("recorded");
    assert_eq!(unlocked["actor"], "agent@support.test");
    assert_eq!(unlocked["detail"], format!("ticket #{number}"));
    let notices: Vec<_> = app
        .mail_to("jane@acme.test")
        .await
        .into_iter()
        .filter(|m| m.subject == "Your account has been unlocked")
        .collect();
    assert_eq!(notices.len(), 1);
    assert!(notices[0].text.contains("Forgot Password"));
}

async fn two_agents_unlocking_at_once_unlock_once(backend: Backend) {
    let (app, number) =
        locked_jane_wrote(backend, |f| f.merge(("verification.trusted_authserv_id", "mx.keydesk.test"))).await;
    let agent = token_for(&app, "agent@support.test").await;
    let other = token_for(&app, "agent2@support.test").await;
    post_json(&app, &agent, format!("/api/v1/tickets/{number}/verify"), json!({"method": "call_back", "note": "ok"}))
        .await;
    let a = app.client.post(format!("/api/v1/tickets/{number}/unlock")).header(agent.clone()).dispatch();
    let b = app.client.post(format!("/api/v1/tickets/{number}/unlock")).header(other.clone()).dispatch();
    let (a, b) = rocket::tokio::join!(a, b);
    let mut statuses = [a.status().code, b.status().code];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let notices = app
        .mail_to("jane@acme.test")
        .await
        .into_iter()
        .filter(|m| m.subject == "Your account has been unlocked")
        .count();
    assert_eq!(notices, 1);
}

async fn an_authenticated_sender_can_be_verified_by_call_back(backend: Backend) {
    let (app, number) =
        locked_jane_wrote(backend, |f| f.merge(("verification.trusted_authserv_id", "mx.keydesk.test"))).await;
    let agent = token_for(&app, "agent@support.test").await;
    let ticket: Value = app
        .client
        .get(format!("/api/v1/tickets/{number}"))
        .header(agent.clone())
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    let authenticated =
        ticket["checks"].as_array().unwrap().iter().find(|c| c["name"] == "sender_authenticated").unwrap().clone();
    assert_eq!(authenticated["passed"], true, "{authenticated}");
    let (status, _) = post_json(
        &app,
        &agent,
        format!("/api/v1/tickets/{number}/verify"),
        json!({"method": "call_back", "note": "called back"}),
    )
    .await;
    assert_eq!(status, Status::Ok);
}

async fn an_unauthenticated_sender_needs_the_challenge_or_a_manager(backend: Backend) {
    let (app, number) =
        locked_jane_wrote(backend, |f| f.merge(("verification.trusted_authserv_id", "another.authserv"))).await;
    let agent = token_for(&app, "agent@support.test").await;
    let manager = token_for(&app, "manager@support.test").await;
    let (status, body) = post_json(
        &app,
        &agent,
        format!("/api/v1/tickets/{number}/verify"),
        json!({"method": "other", "note": "trust me"}),
    )
    .await;
    assert_eq!(status, Status::Conflict, "{body}");
    let (status, _) = post_json(
        &app,
        &manager,
        format!("/api/v1/tickets/{number}/verify"),
        json!({"method": "other", "note": "known to me"}),
    )
    .await;
    assert_eq!(status, Status::Ok);
    let ticket: Value =
        app.client.get(format!("/api/v1/tickets/{number}")).header(agent).dispatch().await.into_json().await.unwrap();
    assert_eq!(ticket["verified_by"], "manager@support.test");
}

async fn an_account_unlocked_another_way_is_resolved_without_unlocking(backend: Backend) {
    let (app, number) =
        locked_jane_wrote(backend, |f| f.merge(("verification.trusted_authserv_id", "mx.keydesk.test"))).await;
    let agent = token_for(&app, "agent@support.test").await;
    post_json(&app, &agent, format!("/api/v1/tickets/{number}/verify"), json!({"method": "call_back", "note": "ok"}))
        .await;
    // Jane's admin unlocked her meanwhile.
    let jane = app.tickets().await[0].account_user_id.unwrap();
    app.lift_lock(jane).await;
    let (status, body) = post_json(&app, &agent, format!("/api/v1/tickets/{number}/unlock"), json!({})).await;
    let message = "The account is already unlocked — resolve without unlocking.";
    let refusal = json!({"error": "not_locked", "reason": "not_locked", "message": message});
    assert_eq!((status, body), (Status::Conflict, refusal));
    let agent_user = app
        .services()
        .run(|conn, _| {
            Ok(keydesk::store::users::find_by_email(
                conn,
                &keydesk_core::EmailAddress::parse("agent@support.test").unwrap(),
            )?
            .unwrap())
        })
        .await
        .unwrap();
    let resolved = app
        .services()
        .run(move |conn, services| {
            keydesk::queue::work::resolve(conn, services, &agent_user, number, "already unlocked by the organisation")
        })
        .await
        .unwrap();
    assert!(resolved);
    assert_eq!(app.tickets().await[0].status, TicketStatus::Resolved);
}

async fn an_admin_may_write_on_behalf_of_an_employee_and_the_organisation_confirms(backend: Backend) {
    let app = TestApp::with(backend, |f| f.merge(("verification.trusted_authserv_id", "mx.keydesk.test"))).await;
    let org = app.org("Acme Clinic", "acme", UnlockPolicy::OwnerPin).await;
    app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    app.user("adam@acme.test", "Adam Admin", "admin", Some(&org)).await;
    app.user("agent@support.test", "Agnes Agent", "agent", None).await;
    for _ in 0..5 {
        app.log_in("jane@acme.test", "wrong password").await;
    }
    // Signed by the clinic's mail server: the requester is authenticated.
    app.drop_mail("From: Adam Admin <adam@acme.test>\nTo: support@keydesk.test\nSubject: Please unlock Jane\nMessage-ID: <behalf@acme.test>\nAuthentication-Results: mx.keydesk.test; dkim=pass header.d=acme.test\n\nOur owner is away. Employee name: Jane Doe\nRegistered email: jane@acme.test\nIssue: locked out, I confirm it is her.\n");
    app.intake_once().await;
    let number = app.tickets().await[0].id;
    let agent = token_for(&app, "agent@support.test").await;
    let ticket: Value = app
        .client
        .get(format!("/api/v1/tickets/{number}"))
        .header(agent.clone())
        .dispatch()
        .await
        .into_json()
        .await
        .unwrap();
    assert_eq!(ticket["account"], "jane@acme.test", "linked to the employee named in the mail");
    assert_eq!(ticket["requester"]["email"], "adam@acme.test");
    assert_eq!(ticket["requester"]["role"], "admin");
    app.logged_in_as("agent@support.test").await;
    let page = app.client.get(format!("/tickets/{number}")).dispatch().await.into_string().await.unwrap();
    let at: String = page.find("id=\"requester\"").map(|i| page[i..].chars().take(300).collect()).unwrap_or_default();
    assert!(at.contains("behalf by <strong>Adam Admin</strong>"), "the ticket page shows the requester: {at}");
    assert!(page.contains("<strong>admin</strong> of the organisation"));
    let (status, body) = post_json(
        &app,
        &agent,
        format!("/api/v1/tickets/{number}/verify"),
        json!({"method": "confirmed_by_organisation", "note": "Adam vouched"}),
    )
    .await;
    assert_eq!(status, Status::Ok, "{body}");
    let (status, _) = post_json(&app, &agent, format!("/api/v1/tickets/{number}/unlock"), json!({})).await;
    assert_eq!(status, Status::Ok);
}
