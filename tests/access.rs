//! Every mounted route against every role: who gets in, who is sent to log in, who is
//! refused. The tables below are the access policy, one row per route as Rocket mounts it;
//! `every_mounted_route_has_a_row` reads the application's own route list, so a route added
//! without a row here fails the suite.

mod common;

use common::{Backend, TestApp};
use keydesk_core::UnlockPolicy;
use rocket::http::{ContentType, Header, Method, Status};
use std::collections::BTreeSet;

on_both_backends!(
    every_mounted_route_has_a_row,
    every_page_refuses_the_roles_that_may_not_use_it,
    every_form_refuses_the_roles_that_may_not_use_it,
    every_api_route_refuses_the_callers_that_may_not_use_it
);

const ROLES: [&str; 7] = ["anonymous", "member", "admin", "owner", "agent", "manager", "operator"];

/// Pages (GET), as (route as mounted, a path to try, the answer per role in the order of
/// `ROLES`): O = 200, L = redirect to /login, R = redirect elsewhere, F = 403 Forbidden,
/// U = 401 (a bearer token is asked for, whoever is signed in).
const PAGES: &[(&str, &str, &str)] = &[
    ("/", "/", "LOOOOOO"),
    ("/org/users", "/org/users", "LFOOFFF"),
    ("/org/users/new", "/org/users/new", "LFOOFFF"),
    ("/org/users/<id>/edit", "/org/users/{member}/edit", "LFOOFFF"),
    ("/org/users/<id>/unlock", "/org/users/{member}/unlock", "LFOOFFF"),
    ("/org/users/<id>/unlock/pin", "/org/users/{member}/unlock/pin", "LFOOFFF"),
    ("/activities", "/activities", "LFOOOOF"),
    ("/intake", "/intake", "LFFFOOO"),
    ("/intake/quarantine/<id>/discard", "/intake/quarantine/{quarantined}/discard", "LFFFOOO"),
    ("/intake/messages/<id>/raw", "/intake/messages/{quarantined}/raw", "LFFFOOO"),
    ("/queue", "/queue", "LFFFOOF"),
    ("/queue", "/queue?status=all&org=acme&verified=no&hours=in&mine=yes", "LFFFOOF"),
    ("/tickets/<number>", "/tickets/{ticket}", "LFFFOOF"),
    ("/tickets/<number>", "/tickets/{ticket}?canned=1", "LFFFOOF"),
    ("/tickets/<number>/presence", "/tickets/{ticket}/presence", "LFFFOOF"),
    ("/queue/next", "/queue/next?after={ticket}", "LFFFRRF"),
    ("/queue", "/queue?q=member%40acme.test", "LFFFOOF"),
    // Where a completed sign-in goes: each role's start page (or where they were going).
    ("/start", "/start", "LRRRRRR"),
    ("/canned-replies", "/canned-replies", "LFFFFOF"),
    ("/tickets/<number>/attachments/<id>", "/tickets/{ticket}/attachments/{attachment}", "LFFFOOF"),
    // Reports: managers (everything), agents (their own), owners (their organisation's).
    ("/reports", "/reports", "LFFOOOF"),
    ("/reports", "/reports?from=2026-01-01&to=2026-01-31", "LFFOOOF"),
    ("/reports", "/reports?org=acme", "LFFOOOF"),
    ("/reports/tickets.csv", "/reports/tickets.csv", "LFFOOOF"),
    ("/reports/summary.csv", "/reports/summary.csv?org=acme", "LFFOOOF"),
    ("/login", "/login", "OOOOOOO"),
    ("/forgot-password", "/forgot-password", "OOOOOOO"),
    // Links from emails: anyone holding the link (an unknown token just says so).
    ("/reset-password/<token>", "/reset-password/not-a-token", "OOOOOOO"),
    ("/confirm/<token>", "/confirm/not-a-token", "OOOOOOO"),
    ("/healthz", "/healthz", "OOOOOOO"),
    // Prometheus reads it with `metrics.token` (set below); no session is a token.
    ("/metrics", "/metrics", "UUUUUUU"),
    // Second factors: everyone's own Security page; the code page only mid-sign-in (a signed-in
    // person is sent home); the Staff page for managers.
    ("/security", "/security", "LOOOOOO"),
    ("/security/totp", "/security/totp", "LOOOOOO"),
    ("/login/code", "/login/code", "LRRRRRR"),
    ("/staff", "/staff", "LFFFFOF"),
    ("/static/<path..>", "/static/keydesk.css", "OOOOOOO"),
];

