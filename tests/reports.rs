//! Service-hours reports through the real stack: a week of history written with known
//! timestamps (the same week the core's hand-worked tests use, on a London desk with a
//! Wednesday holiday and the clock change inside the range), read back over the API, the
//! page and the CSV exports, on both databases; who may see which figures; bad ranges.

mod common;

use chrono::NaiveDateTime;
use common::{Backend, TestApp};
use diesel::prelude::*;
use keydesk::db::schema::{events, ticket_events, tickets};
use keydesk::store::users::User;
use keydesk_core::UnlockPolicy;
use rocket::http::{Header, Status};
use serde_json::{json, Value};

on_both_backends!(
    the_api_reproduces_the_hand_worked_week,
    an_organisation_filter_and_an_agent_filter_narrow_the_figures,
    each_role_sees_its_own_scope,
    the_csv_exports_hold_every_ticket_and_the_summary,
    bad_ranges_get_a_clear_error_and_an_empty_range_zeros,
    a_ticket_worked_through_the_queue_shows_in_todays_report,
    a_forged_request_is_recorded_and_counted_as_a_suspected_spoof,
    the_page_flags_targets_below_the_goal_and_lists_every_breach,
);

const RANGE: &str = "from=2026-10-19&to=2026-10-26";

struct Week {
    app: TestApp,
    agent_a: User,
    agent_b: User,
}

fn time(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
}

