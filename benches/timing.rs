//! Equal time for every refusal, measured: a login for an unknown address, with a wrong
//! password and for a locked account, and forgot-password for an unknown and a registered
//! address, interleaved over 100 rounds so drift in the machine's speed hits each alike.
//! The goal: the medians of each group within 10% of each other, on both databases.
//! Run with `cargo bench --bench timing` (SQLite; PostgreSQL too when KEYDESK_TEST_POSTGRES_URL
//! or the default local server answers).

use diesel::{Connection, PgConnection, RunQueryDsl};
use keydesk::app::Services;
use keydesk::store::events::Actor;
use rocket::http::ContentType;
use rocket::local::asynchronous::Client;
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";
const ROUNDS: usize = 100;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn figment(database_url: &str, dir: &std::path::Path) -> rocket::figment::Figment {
    let root = env!("CARGO_MANIFEST_DIR");
    keydesk::figment()
        .merge(("database_url", database_url))
        .merge(("database_pool_size", 8))
        .merge(("data_dir", dir.join("data").display().to_string()))
        .merge(("template_dir", format!("{root}/templates")))
        .merge(("static_dir", format!("{root}/static")))
        .merge(("log_level", "off"))
        .merge(("mail.dir", dir.join("mail").display().to_string()))
        .merge(("mail.background_sender", false))
        .merge(("intake.source", "off"))
        .merge(("mfa.required_for", Vec::<String>::new()))
        // Every refusal a full one: nothing throttled, the wrong-password account never locks.
        .merge(("throttle.max_failures_per_ip", 0))
        .merge(("throttle.max_reset_requests_per_ip", 0))
        .merge(("throttle.max_reset_emails_per_account", 0))
        .merge(("lockout.max_failed_attempts", 1_000_000))
}

async fn add_user(services: &Services, email: &str) {
    let hash = services.passwords.hash(PASSWORD);
    let email = email.to_owned();
    services
        .run(move |conn, services| {
            let now = services.stored_now();
            let org = match keydesk::store::orgs::find_by_slug(conn, "acme")? {
                Some(org) => org,
                None => keydesk::accounts::users::create_organisation(conn, "Acme", "acme", Default::default(), now)?,
            };
            let details = keydesk::accounts::users::UserDetails {
                email: &email,
                full_name: "Bench User",
                role: "member".parse().unwrap(),
                organisation: Some(&org),
            };
            keydesk::accounts::users::create_user(conn, details, &hash, &Actor::System("bench"), None, now)
        })
        .await
        .expect("user");
}

async fn lock(services: &Services, email: &str) {
    let email = keydesk_core::EmailAddress::parse(email).unwrap();
    services
        .run(move |conn, services| {
            let user = keydesk::store::users::find_by_email(conn, &email)?.unwrap();
            keydesk::store::users::lock(conn, user.id, services.stored_now())?;
            Ok(())
        })
        .await
        .unwrap();
}

fn form(fields: &[(&str, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields.iter().map(|(k, v)| (*k, v))).finish()
}

async fn csrf_token(client: &Client) -> String {
    let page = client.get("/login").dispatch().await.into_string().await.unwrap();
    let start = page.find("name=\"csrf_token\" value=\"").unwrap() + 25;
    page[start..start + 64].to_owned()
}

async fn timed(client: &Client, path: &'static str, fields: &[(&str, String)]) -> Duration {
    let started = Instant::now();
    let response = client.post(path).header(ContentType::Form).body(form(fields)).dispatch().await;
    let took = started.elapsed();
    assert_eq!(response.status().code, 200, "{path} {fields:?}");
    took
}

fn spread(medians: &[Duration]) -> f64 {
    let fastest = medians.iter().min().unwrap().as_secs_f64();
    let slowest = medians.iter().max().unwrap().as_secs_f64();
    (slowest / fastest - 1.0) * 100.0
}

async fn run(label: &str, database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let client = Client::tracked(keydesk::build(figment(database_url, dir.path())).unwrap()).await.unwrap();
    let services = client.rocket().state::<Services>().unwrap().clone();
    add_user(&services, "wrong@acme.test").await;
    add_user(&services, "locked@acme.test").await;
    add_user(&services, "registered@acme.test").await;
    lock(&services, "locked@acme.test").await;
    let token = csrf_token(&client).await;
    let login = |email: &str| {
        [("csrf_token", token.clone()), ("email", email.to_owned()), ("password", "a wrong guess".to_owned())]
    };
    let forgot = |email: &str| [("csrf_token", token.clone()), ("email", email.to_owned())];

    let (mut unknown, mut wrong, mut locked) = (Vec::new(), Vec::new(), Vec::new());
    let (mut forgot_unknown, mut forgot_registered) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS + 5 {
        // Each round in another order, so that going first or last favours no group.
        let emails = ["nobody@acme.test", "wrong@acme.test", "locked@acme.test"];
        let mut samples = [Duration::ZERO; 3];
        for step in 0..3 {
            let which = (round + step) % 3;
            samples[which] = timed(&client, "/login", &login(emails[which])).await;
        }
        if round < 5 {
            continue; // warm-up
        }
        unknown.push(samples[0]);
        wrong.push(samples[1]);
        locked.push(samples[2]);
    }
    // Forgot-password answers in tens of microseconds: ten times the rounds for a steady median.
    for round in 0..10 * ROUNDS {
        let addresses = ["nobodyhere@acme.test", "registered@acme.test"];
        let mut forgot_times = [Duration::ZERO; 2];
        for step in 0..2 {
            let which = (round + step) % 2;
            forgot_times[which] = timed(&client, "/forgot-password", &forgot(addresses[which])).await;
            // What it left running finishes before the next request, untimed.
            services.background.settled().await;
        }
        forgot_unknown.push(forgot_times[0]);
        forgot_registered.push(forgot_times[1]);
    }
    let logins = [median(unknown), median(wrong), median(locked)];
    let resets = [median(forgot_unknown), median(forgot_registered)];
    println!("{label} ({ROUNDS} interleaved rounds, medians):");
    println!(
        "  login refused: unknown address {}, wrong password {}, locked account {}  → spread {:.1}% (goal < 10%)",
        ms(logins[0]),
        ms(logins[1]),
        ms(logins[2]),
        spread(&logins)
    );
    println!(
        "  forgot-password ({} rounds): unknown address {}, registered address {}  → spread {:.1}% (goal < 10%)",
        10 * ROUNDS,
        ms(resets[0]),
        ms(resets[1]),
        spread(&resets)
    );
}

fn admin_url() -> String {
    std::env::var("KEYDESK_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

#[rocket::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    run("SQLite", &dir.path().join("timing.sqlite").display().to_string()).await;
    let admin = admin_url();
    match PgConnection::establish(&admin) {
        Ok(mut conn) => {
            let name = format!("keydesk_timing_{}", std::process::id());
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).unwrap();
            let base = admin.rsplit_once('/').map(|(base, _)| base).unwrap_or(&admin);
            run("PostgreSQL", &format!("{base}/{name}")).await;
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn);
        }
        Err(error) => println!("PostgreSQL: skipped ({error})"),
    }
}
