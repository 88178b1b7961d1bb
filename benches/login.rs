//! The login path, measured: the median latency of a whole login request (routing, CSRF,
//! the database's atomic attempt count, the session) against one bare Argon2id verification
//! timed in the same run (Keydesk's own, in kept memory: the floor; and, for reference, the
//! argon2 crate's `PasswordVerifier`, which allocates its 19 MiB each time), and fifty
//! concurrent wrong attempts against one account.
//! Each login comes from a browser that has loaded the login page and holds nothing but its
//! CSRF cookie (no session to look up first), and the per-address throttle counts it as it
//! does by default (with a limit the bench never reaches). After the figures, a breakdown:
//! the cost of a blocking-thread hop, and every statement one right and one wrong login run.
//! Run with `cargo bench --bench login` (SQLite; PostgreSQL too when
//! KEYDESK_TEST_POSTGRES_URL or the default local server answers).

mod common;

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use common::{
    add_user, admin_url, csrf_token, drop_bench_databases, fresh_postgres_database, median, quiet_figment, statements,
};
use diesel::{Connection, PgConnection};
use keydesk::accounts::verification::Verification;
use keydesk::app::Services;
use rocket::http::{ContentType, Cookie};
use rocket::local::asynchronous::{Client, LocalRequest};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";
/// Enough rounds that a busy machine's drift (a bare verification here ranges 16-29 ms between runs)
/// moves the medians little.
const SAMPLES: usize = 150;

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The login bench's app: the shared quiet one, with a pool as large as its concurrent burst
/// and the login throttle counting, as it does unless turned off.
fn figment(database_url: &str, dir: &std::path::Path) -> rocket::figment::Figment {
    quiet_figment(database_url, dir, 16).merge(("throttle.max_failures_per_ip", 1_000_000_000))
}

/// Untracked: a request carries only the cookies it is given, so no login starts with the
/// session the previous one made.
async fn client(figment: rocket::figment::Figment) -> Client {
    Client::untracked(keydesk::build(figment).expect("keydesk builds")).await.expect("rocket")
}