/// The hand-worked week (see core/src/reports/tests.rs for the sums), all times UTC.
async fn week(backend: Backend) -> Week {
    let app = TestApp::with(backend, |f| {
        f.merge(("working_hours.timezone", "Europe/London"))
            .merge(("working_hours.days", ["mon", "tue", "wed", "thu", "fri"]))
            .merge(("working_hours.open", "09:00"))
            .merge(("working_hours.close", "17:00"))
            .merge(("working_hours.holidays", ["2026-10-21"]))
            .merge(("sla.first_response", "1h"))
            .merge(("sla.unlock", "4h"))
    })
    .await;
    let acme = app.org("Acme Clinic", "acme", UnlockPolicy::Admins).await;
    let globex = app.org("Globex", "globex", UnlockPolicy::Admins).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&acme)).await;
    app.user("owner@acme.test", "Olive Owner", "owner", Some(&acme)).await;
    let admin = app.user("admin@acme.test", "Adam Admin", "admin", Some(&acme)).await;
    let gus = app.user("gus@globex.test", "Gus Globex", "member", Some(&globex)).await;
    app.user("owner@globex.test", "Greta Owner", "owner", Some(&globex)).await;
    let agent_a = app.user("agent@support.test", "Agnes Agent", "agent", None).await;
    let agent_b = app.user("agent2@support.test", "Artur Agent", "agent", None).await;
    app.user("manager@support.test", "Mona Manager", "manager", None).await;
    app.user("operator@support.test", "Otto Operator", "operator", None).await;

    let (a, b) = (Some(agent_a.id.0), Some(agent_b.id.0));
    type Step<'a> = (&'a str, &'a str, Option<i64>);
    // (received, account, status, verification method, history)
    type Planned<'a> = (&'a str, Option<i64>, &'a str, Option<&'a str>, Vec<Step<'a>>);
    let tickets: Vec<Planned> = vec![
        (
            "2026-10-19 08:30",
            Some(jane.id.0),
            "resolved",
            Some("call_back"),
            vec![
                ("2026-10-19 08:30", "received", None),
                ("2026-10-19 08:30", "acknowledged", None),
                ("2026-10-19 08:45", "assigned", a),
                ("2026-10-19 09:00", "agent_replied", a),
                ("2026-10-19 09:30", "verified", a),
                ("2026-10-19 10:00", "unlocked", a),
                ("2026-10-19 10:00", "resolved", a),
            ],
        ),
        (
            "2026-10-20 17:30",
            Some(jane.id.0),
            "resolved",
            Some("confirmed_by_owner"),
            vec![
                ("2026-10-20 17:30", "received", None),
                ("2026-10-22 08:45", "verified", b),
                ("2026-10-22 13:00", "unlocked", b),
                ("2026-10-22 13:00", "resolved", b),
            ],
        ),
        (
            "2026-10-23 15:00",
            Some(gus.id.0),
            "resolved",
            Some("mailbox_confirmed"),
            vec![
                ("2026-10-23 15:00", "received", None),
                ("2026-10-23 15:30", "agent_replied", a),
                ("2026-10-23 15:30", "waiting_on_user", a),
                ("2026-10-26 09:30", "user_replied", None),
                ("2026-10-26 09:45", "verified", a),
                ("2026-10-26 10:00", "unlocked", a),
                ("2026-10-26 10:00", "resolved", a),
            ],
        ),
        (
            "2026-10-24 10:00",
            Some(gus.id.0),
            "open",
            None,
            vec![("2026-10-24 10:00", "received", None), ("2026-10-24 10:00", "spoof_suspected", None)],
        ),
        (
            "2026-10-26 16:30",
            None,
            "open",
            Some("other"),
            vec![
                ("2026-10-26 16:30", "received", None),
                ("2026-10-26 16:40", "challenge_sent", b),
                ("2026-10-27 10:00", "verified", b),
            ],
        ),
        (
            "2026-10-19 12:00",
            Some(jane.id.0),
            "resolved",
            None,
            vec![
                ("2026-10-19 12:00", "received", None),
                ("2026-10-19 12:30", "note", b),
                ("2026-10-19 12:30", "resolved", b),
            ],
        ),
        // Before the range: open until Tuesday, so in Monday's backlog only.
        (
            "2026-10-16 10:00",
            Some(jane.id.0),
            "resolved",
            None,
            vec![("2026-10-16 10:00", "received", None), ("2026-10-20 09:00", "resolved", b)],
        ),
        // After the range: never counted.
        ("2026-10-27 09:00", Some(jane.id.0), "open", None, vec![("2026-10-27 09:00", "received", None)]),
    ];
    // Unlocks in the activity log: self-serve by Acme's admin, support, an expired lock,
    // and one after the range.
    let unlocks = [
        ("2026-10-19 10:00", Some(agent_a.id), "agent@support.test", acme.id),
        ("2026-10-20 11:00", Some(admin.id), "admin@acme.test", acme.id),
        ("2026-10-22 02:00", None, "Keydesk", globex.id),
        ("2026-11-02 11:00", Some(admin.id), "admin@acme.test", acme.id),
    ];
    app.services()
        .run(move |conn, _| {
            for (received, account, status, method, steps) in &tickets {
                let id: i64 = diesel::insert_into(tickets::table)
                    .values((
                        tickets::status.eq(*status),
                        tickets::received_at.eq(time(received)),
                        tickets::sender.eq("someone@example.test"),
                        tickets::subject.eq("Locked out"),
                        tickets::account_user_id.eq(*account),
                        tickets::verification_method.eq(*method),
                        tickets::updated_at.eq(time(received)),
                    ))
                    .returning(tickets::id)
                    .get_result(conn)?;
                for (at, kind, actor) in steps {
                    diesel::insert_into(ticket_events::table)
                        .values((
                            ticket_events::ticket_id.eq(id),
                            ticket_events::at.eq(time(at)),
                            ticket_events::actor_id.eq(*actor),
                            ticket_events::actor_label.eq(if actor.is_some() { "agent" } else { "Keydesk" }),
                            ticket_events::kind.eq(*kind),
                        ))
                        .execute(conn)?;
                }
            }
            for (at, actor, label, organisation) in unlocks {
                diesel::insert_into(events::table)
                    .values((
                        events::at.eq(time(at)),
                        events::action.eq("Account unlocked"),
                        events::actor_id.eq(actor),
                        events::actor_label.eq(label),
                        events::target_label.eq("someone"),
                        events::organisation_id.eq(Some(organisation)),
                    ))
                    .execute(conn)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    Week { app, agent_a, agent_b }
}

async fn token_for(app: &TestApp, email: &str) -> Header<'static> {
    app.bearer(email).await
}

async fn api(app: &TestApp, auth: &Header<'static>, query: &str) -> (Status, Value) {
    let response =
        app.client.get(format!("/api/v1/reports/service-hours?{query}")).header(auth.clone()).dispatch().await;
    let status = response.status();
    (status, response.into_json().await.unwrap_or(Value::Null))
}

fn summary(count: u64, median: i64, p90: i64, mean: i64) -> Value {
    json!({"count": count, "median": median, "p90": p90, "mean": mean})
}

async fn the_api_reproduces_the_hand_worked_week(backend: Backend) {
    let week = week(backend).await;
    let manager = token_for(&week.app, "manager@support.test").await;
    let (status, report) = api(&week.app, &manager, RANGE).await;
    assert_eq!(status, Status::Ok, "{report}");
    assert_eq!(
        (
            report["received"].clone(),
            report["received_in_hours"].clone(),
            report["received_out_of_hours"].clone(),
            report["still_open"].clone()
        ),
        (json!(6), json!(4), json!(2), json!(2))
    );
    assert_eq!(report["as_of"], "2026-10-27T00:00:00Z");
    assert_eq!(report["first_response_business_seconds"], summary(3, 1800, 2700, 2100));
    assert_eq!(report["first_response_calendar_seconds"], summary(3, 1800, 141_300, 48_300));
    assert_eq!(report["unlock_business_seconds"], summary(3, 5400, 18_000, 9000));
    assert_eq!(report["unlock_calendar_seconds"], summary(3, 5400, 156_600, 55_200));
    assert_eq!(report["resolve_business_seconds"], summary(4, 4500, 18_000, 7200));
    assert_eq!(
        (report["sla"]["first_response_met"].clone(), report["sla"]["unlock_met"].clone()),
        (json!(0.75), json!(0.5))
    );
    assert_eq!(report["sla"]["breaches"].as_array().unwrap().len(), 3);
    let backlog: Vec<i64> =
        report["days"].as_array().unwrap().iter().map(|d| d["backlog_at_end"].as_i64().unwrap()).collect();
    assert_eq!(backlog, vec![1, 1, 1, 0, 1, 2, 2, 2]);
    let agents: Vec<(i64, i64, i64)> = report["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (a["agent_id"].as_i64().unwrap(), a["tickets_handled"].as_i64().unwrap(), a["unlocks"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(agents, vec![(week.agent_a.id.0, 2, 2), (week.agent_b.id.0, 3, 1)]);
    assert_eq!(report["verification"]["spoof_suspected"], 1);
    assert_eq!(report["verification"]["abandoned"], 1);
    assert_eq!(report["unlocks"], json!({"self_serve": 1, "support": 1, "automatic": 1}));
    assert_eq!(report["arrivals_by_weekday_and_hour"][0][9], 1, "Monday 09:30 BST");
    assert_eq!(report["arrivals_by_weekday_and_hour"][0][16], 1, "Monday 16:30 GMT");
}

async fn an_organisation_filter_and_an_agent_filter_narrow_the_figures(backend: Backend) {
    let week = week(backend).await;
    let manager = token_for(&week.app, "manager@support.test").await;
    let (_, acme) = api(&week.app, &manager, &format!("{RANGE}&org=acme")).await;
    assert_eq!(acme["received"], 3);
    assert_eq!(acme["unlock_business_seconds"]["median"], 11_700);
    assert_eq!(acme["unlocks"], json!({"self_serve": 1, "support": 1, "automatic": 0}));
    let (_, agent_a) = api(&week.app, &manager, &format!("{RANGE}&agent={}", week.agent_a.id)).await;
    assert_eq!(agent_a["received"], 2);
    assert_eq!(agent_a["unlock_business_seconds"], summary(2, 4500, 5400, 4500));
    let (status, body) = api(&week.app, &manager, &format!("{RANGE}&org=nowhere")).await;
    assert_eq!((status, body["error"].as_str().unwrap()), (Status::NotFound, "no organisation is called \"nowhere\""));
}

async fn figure(app: &TestApp, query: &str) -> (Status, Option<String>) {
    let response = app.client.get(format!("/reports?{query}")).dispatch().await;
    let status = response.status();
    let html = response.into_string().await.unwrap_or_default();
    let document = scraper::Html::parse_document(&html);
    let selector = scraper::Selector::parse("#figure-received").unwrap();
    (status, document.select(&selector).next().map(|e| e.text().collect::<String>()))
}

async fn each_role_sees_its_own_scope(backend: Backend) {
    let week = week(backend).await;
    let app = &week.app;
    app.logged_in_as("manager@support.test").await;
    assert_eq!(figure(app, RANGE).await, (Status::Ok, Some("6".into())));
    assert_eq!(figure(app, &format!("{RANGE}&org=globex")).await, (Status::Ok, Some("2".into())));
    app.logged_in_as("agent@support.test").await;
    assert_eq!(figure(app, RANGE).await, (Status::Ok, Some("2".into())), "Agnes handled two tickets");
    assert_eq!(figure(app, &format!("{RANGE}&agent={}", week.agent_b.id)).await.0, Status::Forbidden);
    app.logged_in_as("owner@acme.test").await;
    assert_eq!(figure(app, RANGE).await, (Status::Ok, Some("3".into())), "Acme's three");
    assert_eq!(figure(app, &format!("{RANGE}&org=globex")).await.0, Status::Forbidden);
    assert_eq!(
        figure(app, &format!("{RANGE}&org=no-such-org")).await.0,
        Status::Forbidden,
        "the same answer: no enumeration"
    );
    app.logged_in_as("owner@globex.test").await;
    assert_eq!(figure(app, RANGE).await, (Status::Ok, Some("2".into())));
    for refused in ["admin@acme.test", "jane@acme.test", "operator@support.test"] {
        app.logged_in_as(refused).await;
        assert_eq!(figure(app, RANGE).await.0, Status::Forbidden, "{refused}");
    }
    // Over the API an agent is held to their own figures too.
    let agent = token_for(app, "agent@support.test").await;
    let (status, mine) = api(app, &agent, RANGE).await;
    assert_eq!((status, mine["received"].clone()), (Status::Ok, json!(2)));
    assert_eq!(api(app, &agent, &format!("{RANGE}&agent={}", week.agent_b.id)).await.0, Status::Forbidden);
}

async fn the_csv_exports_hold_every_ticket_and_the_summary(backend: Backend) {
    let week = week(backend).await;
    let app = &week.app;
    app.logged_in_as("manager@support.test").await;
    let response = app.client.get(format!("/reports/tickets.csv?{RANGE}")).dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.content_type().map(|c| c.to_string()), Some("text/csv; charset=utf-8".into()));
    assert!(response
        .headers()
        .get_one("Content-Disposition")
        .unwrap()
        .contains("keydesk-tickets-2026-10-19-2026-10-26.csv"));
    let body = response.into_string().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 6);
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let friday = rows.iter().find(|r| r[column("received_at")] == *"2026-10-23T15:00:00Z").unwrap();
    assert_eq!(&friday[column("unlock_business_seconds")], "3600");
    assert_eq!(&friday[column("waiting_on_user_business_seconds")], "3600");
    assert_eq!(&friday[column("unlocked_by")], "Agnes Agent");
    assert_eq!(&friday[column("organisation")], "Globex");
    let summary = app.client.get(format!("/reports/summary.csv?{RANGE}")).dispatch().await.into_string().await.unwrap();
    assert!(summary.lines().any(|line| line == "unlock_business_seconds_median,5400"), "{summary}");
    assert!(summary.lines().any(|line| line == "sla_first_response_met,0.7500"), "{summary}");
}

