//! Every page and API route against every role: who gets in, who is sent to log in, who is
//! refused. The tables below are the access policy; a new route must be added here.

mod common;

use common::{Backend, TestApp};
use keydesk_core::UnlockPolicy;
use rocket::http::{Header, Status};

on_both_backends!(
    every_page_refuses_the_roles_that_may_not_use_it,
    every_form_refuses_the_roles_that_may_not_use_it,
    every_api_route_refuses_the_callers_that_may_not_use_it
);

const ROLES: [&str; 7] = ["anonymous", "member", "admin", "owner", "agent", "manager", "operator"];

/// Expected answer per role, in the order of `ROLES`: O = 200, L = redirect to /login,
/// F = 403 Forbidden.
const PAGES: &[(&str, &str)] = &[
    ("/", "LOOOOOO"),
    ("/org/users", "LFOOFFF"),
    ("/org/users/new", "LFOOFFF"),
    ("/org/users/{member}/edit", "LFOOFFF"),
    ("/org/users/{member}/unlock", "LFOOFFF"),
    ("/org/users/{member}/unlock/pin", "LFOOFFF"),
    ("/activities", "LFOOOOF"),
    ("/intake", "LFFFOOO"),
    ("/queue", "LFFFOOF"),
    ("/queue?status=all&org=acme&verified=no&hours=in&mine=yes", "LFFFOOF"),
    ("/tickets/{ticket}", "LFFFOOF"),
    // Reports: managers (everything), agents (their own), owners (their organisation's).
    ("/reports", "LFFOOOF"),
    ("/reports?from=2026-01-01&to=2026-01-31", "LFFOOOF"),
    ("/reports?org=acme", "LFFOOOF"),
    ("/reports/tickets.csv", "LFFOOOF"),
    ("/reports/summary.csv?org=acme", "LFFOOOF"),
    ("/login", "OOOOOOO"),
    ("/forgot-password", "OOOOOOO"),
    ("/healthz", "OOOOOOO"),
];

/// State-changing forms (with a valid CSRF token): S = allowed (any non-refusal answer),
/// L = redirect to /login, F = 403.
const FORMS: &[(&str, &str)] = &[
    ("/org/users", "LFSSFFF"),
    ("/org/users/{member}", "LFSSFFF"),
    ("/org/users/{member}/unlock", "LFSSFFF"),
    ("/org/users/{member}/unlock/pin", "LFSSFFF"),
    ("/intake/quarantine/{quarantined}/reprocess", "LFFFSSS"),
    ("/intake/quarantine/{quarantined}/discard", "LFFFSSS"),
    ("/tickets/{ticket}/take", "LFFFSSF"),
    ("/tickets/{ticket}/note", "LFFFSSF"),
    ("/tickets/{ticket}/reply", "LFFFSSF"),
    ("/tickets/{ticket}/challenge", "LFFFSSF"),
    ("/tickets/{ticket}/verify", "LFFFSSF"),
    ("/tickets/{ticket}/waiting", "LFFFSSF"),
    ("/tickets/{ticket}/resolve", "LFFFSSF"),
    ("/tickets/{ticket}/unlock", "LFFFSSF"),
];

/// The ids a path's placeholders stand for.
struct Ids {
    member: i64,
    ticket: i64,
}

impl Ids {
    fn fill(&self, path: &str) -> String {
        path.replace("{member}", &self.member.to_string()).replace("{ticket}", &self.ticket.to_string())
    }
}

async fn staffed_app(backend: Backend) -> (TestApp, Ids) {
    let app = TestApp::new(backend).await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    let member = app.user("member@acme.test", "Mia Member", "member", Some(&org)).await;
    app.user("admin@acme.test", "Adam Admin", "admin", Some(&org)).await;
    app.user("owner@acme.test", "Olive Owner", "owner", Some(&org)).await;
    for staff in ["agent", "manager", "operator"] {
        app.user(&format!("{staff}@support.test"), &format!("Sam {staff}"), staff, None).await;
    }
    // One ticket, from the member, for the queue's pages and forms.
    app.drop_mail("From: Mia Member <member@acme.test>\nTo: support@keydesk.test\nSubject: Locked\nMessage-ID: <access@acme.test>\n\nFull name: Mia Member\nRegistered email: member@acme.test\nIssue: locked out\n");
    app.intake_once().await;
    let ticket = app.tickets().await[0].id;
    (app, Ids { member: member.id.0, ticket: ticket.0 })
}

