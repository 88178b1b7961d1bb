//! Real `keydesk serve` processes for tests that need whole processes: two of them on one
//! database, or one killed with SIGKILL at a random instant. `KEYDESK_RELEASE_BIN` (set by
//! `scripts/test`) points at the release build; without it the test build's binary is used.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary to run: the release build when `scripts/test` built one.
pub fn binary() -> PathBuf {
    std::env::var_os("KEYDESK_RELEASE_BIN").map(PathBuf::from).unwrap_or_else(|| env!("CARGO_BIN_EXE_keydesk").into())
}

/// A `keydesk serve` child process, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Kills the process at once (SIGKILL: no shutdown, no flushing) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// An HTTP client with the login page's cookies, and that page's CSRF token.
    pub fn visitor(&self) -> (ureq::Agent, String) {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build();
        let page = agent.get(&format!("{}/login", self.base)).call().unwrap().into_string().unwrap();
        (agent, super::hidden_csrf_token(&page).unwrap())
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `keydesk serve` on a free port of 127.0.0.1 against `database_url`, with its data,
/// mail and intake under `dir` and the extra `env` on top; returns once `/healthz` answers.
pub fn start(database_url: &str, dir: &Path, env: &[(&str, &str)]) -> Server {
    start_with_output(database_url, dir, env, Stdio::null(), Stdio::null())
}

/// As [`start`], with the process's standard output and error written to these files (its
/// log lines, at `ROCKET_LOG_LEVEL` unless `env` says otherwise).
pub fn start_logging_to(database_url: &str, dir: &Path, env: &[(&str, &str)], stdout: &Path, stderr: &Path) -> Server {
    let file = |path: &Path| Stdio::from(std::fs::File::create(path).expect("a file for the server's output"));
    start_with_output(database_url, dir, env, file(stdout), file(stderr))
}

fn start_with_output(database_url: &str, dir: &Path, env: &[(&str, &str)], stdout: Stdio, stderr: Stdio) -> Server {
    let port = free_port();
    let mut command = Command::new(binary());
    command
        .arg("serve")
        .current_dir(dir)
        .env("ROCKET_DATABASE_URL", database_url)
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_DATA_DIR", dir.join("data"))
        .env("ROCKET_LOG_LEVEL", "off")
        .env(
            "ROCKET_MAIL",
            format!("{{transport=\"file\",dir=\"{}\",poll_interval=\"1h\"}}", dir.join("mail").display()),
        )
        .env("ROCKET_INTAKE", "{source=\"off\"}")
        .env("ROCKET_DATABASE_POOL_SIZE", "10")
        .stdout(stdout)
        .stderr(stderr);
    for (key, value) in env {
        command.env(key, value);
    }
    let child = command.spawn().expect("start keydesk");
    let server = Server { child, base: format!("http://127.0.0.1:{port}") };
    let deadline = Instant::now() + Duration::from_secs(60);
    while ureq::get(&format!("{}/healthz", server.base)).call().is_err() {
        assert!(Instant::now() < deadline, "keydesk on port {port} did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

/// Services opened on `database_url` (migrating it), holding Acme and its member Jane (password
/// `PASSWORD`): the account that tests running whole processes on that database work on.
pub fn open_with_jane(database_url: &str) -> (keydesk::app::Services, keydesk::store::users::User) {
    use keydesk::accounts::users::{create_organisation, create_user, UserDetails};
    let config = keydesk::config::Config { database_url: database_url.to_owned(), ..Default::default() };
    let services = keydesk::open_services(config).unwrap();
    let conn = &mut *services.db.pool().get().unwrap();
    let now = services.stored_now();
    let org = create_organisation(conn, "Acme", "acme", keydesk_core::UnlockPolicy::Admins, now).unwrap();
    let details = UserDetails {
        email: "jane@acme.test",
        full_name: "Jane Doe",
        role: "member".parse().unwrap(),
        organisation: Some(&org),
    };
    let hash = services.passwords.hash(super::PASSWORD);
    let actor = keydesk::store::events::Actor::System("test");
    let jane = create_user(conn, details, &hash, &actor, None, now).unwrap();
    (services, jane)
}