async fn bad_ranges_get_a_clear_error_and_an_empty_range_zeros(backend: Backend) {
    let week = week(backend).await;
    let manager = token_for(&week.app, "manager@support.test").await;
    let (status, body) = api(&week.app, &manager, "from=2026-10-26&to=2026-10-19").await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (Status::BadRequest, "the range is reversed: 2026-10-26 is after 2026-10-19")
    );
    let (status, body) = api(&week.app, &manager, "from=2999-01-01&to=2999-01-31").await;
    assert_eq!(status, Status::BadRequest);
    assert!(body["error"].as_str().unwrap().contains("after today"), "{body}");
    let (status, body) = api(&week.app, &manager, "from=26/10/2026&to=2026-10-27").await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (Status::BadRequest, "26/10/2026 is not a date: write it as YYYY-MM-DD")
    );
    let (status, empty) = api(&week.app, &manager, "from=2026-09-01&to=2026-09-30").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        (
            empty["received"].clone(),
            empty["sla"]["unlock_met"].clone(),
            empty["unlock_business_seconds"]["median"].clone()
        ),
        (json!(0), Value::Null, Value::Null)
    );
    assert_eq!(empty["days"].as_array().unwrap().len(), 30);
    // The page says the same, with the form to try again.
    week.app.logged_in_as("manager@support.test").await;
    let response = week.app.client.get("/reports?from=2026-10-26&to=2026-10-19").dispatch().await;
    assert_eq!(response.status(), Status::BadRequest);
    assert!(response.into_string().await.unwrap().contains("the range is reversed"));
}

