//! Lockout that survives a crash: a real `keydesk serve` (the release build under
//! `scripts/test`) is killed with SIGKILL at a random instant 5–50 ms into a burst of
//! concurrent wrong and right logins, and restarted, fifty times on each database. After
//! every restart the account is either locked — with its "Account locked" entry and its lock
//! email — or below the limit, and then the right password logs in.

mod common;

use common::{server, Backend, TestDatabase, PASSWORD};
use diesel::prelude::*;
use keydesk::db::schema::users;
use keydesk::store::events::EventFilter;
use keydesk_core::{EmailAddress, EventKind};
use rand::{Rng, SeedableRng};
use std::time::Duration;

const TRIALS: usize = 50;
const WRONG: usize = 8;
const RIGHT: usize = 2;

#[test]
fn sqlite_a_kill_at_any_instant_leaves_the_account_locked_or_usable() {
    crash_loop(Backend::Sqlite);
}

#[test]
fn postgres_a_kill_at_any_instant_leaves_the_account_locked_or_usable() {
    crash_loop(Backend::Postgres);
}

fn crash_loop(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(backend, dir.path());
    let (services, jane) = server::open_with_jane(&database.url);
    let conn = &mut *services.db.pool().get().unwrap();
    let jane_email = EmailAddress::parse("jane@acme.test").unwrap();

    let seed: u64 = std::env::var("KEYDESK_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20261205);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let env = [("ROCKET_THROTTLE", "{max_failures_per_ip=0}"), ("ROCKET_MFA", "{required_for=[]}")];
    // How long a whole burst takes here (the shortest of three, the first being a cold
    // start), so the kills fall inside one rather than after it.
    let burst_time = {
        let server = server::start(&database.url, dir.path(), &env);
        let mut shortest = Duration::MAX;
        for _ in 0..3 {
            let started = std::time::Instant::now();
            burst(&server).into_iter().for_each(|t| drop(t.join()));
            shortest = shortest.min(started.elapsed());
            diesel::update(users::table.find(jane.id))
                .set((users::locked_at.eq(None::<chrono::NaiveDateTime>), users::failed_attempts.eq(0)))
                .execute(conn)
                .unwrap();
        }
        shortest
    };
    let burst_ms = u64::try_from(burst_time.as_millis()).unwrap_or(1_000).max(10);
    let (mut locked_trials, mut usable_trials, mut interrupted) = (0, 0, 0);
    for trial in 0..TRIALS {
        let locks_before = count_locks(conn, &jane);
        let emails_before = count_lock_emails(conn);
        let mut server = server::start(&database.url, dir.path(), &env);
        let threads = burst(&server);
        std::thread::sleep(Duration::from_millis(rng.gen_range(2..=burst_ms)));
        server.kill();
        let answered = threads.into_iter().map(|t| t.join().unwrap()).filter(|ok| *ok).count();
        if answered < WRONG + RIGHT {
            interrupted += 1;
        }

        // After the restart: locked with its record and email, or below the limit and usable.
        let server = server::start(&database.url, dir.path(), &env);
        let user = keydesk::store::users::find_by_email(conn, &jane_email).unwrap().unwrap();
        let new_locks = count_locks(conn, &jane) - locks_before;
        let new_emails = count_lock_emails(conn) - emails_before;
        if user.locked_at.is_some() {
            locked_trials += 1;
            assert_eq!(
                (new_locks, new_emails),
                (1, 1),
                "trial {trial} (seed {seed}): a lock is recorded and emailed once"
            );
        } else {
            usable_trials += 1;
            assert_eq!((new_locks, new_emails), (0, 0), "trial {trial} (seed {seed}): no lock, no lock email");
            assert!(
                user.failed_attempts < 5,
                "trial {trial} (seed {seed}): {} failures and no lock would refuse the right password forever",
                user.failed_attempts
            );
            let (agent, token) = server.visitor();
            let form = [("csrf_token", token.as_str()), ("email", "jane@acme.test"), ("password", PASSWORD)];
            let response = agent.post(&url_of(&server)).send_form(&form).unwrap();
            assert!(response.get_url().ends_with('/'), "trial {trial} (seed {seed}): the right password logs in");
        }
        drop(server);
        // The next trial starts from an unlocked account.
        diesel::update(users::table.find(jane.id))
            .set((users::locked_at.eq(None::<chrono::NaiveDateTime>), users::failed_attempts.eq(0)))
            .execute(conn)
            .unwrap();
    }
    println!(
        "{backend:?}: {TRIALS} kills within a {burst_ms} ms burst (seed {seed}): {locked_trials} ended locked, {usable_trials} usable; {interrupted} cut a login short"
    );
    assert!(interrupted > TRIALS / 2, "most kills landed mid-burst ({interrupted} of {TRIALS})");
}

/// Starts WRONG wrong and RIGHT right logins at once; their threads say whether each got an
/// answer.
fn burst(server: &server::Server) -> Vec<std::thread::JoinHandle<bool>> {
    let visitors: Vec<_> = (0..WRONG + RIGHT).map(|_| server.visitor()).collect();
    let url = url_of(server);
    let threads = visitors
        .into_iter()
        .enumerate()
        .map(|(n, (agent, token))| {
            let url = url.clone();
            let password = if n < WRONG { "wrong password" } else { PASSWORD };
            std::thread::spawn(move || {
                let form = [("csrf_token", token.as_str()), ("email", "jane@acme.test"), ("password", password)];
                agent.post(&url).send_form(&form).is_ok()
            })
        })
        .collect();
    threads
}

fn url_of(server: &server::Server) -> String {
    format!("{}/login", server.base)
}

fn count_locks(conn: &mut keydesk::db::DbConnection, user: &keydesk::store::users::User) -> usize {
    let filter = EventFilter { target_user_id: Some(user.id), limit: 100_000, ..Default::default() };
    keydesk::store::events::list(conn, &filter).unwrap().iter().filter(|e| e.action == EventKind::AccountLocked).count()
}

fn count_lock_emails(conn: &mut keydesk::db::DbConnection) -> usize {
    keydesk::store::outbox::all(conn)
        .unwrap()
        .iter()
        .filter(|m| m.kind == keydesk_core::outgoing::EmailKind::AccountLocked)
        .count()
}
