//! Two Keydesk processes on one PostgreSQL: 50 concurrent wrong passwords, split between
//! them, still lock the account exactly once after at most five password checks, because
//! the attempt is counted in the database before the password is checked.

mod common;

use common::{server, Backend, TestDatabase};
use keydesk::store::events::Actor;

#[test]
fn fifty_wrong_attempts_across_two_processes_lock_once() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(Backend::Postgres, dir.path());
    let services =
        keydesk::open_services(keydesk::config::Config { database_url: database.url.clone(), ..Default::default() })
            .unwrap();
    let conn = &mut *services.db.pool().get().unwrap();
    let now = services.stored_now();
    let org =
        keydesk::accounts::users::create_organisation(conn, "Acme", "acme", keydesk_core::UnlockPolicy::Admins, now)
            .unwrap();
    let hash = services.passwords.hash(common::PASSWORD);
    let details = keydesk::accounts::users::UserDetails {
        email: "jane@acme.test",
        full_name: "Jane Doe",
        role: "member".parse().unwrap(),
        organisation: Some(&org),
    };
    let jane = keydesk::accounts::users::create_user(conn, details, &hash, &Actor::System("test"), None, now).unwrap();

    let no_throttle = [("ROCKET_THROTTLE", "{max_failures_per_ip=0}")];
    let servers = [
        server::start(&database.url, dir.path(), &no_throttle),
        server::start(&database.url, dir.path(), &no_throttle),
    ];
    let attempts: Vec<_> = (0..50)
        .map(|n| {
            let server = &servers[n % 2];
            let (agent, token) = server.visitor();
            (agent, token, format!("{}/login", server.base))
        })
        .collect();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(attempts.len()));
    let threads: Vec<_> = attempts
        .into_iter()
        .map(|(agent, token, url)| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let form =
                    [("csrf_token", token.as_str()), ("email", "jane@acme.test"), ("password", "wrong password")];
                agent.post(&url).send_form(&form).map(|r| r.status()).unwrap_or_else(|e| panic!("{e}"))
            })
        })
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");

    let filter =
        keydesk::store::events::EventFilter { target_user_id: Some(jane.id), limit: 1000, ..Default::default() };
    let actions: Vec<String> =
        keydesk::store::events::list(conn, &filter).unwrap().into_iter().map(|e| e.action.label().to_owned()).collect();
    let count = |name: &str| actions.iter().filter(|a| *a == name).count();
    assert_eq!(count("Account locked"), 1, "{actions:?}");
    assert_eq!(count("Login failed"), 5, "{actions:?}");
    assert_eq!(count("Login failed (locked)"), 45, "{actions:?}");
    let outbox = keydesk::store::outbox::all(conn).unwrap();
    assert_eq!(outbox.iter().filter(|m| m.kind.as_str() == "account_locked").count(), 1, "one lock email");
}
