//! A real `keydesk serve` with `log_format = "json"`: wrong passwords until a lock, a
//! forgot-password and its reset link, paths holding an address and a token, and an email
//! taken in by the background intake. Every line it writes is a JSON object, every request's
//! line carries the id its response header gave, and nothing it writes (standard output or
//! error) holds the people's addresses, names, passwords or tokens.

mod common;

use common::{server, Backend, TestDatabase};
use keydesk::store::events::Actor;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

on_both_backends!(a_locked_account_a_reset_and_an_intake_leave_only_json_lines_without_personal_data);

const LOCKED_NAME: &str = "Philippa Quennell";
const LOCKED_EMAIL: &str = "philippa.quennell@clinic.test";
const RESET_NAME: &str = "Bartholomew Fairweather";
const RESET_EMAIL: &str = "b.fairweather@clinic.test";
const TYPED_PASSWORD: &str = "Zebra-Lantern-Wrong-7";

/// The organisation and its two people, written before the server starts.
fn people(database_url: &str) {
    let config = keydesk::config::Config { database_url: database_url.to_owned(), ..Default::default() };
    let services = keydesk::open_services(config).unwrap();
    let conn = &mut *services.db.pool().get().unwrap();
    let now = services.stored_now();
    let org = keydesk::accounts::users::create_organisation(
        conn,
        "Clinic",
        "clinic",
        keydesk_core::UnlockPolicy::Admins,
        now,
    )
    .unwrap();
    let hash = services.passwords.hash(common::PASSWORD);
    for (email, full_name) in [(LOCKED_EMAIL, LOCKED_NAME), (RESET_EMAIL, RESET_NAME)] {
        let details = keydesk::accounts::users::UserDetails {
            email,
            full_name,
            role: "member".parse().unwrap(),
            organisation: Some(&org),
        };
        keydesk::accounts::users::create_user(conn, details, &hash, &Actor::System("test"), None, now).unwrap();
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "waited 30 s for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn drop_mail(intake: &Path) {
    common::intake::empty_maildir(intake);
    let message = format!(
        "From: {LOCKED_NAME} <{LOCKED_EMAIL}>\r\nTo: support@keydesk.localhost\r\nSubject: Locked out\r\n\
         Message-ID: <logs-test@clinic.test>\r\n\r\nFull name: {LOCKED_NAME}\r\nRegistered email: {LOCKED_EMAIL}\r\n\
         My password {TYPED_PASSWORD} stopped working.\r\n"
    );
    std::fs::write(intake.join("new").join("1764000000.logs-test.clinic"), message).unwrap();
}

async fn a_locked_account_a_reset_and_an_intake_leave_only_json_lines_without_personal_data(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(backend, dir.path());
    people(&database.url);
    let intake = dir.path().join("intake");
    let intake_config = format!("{{source=\"maildir\",dir=\"{}\",poll_seconds=1,background=true}}", intake.display());
    let env = [
        ("ROCKET_LOG_FORMAT", "json"),
        ("ROCKET_LOG_LEVEL", "normal"),
        ("ROCKET_INTAKE", intake_config.as_str()),
        ("ROCKET_THROTTLE", "{max_failures_per_ip=0}"),
    ];
    let (stdout, stderr) = (dir.path().join("stdout.log"), dir.path().join("stderr.log"));
    let mut server = server::start_logging_to(&database.url, dir.path(), &env, &stdout, &stderr);

    let mut ids = Vec::new();
    let mut note =
        |response: &ureq::Response| ids.push(response.header("X-Request-Id").expect("a request id").to_owned());
    let (agent, csrf) = server.visitor();
    for _ in 0..5 {
        let form = [("csrf_token", csrf.as_str()), ("email", LOCKED_EMAIL), ("password", TYPED_PASSWORD)];
        let response = agent.post(&format!("{}/login", server.base)).send_form(&form).unwrap();
        assert_eq!(response.status(), 200);
        note(&response);
    }
    let form = [("csrf_token", csrf.as_str()), ("email", RESET_EMAIL)];
    note(&agent.post(&format!("{}/forgot-password", server.base)).send_form(&form).unwrap());
    let mail_dir = dir.path().join("mail");
    let reset_mail = || common::read_mail_dir(&mail_dir).into_iter().find(|m| m.to == RESET_EMAIL);
    wait_for("the reset email", || reset_mail().is_some());
    let text = reset_mail().unwrap().text;
    let link = &text[text.find("/reset-password/").expect("a reset link")..];
    let reset_path: String = link.chars().take_while(|c| c.is_ascii_alphanumeric() || "/-_".contains(*c)).collect();
    let reset_token = reset_path.trim_start_matches("/reset-password/").to_owned();
    assert!(reset_token.len() >= 20, "{reset_path}");
    note(&agent.get(&format!("{}{reset_path}", server.base)).call().unwrap());
    let by_address = agent.get(&format!("{}/api/v1/accounts/{LOCKED_EMAIL}", server.base)).call();
    note(&by_address.expect_err("no API token").into_response().unwrap());
    // Only a trusted proxy (ip_header set) may name the request; this one is not trusted.
    let named = agent.get(&format!("{}/healthz", server.base)).set("X-Request-Id", "proxy-chosen-id").call().unwrap();
    assert_ne!(named.header("X-Request-Id"), Some("proxy-chosen-id"));
    note(&named);
    drop_mail(&intake);
    let logged = || std::fs::read_to_string(&stdout).unwrap();
    wait_for("the intake pass's line", || logged().contains("new tickets 1"));
    wait_for("the lock's emails", || common::read_mail_dir(&mail_dir).iter().any(|m| m.to == LOCKED_EMAIL));
    server.kill();

    let (out, err) = (logged(), std::fs::read_to_string(&stderr).unwrap());
    let lines: Vec<Value> = out
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}")))
        .collect();
    assert!(lines.iter().all(|l| l.is_object() && l["timestamp"].is_string() && l["level"].is_string()));
    let answered: Vec<&Value> = lines.iter().filter(|l| l["message"] == "answered").collect();
    for line in &answered {
        let id = line["span"]["request_id"].as_str().unwrap_or_else(|| panic!("a request line without its id: {line}"));
        assert!(id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()), "{line}");
        assert!(line["route"].is_string() && line["status"].is_u64(), "{line}");
    }
    for id in &ids {
        let with_id = answered.iter().filter(|l| l["span"]["request_id"] == id.as_str()).count();
        assert_eq!(with_id, 1, "the response's X-Request-Id {id} names one request line");
    }
    let routes: Vec<&str> = answered.iter().filter_map(|l| l["route"].as_str()).collect();
    for route in ["/login", "/forgot-password", "/reset-password/<token>", "/api/v1/accounts/<email>", "/healthz"] {
        assert!(routes.contains(&route), "{route} in {routes:?}");
    }
    assert!(lines.iter().any(|l| l["message"].as_str().is_some_and(|m| m.starts_with("intake: fetched 1"))));

    let everything = format!("{out}\n{err}").to_lowercase();
    let secrets = [
        LOCKED_EMAIL,
        RESET_EMAIL,
        "philippa",
        "quennell",
        "bartholomew",
        "fairweather",
        TYPED_PASSWORD,
        common::PASSWORD,
    ];
    for secret in secrets.iter().map(|s| s.to_lowercase()).chain([reset_token.to_lowercase()]) {
        assert!(!everything.contains(&secret), "the logs hold {secret:?}:\n{out}\n{err}");
    }
}
