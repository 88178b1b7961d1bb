//! Equal time for every refusal, measured: a login for an unknown address, with a wrong
//! password and for a locked account, and forgot-password for an unknown and a registered
//! address, interleaved over 100 rounds so drift in the machine's speed hits each alike.
//! The goal: the medians of each group within 10% of each other, on both databases.
//! Run with `cargo bench --bench timing` (SQLite; PostgreSQL too when KEYDESK_TEST_POSTGRES_URL
//! or the default local server answers).

mod common;

use common::{add_user, admin_url, csrf_token, drop_bench_databases, fresh_postgres_database, median, quiet_figment};
use diesel::{Connection, PgConnection};
use keydesk::app::Services;
use rocket::http::ContentType;
use rocket::local::asynchronous::Client;
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";
const ROUNDS: usize = 100;

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn figment(database_url: &str, dir: &std::path::Path) -> rocket::figment::Figment {
    quiet_figment(database_url, dir, 8)
        // Every refusal a full one: nothing throttled, the wrong-password account never locks.
        .merge(("throttle.max_reset_requests_per_ip", 0))
        .merge(("throttle.max_reset_emails_per_account", 0))
        .merge(("lockout.max_failed_attempts", 1_000_000))
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
    add_user(&services, "wrong@acme.test", PASSWORD).await;
    add_user(&services, "locked@acme.test", PASSWORD).await;
    add_user(&services, "registered@acme.test", PASSWORD).await;
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
            // Back to back, as a busy server answers: each request's work starts 20 ms after its
            // answer, so it runs beside later answers of both kinds, never in its own.
            forgot_times[which] = timed(&client, "/forgot-password", &forgot(addresses[which])).await;
        }
        forgot_unknown.push(forgot_times[0]);
        forgot_registered.push(forgot_times[1]);
    }
    services.background.settled().await;
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

#[rocket::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    run("SQLite", &dir.path().join("timing.sqlite").display().to_string()).await;
    if PgConnection::establish(&admin_url()).is_ok() {
        run("PostgreSQL", &fresh_postgres_database()).await;
        drop_bench_databases();
    } else {
        println!("PostgreSQL: not reachable at {}, skipped", admin_url());
    }
}
