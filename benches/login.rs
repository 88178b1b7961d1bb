//! The login path, measured: the median latency of a whole login request (routing, CSRF,
//! the database's atomic attempt count, the session) against one bare Argon2id verification
//! timed in the same run, and fifty concurrent wrong attempts against one account.
//! Run with `cargo bench --bench login` (SQLite; PostgreSQL too when
//! KEYDESK_TEST_POSTGRES_URL or the default local server answers).

use diesel::{Connection, PgConnection, RunQueryDsl};
use keydesk::app::Services;
use keydesk::store::events::Actor;
use rocket::http::ContentType;
use rocket::local::asynchronous::Client;
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";
const SAMPLES: usize = 40;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Quiet, no background work, no throttle: only the request path is measured.
fn figment(database_url: &str, dir: &std::path::Path) -> rocket::figment::Figment {
    let root = env!("CARGO_MANIFEST_DIR");
    keydesk::figment()
        .merge(("database_url", database_url))
        .merge(("database_pool_size", 16))
        .merge(("data_dir", dir.join("data").display().to_string()))
        .merge(("template_dir", format!("{root}/templates")))
        .merge(("static_dir", format!("{root}/static")))
        .merge(("log_level", "off"))
        .merge(("mail.dir", dir.join("mail").display().to_string()))
        .merge(("mail.background_sender", false))
        .merge(("intake.source", "off"))
        .merge(("throttle.max_failures_per_ip", 0))
}

async fn client(figment: rocket::figment::Figment) -> Client {
    Client::tracked(keydesk::build(figment).expect("keydesk builds")).await.expect("rocket")
}

/// An app whose accounts never lock, so every login is a full one.
async fn app(database_url: &str, dir: &std::path::Path) -> Client {
    client(figment(database_url, dir).merge(("lockout.max_failed_attempts", 1_000_000))).await
}

async fn add_user(services: &Services, email: &str) {
    let hash = services.passwords.hash(PASSWORD);
    let email = email.to_owned();
    services
        .run(move |conn, services| {
            let org = match keydesk::store::orgs::find_by_slug(conn, "acme")? {
                Some(org) => org,
                None => keydesk::accounts::users::create_organisation(
                    conn,
                    "Acme",
                    "acme",
                    Default::default(),
                    services.stored_now(),
                )?,
            };
            let details = keydesk::accounts::users::UserDetails {
                email: &email,
                full_name: "Bench User",
                role: "member".parse().unwrap(),
                organisation: Some(&org),
            };
            keydesk::accounts::users::create_user(
                conn,
                details,
                &hash,
                &Actor::System("bench"),
                None,
                services.stored_now(),
            )
        })
        .await
        .expect("user");
}

fn form(token: &str, email: &str, password: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("csrf_token", token), ("email", email), ("password", password)])
        .finish()
}

async fn csrf_token(client: &Client) -> String {
    let page = client.get("/login").dispatch().await.into_string().await.unwrap();
    let start = page.find("name=\"csrf_token\" value=\"").unwrap() + 25;
    page[start..start + 64].to_owned()
}

async fn run(label: &str, database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let client = app(database_url, dir.path()).await;
    let services = client.rocket().state::<Services>().unwrap().clone();
    add_user(&services, "bench@acme.test").await;
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
    let locking = app_with_default_lockout(database_url, dir2.path(), label).await;
    let locking_services = locking.rocket().state::<Services>().unwrap().clone();
    add_user(&locking_services, "victim@acme.test").await;
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

async fn app_with_default_lockout(database_url: &str, dir: &std::path::Path, label: &str) -> Client {
    // A second database for the lockout run, so the first run's account stays unlocked.
    let url = if label == "PostgreSQL" {
        fresh_postgres_database(database_url)
    } else {
        dir.join("lock.sqlite").display().to_string()
    };
    client(figment(&url, dir)).await
}

fn admin_url() -> String {
    std::env::var("KEYDESK_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn fresh_postgres_database(_like: &str) -> String {
    let admin = admin_url();
    let name = format!("keydesk_bench_{}", &keydesk_core::PlainToken::generate().expose()[..12]);
    let mut conn = PgConnection::establish(&admin).expect("PostgreSQL");
    diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).unwrap();
    format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
}

/// Drops the databases this run created.
fn drop_bench_databases() {
    let Ok(mut conn) = PgConnection::establish(&admin_url()) else { return };
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let names: Vec<Name> = diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'keydesk_bench_%'")
        .load(&mut conn)
        .unwrap_or_default();
    for name in names {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", name.datname)).execute(&mut conn);
    }
}

#[rocket::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    run("SQLite", &dir.path().join("bench.sqlite").display().to_string()).await;
    if PgConnection::establish(&admin_url()).is_ok() {
        run("PostgreSQL", &fresh_postgres_database("")).await;
        drop_bench_databases();
    } else {
        println!("PostgreSQL: not reachable at {}, skipped", admin_url());
    }
}
