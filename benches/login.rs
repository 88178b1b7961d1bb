//! The login path, measured: the median latency of a whole login request (routing, CSRF,
//! the database's atomic attempt count, the session) against one bare Argon2id verification
//! timed in the same run, and fifty concurrent wrong attempts against one account.
//! Run with `cargo bench --bench login` (SQLite; PostgreSQL too when
//! KEYDESK_TEST_POSTGRES_URL or the default local server answers).

mod common;

use common::{add_user, admin_url, csrf_token, drop_bench_databases, fresh_postgres_database, median, quiet_figment};
use diesel::{Connection, PgConnection};
use keydesk::app::Services;
use rocket::http::ContentType;
use rocket::local::asynchronous::Client;
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";
const SAMPLES: usize = 40;

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The login bench's app: the shared quiet one, with a pool as large as its concurrent burst.
fn figment(database_url: &str, dir: &std::path::Path) -> rocket::figment::Figment {
    quiet_figment(database_url, dir, 16)
}

async fn client(figment: rocket::figment::Figment) -> Client {
    Client::tracked(keydesk::build(figment).expect("keydesk builds")).await.expect("rocket")
}

/// An app whose accounts never lock, so every login is a full one.
async fn app(database_url: &str, dir: &std::path::Path) -> Client {
    client(figment(database_url, dir).merge(("lockout.max_failed_attempts", 1_000_000))).await
}

fn form(token: &str, email: &str, password: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("csrf_token", token), ("email", email), ("password", password)])
        .finish()
}

async fn run(label: &str, database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let client = app(database_url, dir.path()).await;
    let services = client.rocket().state::<Services>().unwrap().clone();
    add_user(&services, "bench@acme.test", PASSWORD).await;
    let token = csrf_token(&client).await;

    // Warm up: the pool, the templates, the CPU's caches.
    for _ in 0..3 {
        client
            .post("/login")
            .header(ContentType::Form)
            .body(form(&token, "bench@acme.test", PASSWORD))
            .dispatch()
            .await;
    }

    let stored = services.passwords.hash(PASSWORD);
    let mut bare = Vec::with_capacity(SAMPLES);
    let mut right = Vec::with_capacity(SAMPLES);
    let mut wrong = Vec::with_capacity(SAMPLES);
    // Interleaved, so that drift in the machine's speed hits all three alike.
    for _ in 0..SAMPLES {
        let started = Instant::now();
        assert!(services.passwords.verify(PASSWORD, &stored));
        bare.push(started.elapsed());

        // Someone logging in has no session yet: drop the one the previous round made.
        client.cookies().remove("keydesk_session");
        let started = Instant::now();
        let response = client
            .post("/login")
            .header(ContentType::Form)
            .body(form(&token, "bench@acme.test", PASSWORD))
            .dispatch()
            .await;
        right.push(started.elapsed());
        assert_eq!(response.status().code, 303);

        client.cookies().remove("keydesk_session");
        let started = Instant::now();
        let response = client
            .post("/login")
            .header(ContentType::Form)
            .body(form(&token, "bench@acme.test", "wrong password"))
            .dispatch()
            .await;
        wrong.push(started.elapsed());
        assert_eq!(response.status().code, 200);
    }
    let (bare, right, wrong) = (median(bare), median(right), median(wrong));
    let overhead = |d: Duration| (d.as_secs_f64() / bare.as_secs_f64() - 1.0) * 100.0;

    // Fifty concurrent wrong attempts at a fresh account with the default limit of five.
    let dir2 = tempfile::tempdir().unwrap();
    let locking = app_with_default_lockout(dir2.path(), label).await;
    let locking_services = locking.rocket().state::<Services>().unwrap().clone();
    add_user(&locking_services, "victim@acme.test", PASSWORD).await;
    let token = csrf_token(&locking).await;
    let started = Instant::now();
    let requests = (0..50).map(|_| {
        let request =
            locking.post("/login").header(ContentType::Form).body(form(&token, "victim@acme.test", "wrong password"));
        async move {
            let started = Instant::now();
            request.dispatch().await;
            started.elapsed()
        }
    });
    let each = rocket::futures::future::join_all(requests).await;
    let all = started.elapsed();
    let slowest = *each.iter().max().unwrap();
    let each = median(each);

    println!("{label}:");
    println!("  one bare Argon2id verification (median of {SAMPLES}):  {}", ms(bare));
    println!("  login request, right password (median):        {}  overhead {:+.1}%", ms(right), overhead(right));
    println!("  login request, wrong password (median):        {}  overhead {:+.1}%", ms(wrong), overhead(wrong));
    println!("  50 concurrent wrong attempts: all done in {}, median {}, slowest {}", ms(all), ms(each), ms(slowest));
}

async fn app_with_default_lockout(dir: &std::path::Path, label: &str) -> Client {
    // A second database for the lockout run, so the first run's account stays unlocked.
    let url =
        if label == "PostgreSQL" { fresh_postgres_database() } else { dir.join("lock.sqlite").display().to_string() };
    client(figment(&url, dir)).await
}

#[rocket::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    run("SQLite", &dir.path().join("bench.sqlite").display().to_string()).await;
    if PgConnection::establish(&admin_url()).is_ok() {
        run("PostgreSQL", &fresh_postgres_database()).await;
        drop_bench_databases();
    } else {
        println!("PostgreSQL: not reachable at {}, skipped", admin_url());
    }
}