fn email_of(role: &str) -> String {
    match role {
        "member" | "admin" | "owner" => format!("{role}@acme.test"),
        staff => format!("{staff}@support.test"),
    }
}

async fn sign_in_as(app: &TestApp, role: &str) {
    // A fresh session each time: log out whoever was signed in.
    app.client.cookies().iter().map(|c| c.name().to_owned()).collect::<Vec<_>>().into_iter().for_each(|name| {
        app.client.cookies().remove(name);
    });
    if role != "anonymous" {
        app.logged_in_as(&email_of(role)).await;
    }
}

async fn every_page_refuses_the_roles_that_may_not_use_it(backend: Backend) {
    let (app, ids) = staffed_app(backend).await;
    let mut mismatches = vec![];
    for (index, role) in ROLES.iter().enumerate() {
        sign_in_as(&app, role).await;
        for (path, expected) in PAGES {
            let path = ids.fill(path);
            let response = app.client.get(path.clone()).dispatch().await;
            let status = response.status();
            let location = response.headers().get_one("Location").map(str::to_owned);
            let got = match (status, location.as_deref()) {
                (Status::Ok, _) => 'O',
                (Status::SeeOther, Some("/login")) => 'L',
                (Status::Forbidden, _) => 'F',
                _ => '?',
            };
            let want = expected.chars().nth(index).unwrap();
            if got != want {
                mismatches.push(format!("{role} GET {path}: expected {want}, got {status} {location:?}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

async fn every_form_refuses_the_roles_that_may_not_use_it(backend: Backend) {
    let (app, ids) = staffed_app(backend).await;
    let mut mismatches = vec![];
    for (index, role) in ROLES.iter().enumerate() {
        for (path, expected) in FORMS {
            sign_in_as(&app, role).await;
            // A quarantine entry that does not exist: allowed roles get 404, others 403.
            let path = ids.fill(path).replace("{quarantined}", "999999");
            let fields = [
                ("email", "member@acme.test"),
                ("full_name", "Mia Member"),
                ("role", "member"),
                ("pin", "000000"),
                ("text", "a note or a reply"),
                ("method", "call_back"),
                ("note", "access test"),
            ];
            let response = app.post_form(&path, &fields).await;
            let status = response.status();
            let location = response.headers().get_one("Location").map(str::to_owned);
            let got = match (status, location.as_deref()) {
                (Status::SeeOther, Some("/login")) => 'L',
                (Status::Forbidden, _) => 'F',
                (Status::Unauthorized, _) => 'L',
                (s, _) if s.code < 500 => 'S',
                _ => '?',
            };
            let want = expected.chars().nth(index).unwrap();
            if got != want {
                mismatches.push(format!("{role} POST {path}: expected {want}, got {status} {location:?}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

async fn every_api_route_refuses_the_callers_that_may_not_use_it(backend: Backend) {
    let (app, _) = staffed_app(backend).await;
    let routes =
        ["/api/v1/accounts/member@acme.test", "/api/v1/events?email=member@acme.test", "/api/v1/reports/service-hours"];
    for route in routes {
        let anonymous = app.client.get(route).dispatch().await;
        assert_eq!(anonymous.status(), Status::Unauthorized, "{route} without a token");
        let wrong = app.client.get(route).header(Header::new("Authorization", "Bearer not-a-token")).dispatch().await;
        assert_eq!(wrong.status(), Status::Unauthorized, "{route} with a wrong token");
    }
    for (staff, expected) in [("agent", Status::Ok), ("manager", Status::Ok), ("operator", Status::Forbidden)] {
        let email = email_of(staff);
        let token = app
            .services()
            .run(move |conn, services| {
                keydesk::accounts::users::create_api_token(
                    conn,
                    &email,
                    &keydesk::store::events::Actor::System("test"),
                    services.stored_now(),
                )
            })
            .await
            .unwrap();
        for route in routes {
            let response = app
                .client
                .get(route)
                .header(Header::new("Authorization", format!("Bearer {}", token.expose())))
                .dispatch()
                .await;
            assert_eq!(response.status(), expected, "{staff} GET {route}");
        }
    }
    // Organisation people cannot hold API tokens at all.
    for person in ["member@acme.test", "admin@acme.test", "owner@acme.test"] {
        let refused = app
            .services()
            .run(move |conn, services| {
                keydesk::accounts::users::create_api_token(
                    conn,
                    person,
                    &keydesk::store::events::Actor::System("test"),
                    services.stored_now(),
                )
            })
            .await;
        assert!(refused.is_err(), "{person} got a token");
    }
}