/// State-changing forms (POST, with a valid CSRF token): S = allowed (any answer that is
/// not a refusal), L = redirect to /login, F = 403.
const FORMS: &[(&str, &str, &str)] = &[
    ("/org/users", "/org/users", "LFSSFFF"),
    ("/org/users/<id>", "/org/users/{member}", "LFSSFFF"),
    ("/org/users/<id>/unlock", "/org/users/{member}/unlock", "LFSSFFF"),
    ("/org/users/<id>/unlock/pin", "/org/users/{member}/unlock/pin", "LFSSFFF"),
    ("/intake/quarantine/<id>/reprocess", "/intake/quarantine/{quarantined}/reprocess", "LFFFSSS"),
    ("/intake/quarantine/<id>/discard", "/intake/quarantine/{quarantined}/discard", "LFFFSSS"),
    ("/tickets/<number>/take", "/tickets/{ticket}/take", "LFFFSSF"),
    ("/tickets/<number>/note", "/tickets/{ticket}/note", "LFFFSSF"),
    ("/tickets/<number>/reply", "/tickets/{ticket}/reply", "LFFFSSF"),
    ("/tickets/<number>/challenge", "/tickets/{ticket}/challenge", "LFFFSSF"),
    ("/tickets/<number>/verify", "/tickets/{ticket}/verify", "LFFFSSF"),
    ("/tickets/<number>/waiting", "/tickets/{ticket}/waiting", "LFFFSSF"),
    ("/tickets/<number>/resolve", "/tickets/{ticket}/resolve", "LFFFSSF"),
    ("/tickets/<number>/unlock", "/tickets/{ticket}/unlock", "LFFFSSF"),
    // Canned replies are the managers' to keep.
    ("/canned-replies", "/canned-replies", "LFFFFSF"),
    ("/canned-replies/<id>", "/canned-replies/1", "LFFFFSF"),
    ("/canned-replies/<id>/delete", "/canned-replies/2", "LFFFFSF"),
    // Approving an unlock is a manager's: a second person who is not the agent.
    ("/tickets/<number>/approve", "/tickets/{ticket}/approve", "LFFFFSF"),
    ("/logout", "/logout", "LSSSSSS"),
    ("/security/totp/start", "/security/totp/start", "LSSSSSS"),
    ("/security/totp/confirm", "/security/totp/confirm", "LSSSSSS"),
    ("/login/code", "/login/code", "LSSSSSS"),
    // Resetting a second factor: an owner for their people (an admin is answered 404: the
    // rule says no), a manager for staff.
    ("/org/users/<id>/second-factor/reset", "/org/users/{member}/second-factor/reset", "LFSSFFF"),
    ("/staff/<id>/second-factor/reset", "/staff/{member}/second-factor/reset", "LFFFFSF"),
    // Public forms: anyone may ask, the answers say nothing about who exists.
    ("/login", "/login", "SSSSSSS"),
    ("/forgot-password", "/forgot-password", "SSSSSSS"),
    ("/reset-password/<token>", "/reset-password/not-a-token", "SSSSSSS"),
    ("/confirm/<token>", "/confirm/not-a-token", "SSSSSSS"),
];

