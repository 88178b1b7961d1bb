//! Two Keydesk processes on one PostgreSQL: 50 concurrent wrong passwords, split between
//! them, still lock the account exactly once after at most five password checks, because
//! the attempt is counted in the database before the password is checked.

mod common;

use common::{Backend, TestDatabase};
use keydesk::store::events::Actor;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `keydesk serve` child process, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_server(database_url: &str, dir: &std::path::Path) -> Server {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_keydesk"))
        .arg("serve")
        .current_dir(dir)
        .env("ROCKET_DATABASE_URL", database_url)
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_DATA_DIR", dir.join("data"))
        .env("ROCKET_TEMPLATE_DIR", common::repo_path("templates"))
        .env("ROCKET_STATIC_DIR", common::repo_path("static"))
        .env("ROCKET_LOG_LEVEL", "off")
        .env("ROCKET_THROTTLE", "{max_failures_per_ip=0}")
        .env("ROCKET_MAIL", format!("{{transport=\"file\",dir=\"{}\"}}", dir.join("mail").display()))
        .env("ROCKET_DATABASE_POOL_SIZE", "10")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start keydesk");
    let server = Server { child, base: format!("http://127.0.0.1:{port}") };
    let deadline = Instant::now() + Duration::from_secs(60);
    while ureq::get(&format!("{}/healthz", server.base)).call().is_err() {
        assert!(Instant::now() < deadline, "keydesk on port {port} did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// Fetches the login page with a cookie-keeping agent and returns it with its CSRF token.
fn agent_with_token(server: &Server) -> (ureq::Agent, String) {
    let agent = ureq::Agent::new();
    let page = agent.get(&format!("{}/login", server.base)).call().unwrap().into_string().unwrap();
    (agent, common::hidden_csrf_token(&page).unwrap())
}

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

    let servers = [start_server(&database.url, dir.path()), start_server(&database.url, dir.path())];
    let attempts: Vec<_> = (0..50)
        .map(|n| {
            let server = &servers[n % 2];
            let (agent, token) = agent_with_token(server);
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