async fn a_ticket_worked_through_the_queue_shows_in_todays_report(backend: Backend) {
    // Always open (the test default): a real intake, verification and unlock.
    let app = TestApp::new(backend).await;
    let acme = app.org("Acme Clinic", "acme", UnlockPolicy::Admins).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&acme)).await;
    app.user("agent@support.test", "Agnes Agent", "agent", None).await;
    app.user("manager@support.test", "Mona Manager", "manager", None).await;
    common::lock_by_wrong_logins(&app, &jane).await;
    app.drop_mail("From: Jane Doe <jane@acme.test>\nTo: support@keydesk.test\nSubject: Locked\nMessage-ID: <r@acme.test>\n\nFull name: Jane Doe\nRegistered email: jane@acme.test\nIssue: locked out\n");
    app.intake_once().await;
    let number = app.tickets().await[0].id;
    let manager = token_for(&app, "manager@support.test").await;
    let post = |path: String, body: Value| {
        let manager = manager.clone();
        let client = &app.client;
        async move {
            client
                .post(path)
                .header(manager)
                .header(rocket::http::ContentType::JSON)
                .body(body.to_string())
                .dispatch()
                .await
                .status()
        }
    };
    assert_eq!(
        post(format!("/api/v1/tickets/{number}/verify"), json!({"method": "call_back", "note": "called back"})).await,
        Status::Ok
    );
    assert_eq!(post(format!("/api/v1/tickets/{number}/unlock"), json!({})).await, Status::Ok);
    // A minute later the manager reads today's report (history up to now counts).
    app.clock.advance(chrono::Duration::minutes(1));
    let today = common::test_start().date_naive();
    let yesterday = today.pred_opt().unwrap();
    let (status, report) = api(&app, &manager, &format!("from={yesterday}&to={today}")).await;
    assert_eq!(status, Status::Ok, "{report}");
    assert_eq!(
        (report["received"].clone(), report["still_open"].clone(), report["unlock_business_seconds"]["count"].clone()),
        (json!(1), json!(0), json!(1))
    );
    assert_eq!(report["sla"]["unlock"]["met"], 1);
    assert_eq!(report["unlocks"]["support"], 1);
    let method = report["verification"]["by_method"].as_array().unwrap().iter().find(|m| m[0] == "call_back").unwrap()
        [1]
    .clone();
    assert_eq!(method, 1);
}