/// The JSON API, per caller: no token, a wrong token, an agent's, a manager's, an
/// operator's token. U = 401, F = 403, S = allowed (any answer that is not a refusal).
const API_CALLERS: [&str; 5] = ["none", "wrong", "agent", "manager", "operator"];
const API: &[(Method, &str, &str, &str)] = &[
    (Method::Get, "/api/v1/accounts/<email>", "/api/v1/accounts/member@acme.test", "UUSSF"),
    (Method::Get, "/api/v1/events", "/api/v1/events?email=member@acme.test", "UUSSF"),
    (Method::Get, "/api/v1/tickets", "/api/v1/tickets", "UUSSF"),
    (Method::Get, "/api/v1/tickets/<number>", "/api/v1/tickets/{ticket}", "UUSSF"),
    (Method::Post, "/api/v1/tickets/<number>/verify", "/api/v1/tickets/{ticket}/verify", "UUSSF"),
    (Method::Post, "/api/v1/tickets/<number>/challenge", "/api/v1/tickets/{ticket}/challenge", "UUSSF"),
    (Method::Post, "/api/v1/tickets/<number>/unlock", "/api/v1/tickets/{ticket}/unlock", "UUSSF"),
    (Method::Post, "/api/v1/tickets/<number>/approve", "/api/v1/tickets/{ticket}/approve", "UUFSF"),
    (Method::Post, "/api/v1/tickets/<number>/notes", "/api/v1/tickets/{ticket}/notes", "UUSSF"),
    (Method::Get, "/api/v1/quarantine", "/api/v1/quarantine", "UUSSF"),
    (Method::Get, "/api/v1/reports/service-hours", "/api/v1/reports/service-hours", "UUSSF"),
];

/// The ids a path's placeholders stand for.
struct Ids {
    member: i64,
    ticket: i64,
    attachment: i64,
    quarantined: i64,
}

impl Ids {
    fn fill(&self, path: &str) -> String {
        path.replace("{member}", &self.member.to_string())
            .replace("{ticket}", &self.ticket.to_string())
            .replace("{attachment}", &self.attachment.to_string())
            .replace("{quarantined}", &self.quarantined.to_string())
    }
}