/// A login as a browser that has just loaded the login page sends it.
fn login<'c>(client: &'c Client, token: &str, email: &str, password: &str) -> LocalRequest<'c> {
    client
        .post("/login")
        .header(ContentType::Form)
        .private_cookie(Cookie::new("keydesk_csrf", token.to_owned()))
        .body(form(token, email, password))
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
    let token_for_trace = token.clone();

    // Warm up: the pool, the templates, the CPU's caches.
    for _ in 0..3 {
        assert_eq!(login(&client, &token, "bench@acme.test", PASSWORD).dispatch().await.status().code, 303);
    }

    let stored = services.passwords.hash(PASSWORD);
    let stored_parsed = PasswordHash::new(&stored).unwrap();
    let mut bare = Vec::with_capacity(SAMPLES);
    let mut by_the_crate = Vec::with_capacity(SAMPLES);
    let mut right = Vec::with_capacity(SAMPLES);
    let mut wrong = Vec::with_capacity(SAMPLES);
    // Interleaved, so that drift in the machine's speed hits all three alike; the two logins
    // take turns at coming first after the bare verification, since whatever runs first after
    // an Argon2 run finds the processor's caches emptied by its 19 MiB (a login's first
    // statement then takes two or three times as long), and a fixed order gave that cost to
    // the right password every time.
    for round in 0..SAMPLES {
        let started = Instant::now();
        assert!(Argon2::default().verify_password(PASSWORD.as_bytes(), &stored_parsed).is_ok());
        by_the_crate.push(started.elapsed());
        let started = Instant::now();
        assert!(services.passwords.verify(PASSWORD, &stored));
        bare.push(started.elapsed());
        for right_password in if round % 2 == 0 { [true, false] } else { [false, true] } {
            let password = if right_password { PASSWORD } else { "wrong password" };
            let started = Instant::now();
            let response = login(&client, &token, "bench@acme.test", password).dispatch().await;
            let took = started.elapsed();
            if right_password {
                assert_eq!(response.status().code, 303);
                right.push(took);
            } else {
                assert_eq!(response.status().code, 200);
                wrong.push(took);
            }
        }
    }
    // Each round's login against the same round's floor as well: on a busy machine the two
    // medians can come from different moments, a round's pair from the same one.
    let paired = |logins: &[Duration]| {
        let mut ratios: Vec<f64> = logins.iter().zip(&bare).map(|(l, b)| l.as_secs_f64() / b.as_secs_f64()).collect();
        ratios.sort_by(f64::total_cmp);
        (ratios[ratios.len() / 2] - 1.0) * 100.0
    };
    let (right_paired, wrong_paired) = (paired(&right), paired(&wrong));
    let (bare, right, wrong) = (median(bare), median(right), median(wrong));
    let by_the_crate = median(by_the_crate);
    let overhead = |d: Duration| (d.as_secs_f64() / bare.as_secs_f64() - 1.0) * 100.0;
    let over_the_crate = |d: Duration| (d.as_secs_f64() / by_the_crate.as_secs_f64() - 1.0) * 100.0;

    // Fifty concurrent wrong attempts at a fresh account with the default limit of five.
    let dir2 = tempfile::tempdir().unwrap();
    let locking = app_with_default_lockout(dir2.path(), label).await;
    let locking_services = locking.rocket().state::<Services>().unwrap().clone();
    add_user(&locking_services, "victim@acme.test", PASSWORD).await;
    let token = csrf_token(&locking).await;
    let started = Instant::now();
    let requests = (0..50).map(|_| {
        let request = login(&locking, &token, "victim@acme.test", "wrong password");
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
    println!(
        "  login request, right password (median):        {}  overhead {:+.1}% (per-round pairs {:+.1}%)",
        ms(right),
        overhead(right),
        right_paired
    );
    println!(
        "  login request, wrong password (median):        {}  overhead {:+.1}% (per-round pairs {:+.1}%)",
        ms(wrong),
        overhead(wrong),
        wrong_paired
    );
    println!(
        "  the argon2 crate's own verification (PasswordVerifier, its memory allocated each time), median: {}; \
         right / wrong login over it {:+.1}% / {:+.1}%",
        ms(by_the_crate),
        over_the_crate(right),
        over_the_crate(wrong)
    );
    println!("  50 concurrent wrong attempts: all done in {}, median {}, slowest {}", ms(all), ms(each), ms(slowest));
    breakdown(&client, &services, &token_for_trace).await;
}

/// Where one login's time goes besides Argon2: a blocking-thread hop with a pool checkout,
/// and each statement (round trip) of one traced right and one traced wrong login.
async fn breakdown(client: &Client, services: &Services, token: &str) {
    let mut hops = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        services.run(|_, _| Ok(())).await.unwrap();
        hops.push(started.elapsed());
    }
    println!("  one spawn_blocking hop with a pool checkout (median): {:.3} ms", median(hops).as_secs_f64() * 1000.0);
    // The floor again, where a login runs it: on a blocking thread, after a checkout.
    let stored = services.passwords.hash(PASSWORD);
    let [mut there, mut here, mut started_for_it, mut kept] = std::array::from_fn(|_| Vec::with_capacity(SAMPLES));
    for _ in 0..SAMPLES {
        let started = Instant::now();
        assert!(services.passwords.verify(PASSWORD, &stored));
        here.push(started.elapsed());
        let stored_there = stored.clone();
        let started = Instant::now();
        let verified = services.run(move |_, services| Ok(services.passwords.verify(PASSWORD, &stored_there))).await;
        assert!(verified.unwrap());
        there.push(started.elapsed());
        // As a login runs it: handed to a kept verifier from the blocking thread.
        let stored_kept = stored.clone();
        let started = Instant::now();
        let verified = services
            .run(move |_, services| {
                let verification = Verification::start(&services.verifiers, PASSWORD, Some(&stored_kept), true);
                Ok(verification.verdict())
            })
            .await;
        assert!(verified.unwrap());
        kept.push(started.elapsed());
        // As a login ran it before: on a thread of its own, started and joined from there.
        let stored_started = stored.clone();
        let started = Instant::now();
        let verified = services
            .run(move |_, services| {
                Ok(std::thread::scope(|scope| {
                    scope.spawn(|| services.passwords.verify(PASSWORD, &stored_started)).join().unwrap()
                }))
            })
            .await;
        assert!(verified.unwrap());
        started_for_it.push(started.elapsed());
    }
    println!(
        "  bare verification here {} / in a hop to a blocking thread {} / handed from there to a kept verifier {} \
         (as a login does) / to a thread started for it {} (medians)",
        ms(median(here)),
        ms(median(there)),
        ms(median(kept)),
        ms(median(started_for_it))
    );
    // The login's own work (the count, the verification, the session), without HTTP around it.
    let (mut bare, mut work) = (Vec::with_capacity(SAMPLES), Vec::with_capacity(SAMPLES));
    for _ in 0..SAMPLES {
        let started = Instant::now();
        assert!(services.passwords.verify(PASSWORD, &stored));
        bare.push(started.elapsed());
        let started = Instant::now();
        let outcome = keydesk::accounts::login::log_in(services, "bench@acme.test", PASSWORD, None).await.unwrap();
        work.push(started.elapsed());
        assert!(matches!(outcome, keydesk::accounts::login::LoginOutcome::LoggedIn { .. }));
    }
    println!(
        "  the login's own work, right password, without HTTP: {} against {} bare",
        ms(median(work)),
        ms(median(bare))
    );
    for (label, password) in [("right password", PASSWORD), ("wrong password", "wrong password")] {
        statements::start();
        let started = Instant::now();
        login(client, token, "bench@acme.test", password).dispatch().await;
        let took = started.elapsed();
        statements::print(label, &statements::stop(), took);
    }
}

async fn app_with_default_lockout(dir: &std::path::Path, label: &str) -> Client {
    // A second database for the lockout run, so the first run's account stays unlocked.
    let url =
        if label == "PostgreSQL" { fresh_postgres_database() } else { dir.join("lock.sqlite").display().to_string() };
    client(figment(&url, dir)).await
}

#[rocket::main]
async fn main() {
    statements::install();
    let dir = tempfile::tempdir().unwrap();
    run("SQLite", &dir.path().join("bench.sqlite").display().to_string()).await;
    if PgConnection::establish(&admin_url()).is_ok() {
        run("PostgreSQL", &fresh_postgres_database()).await;
        drop_bench_databases();
    } else {
        println!("PostgreSQL: not reachable at {}, skipped", admin_url());
    }
}