async fn a_forged_request_is_recorded_and_counted_as_a_suspected_spoof(backend: Backend) {
    let app = TestApp::with(backend, |f| f.merge(("verification.trusted_authserv_id", "mx.keydesk.test"))).await;
    let acme = app.org("Acme Clinic", "acme", UnlockPolicy::Admins).await;
    app.user("jane@acme.test", "Jane Doe", "member", Some(&acme)).await;
    app.user("manager@support.test", "Mona Manager", "manager", None).await;
    let request = "Full name: Jane Doe\nRegistered email: jane@acme.test\nIssue: locked out\n";
    // Our server failed the first; the second merely has no results (not suspicious).
    app.drop_mail(&format!("From: Jane Doe <jane@acme.test>\nTo: support@keydesk.test\nSubject: Locked\nMessage-ID: <forged@evil.test>\nAuthentication-Results: mx.keydesk.test; spf=fail smtp.mailfrom=acme.test; dmarc=fail header.from=acme.test\n\n{request}"));
    app.intake_once().await;
    let forged = app.tickets().await[0].id;
    let history =
        app.services().run(move |conn, _| Ok(keydesk::store::ticket_events::of_ticket(conn, forged)?)).await.unwrap();
    let kinds: Vec<&str> = history.iter().map(|e| e.kind.as_str()).collect();
    // Not answered: an acknowledgement would go to whoever was impersonated.
    assert_eq!(kinds, vec!["received", "spoof_suspected", "acknowledgement_withheld"]);
    assert!(history[1].detail.contains("dmarc=fail"), "{}", history[1].detail);
    let manager = token_for(&app, "manager@support.test").await;
    app.clock.advance(chrono::Duration::minutes(1));
    let today = common::test_start().date_naive();
    let (_, report) = api(&app, &manager, &format!("from={}&to={today}", today.pred_opt().unwrap())).await;
    assert_eq!((report["received"].clone(), report["verification"]["spoof_suspected"].clone()), (json!(1), json!(1)));
    // The ticket page names it in the history.
    app.logged_in_as("manager@support.test").await;
    let page = app.client.get(format!("/tickets/{forged}")).dispatch().await.into_string().await.unwrap();
    assert!(page.contains("Spoof suspected"));
}