async fn staffed_app(backend: Backend) -> (TestApp, Ids) {
    let app = TestApp::with(backend, |figment| figment.merge(("metrics.token", "access-test-metrics-token"))).await;
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    let member = app.user("member@acme.test", "Mia Member", "member", Some(&org)).await;
    app.user("admin@acme.test", "Adam Admin", "admin", Some(&org)).await;
    app.user("owner@acme.test", "Olive Owner", "owner", Some(&org)).await;
    for staff in ["agent", "manager", "operator"] {
        app.user(&format!("{staff}@support.test"), &format!("Sam {staff}"), staff, None).await;
    }
    // One ticket, from the member, with an attachment, for the queue's pages and forms; and
    // one message in quarantine.
    app.drop_mail("From: Mia Member <member@acme.test>\nTo: support@keydesk.test\nSubject: Locked\nMessage-ID: <access@acme.test>\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nFull name: Mia Member\nRegistered email: member@acme.test\nIssue: locked out\n--b\nContent-Type: image/png\nContent-Disposition: attachment; filename=screen.png\n\nnot really a png\n--b--\n");
    app.drop_mail("Subject: nobody wrote this\n\nno sender at all");
    app.intake_once().await;
    let ticket = app.tickets().await[0].id;
    let attachment = app.attachments_of(ticket).await[0].id;
    let quarantined = app.ledger(keydesk_core::intake::LedgerOutcome::Quarantined).await[0].id.0;
    (app, Ids { member: member.id.0, ticket: ticket.0, attachment, quarantined })
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

async fn every_mounted_route_has_a_row(backend: Backend) {
    let (app, _) = staffed_app(backend).await;
    let row = |method: Method, route: &str| format!("{method} {route}");
    let mut listed: BTreeSet<String> = BTreeSet::new();
    listed.extend(PAGES.iter().map(|(route, _, _)| row(Method::Get, route)));
    listed.extend(FORMS.iter().map(|(route, _, _)| row(Method::Post, route)));
    listed.extend(API.iter().map(|(method, route, _, _)| row(*method, route)));
    let mounted: BTreeSet<String> = app.client.rocket().routes().map(|r| row(r.method, r.uri.path())).collect();
    let unlisted: Vec<_> = mounted.difference(&listed).collect();
    assert!(unlisted.is_empty(), "routes with no row in the access tables: {unlisted:?}");
    let gone: Vec<_> = listed.difference(&mounted).collect();
    assert!(gone.is_empty(), "rows for routes that are not mounted: {gone:?}");
}

async fn every_page_refuses_the_roles_that_may_not_use_it(backend: Backend) {
    let (app, ids) = staffed_app(backend).await;
    let mut mismatches = vec![];
    for (index, role) in ROLES.iter().enumerate() {
        sign_in_as(&app, role).await;
        for (_, path, expected) in PAGES {
            let path = ids.fill(path);
            let response = app.client.get(path.clone()).dispatch().await;
            let status = response.status();
            let location = response.headers().get_one("Location").map(str::to_owned);
            let got = match (status, location.as_deref()) {
                (Status::Ok, _) => 'O',
                (Status::SeeOther, Some("/login")) => 'L',
                (Status::SeeOther, Some(_)) => 'R',
                (Status::Forbidden, _) => 'F',
                (Status::Unauthorized, None) => 'U',
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
        for (_, path, expected) in FORMS {
            sign_in_as(&app, role).await;
            let path = ids.fill(path);
            let fields = [
                ("email", "member@acme.test"),
                ("full_name", "Mia Member"),
                ("role", "member"),
                ("pin", "000000"),
                ("text", "a note or a reply"),
                ("method", "call_back"),
                ("note", "access test"),
                ("password", "a wrong password"),
                ("code", "000000"),
                ("reason", "access test"),
            ];
            let response = app.post_form(&path, &fields).await;
            let status = response.status();
            let location = response.headers().get_one("Location").map(str::to_owned);
            let got = match (status, location.as_deref()) {
                (Status::SeeOther, Some("/login")) if !path.starts_with("/logout") || role == &"anonymous" => 'L',
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
    let (app, ids) = staffed_app(backend).await;
    let mut tokens = vec![None, Some("not-a-token".to_owned())];
    for staff in ["agent", "manager", "operator"] {
        let token = app.try_api_token(&email_of(staff)).await.unwrap();
        tokens.push(Some(token.expose().to_owned()));
    }
    let mut mismatches = vec![];
    for (index, token) in tokens.iter().enumerate() {
        for (method, _, path, expected) in API {
            let path = ids.fill(path);
            let mut request = app.client.req(*method, path.clone()).header(ContentType::JSON).body("{}");
            if let Some(token) = token {
                request = request.header(Header::new("Authorization", format!("Bearer {token}")));
            }
            let response = request.dispatch().await;
            let status = response.status();
            let body: serde_json::Value = response.into_json().await.unwrap_or_default();
            let got = match status {
                Status::Unauthorized => 'U',
                Status::Forbidden => 'F',
                s if s.code < 500 => 'S',
                _ => '?',
            };
            let want = expected.chars().nth(index).unwrap();
            if got != want {
                mismatches
                    .push(format!("{} {method} {path}: expected {want}, got {status} {body}", API_CALLERS[index]));
            }
            assert!(body.is_object() || body.is_array(), "{method} {path} answers JSON, even refusing: {status}");
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    // Organisation people cannot hold API tokens at all.
    for person in ["member@acme.test", "admin@acme.test", "owner@acme.test"] {
        assert!(app.try_api_token(person).await.is_err(), "{person} got a token");
    }
}
