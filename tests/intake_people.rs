//! What people send, through the whole intake: a manager forwarding the locked user's own
//! message links the ticket to that user; an admin writing for an employee does not lend
//! the ticket their own name; a German Outlook reply's quoted history gives no fields; and
//! a big message being parsed never holds up a login (SQLite's single writer is not held
//! while mail is read).

mod common;

use common::{Backend, TestApp};
use keydesk_core::UnlockPolicy;
use rocket::http::Status;

on_both_backends!(
    a_forwarded_request_is_linked_to_the_person_who_wrote_it,
    an_admin_writing_for_an_employee_does_not_lend_their_name,
    quoted_history_in_german_outlook_gives_no_fields,
    a_login_during_a_big_parse_goes_through,
);

async fn acme(backend: Backend) -> TestApp {
    let app = TestApp::new(backend).await;
    let org = app.org("Acme Clinic", "acme", UnlockPolicy::Admins).await;
    app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    app.user("adam@acme.test", "Adam Admin", "admin", Some(&org)).await;
    app
}

async fn a_forwarded_request_is_linked_to_the_person_who_wrote_it(backend: Backend) {
    let app = acme(backend).await;
    app.drop_mail(
        "From: Max Manager <max@acme.test>\nSubject: Fwd: Locked out\nMessage-ID: <fwd@acme.test>\n\n\
         FYI, see below.\n\n---------- Forwarded message ---------\nFrom: Jane Doe <jane@acme.test>\n\
         Date: Mon, 23 Nov 2026 08:10\nSubject: Locked out\nTo: Max Manager <max@acme.test>\n\n\
         Name: Jane Doe\nKeydesk login: jane@acme.test\nMy account is locked since this morning.\n",
    );
    app.intake_once().await;
    let ticket = app.tickets().await.remove(0);
    let jane = app.reload_email("jane@acme.test").await;
    assert_eq!(ticket.account_user_id, Some(jane.id), "linked to the locked user, not the forwarder");
    assert_eq!(ticket.full_name.as_deref(), Some("Jane Doe"));
    assert_eq!(ticket.description.as_deref(), Some("My account is locked since this morning."));
    assert_eq!(ticket.sender, "max@acme.test", "the forwarder is who wrote to support");
}

async fn an_admin_writing_for_an_employee_does_not_lend_their_name(backend: Backend) {
    let app = acme(backend).await;
    app.drop_mail(
        "From: Adam Admin <adam@acme.test>\nSubject: Please unlock\nMessage-ID: <adam@acme.test>\n\n\
         Hello, please unlock jane@acme.test, she is locked out and needs the system today.\n",
    );
    app.intake_once().await;
    let ticket = app.tickets().await.remove(0);
    let (jane, adam) = (app.reload_email("jane@acme.test").await, app.reload_email("adam@acme.test").await);
    assert_eq!((ticket.account_user_id, ticket.requester_user_id), (Some(jane.id), Some(adam.id)));
    assert_eq!(ticket.full_name, None, "Adam's name is not Jane's; the agent asks for it");
}

async fn quoted_history_in_german_outlook_gives_no_fields(backend: Backend) {
    let app = acme(backend).await;
    app.drop_mail(
        "From: Jane Doe <jane@acme.test>\nSubject: AW: Ihr Konto\nMessage-ID: <de@acme.test>\n\n\
         Danke, es geht wieder nicht. Bitte nochmal entsperren.\n\nViele Grüße\nJane\n\n\
         -----Ursprüngliche Nachricht-----\nVon: Someone Else [mailto:other@elsewhere.test]\n\
         Gesendet: Montag, 23. November 2026 09:12\nAn: Jane Doe\nBetreff: Ihr Konto\n\n\
         Name: Someone Else\nE-Mail-Adresse: other@elsewhere.test\n",
    );
    app.intake_once().await;
    let ticket = app.tickets().await.remove(0);
    assert_eq!(ticket.registered_email.as_deref(), Some("jane@acme.test"), "not the quoted address");
    assert_eq!(ticket.description.as_deref(), Some("Danke, es geht wieder nicht. Bitte nochmal entsperren."));
}

async fn a_login_during_a_big_parse_goes_through(backend: Backend) {
    let app = acme(backend).await;
    // Deep, wide HTML: seconds of parsing in a debug build.
    let html = format!(
        "<html><body>{}{}</body></html>",
        "<div><p>Locked out, please help.</p>".repeat(20_000),
        "</div>".repeat(20_000)
    );
    app.drop_mail(&format!(
        "From: Jane Doe <jane@acme.test>\nSubject: Locked\nMessage-ID: <big@acme.test>\nContent-Type: text/html\n\n{html}"
    ));
    let services = app.services().clone();
    let intake = rocket::tokio::spawn(async move { keydesk::intake::worker::run_once(&services).await });
    rocket::tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let started = std::time::Instant::now();
    let login = app.log_in("adam@acme.test", common::PASSWORD).await;
    assert_eq!(login.status(), Status::SeeOther, "the login is not held up by the parse");
    let waited = started.elapsed();
    let summary = intake.await.unwrap().unwrap();
    assert_eq!(summary.new_tickets, 1);
    println!("login took {waited:?} while intake parsed");
}