fn texts(html: &str, selector: &str) -> Vec<String> {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(selector).unwrap();
    document
        .select(&selector)
        .map(|e| e.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

async fn the_page_flags_targets_below_the_goal_and_lists_every_breach(backend: Backend) {
    let week = week(backend).await;
    let app = &week.app;
    app.logged_in_as("manager@support.test").await;
    let html = app.client.get(format!("/reports?{RANGE}")).dispatch().await.into_string().await.unwrap();
    // 75% and 50% against the default goal of 90%: both missed, in words.
    assert_eq!(texts(&html, "#figure-sla-first-response"), ["75%"]);
    assert_eq!(texts(&html, "#figure-sla-first-response-verdict"), ["Target missed: the goal is 90%."]);
    assert_eq!(texts(&html, "#figure-sla-unlock-verdict"), ["Target missed: the goal is 90%."]);
    assert_eq!(texts(&html, "article.goal-missed .figure"), ["75%", "50%"]);
    // The three breaches, on one page; a page past the end shows the same.
    assert_eq!(texts(&html, "table.report-breaches tbody tr").len(), 3);
    assert!(texts(&html, "#breach-count")[0].starts_with("All 3, oldest ticket first."));
    assert!(texts(&html, "nav.pager").is_empty(), "no pages for three");
    let beyond = app.client.get(format!("/reports?{RANGE}&breaches=9")).dispatch().await.into_string().await.unwrap();
    assert_eq!(texts(&beyond, "table.report-breaches tbody tr"), texts(&html, "table.report-breaches tbody tr"));
    // No empty header cells; every chart describes itself; the heat map's numbers as a table.
    assert!(texts(&html, "th").iter().all(|th| !th.is_empty()));
    assert_eq!(texts(&html, "svg.chart desc").len(), 8, "four charts, wide and narrow");
    assert_eq!(texts(&html, "table.report-heat tbody tr").len(), 7);
    let monday = texts(&html, "table.report-heat tbody tr:first-child td");
    assert_eq!((monday[9].as_str(), monday[16].as_str()), ("1", "1"), "Monday 09:30 BST and 16:30 GMT");
}
