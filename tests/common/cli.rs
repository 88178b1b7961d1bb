//! The `keydesk` binary run as an operator runs it: configured by environment only, in a
//! temp dir of its own, its exit status and output kept.
#![allow(dead_code)]

use super::{Backend, TestApp, TestDatabase};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a run of the binary left behind.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// The binary, configured by environment only, in a temp dir of its own.
pub struct Keydesk {
    pub backend: Backend,
    pub dir: tempfile::TempDir,
    pub database: TestDatabase,
}

impl Keydesk {
    pub fn new(backend: Backend) -> Keydesk {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = TestDatabase::create(backend, dir.path());
        Keydesk { backend, dir, database }
    }

    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_keydesk"));
        command.args(args).current_dir(self.dir.path());
        // Only what this test says: nothing from the environment the tests run in.
        for (key, _) in std::env::vars() {
            if key.starts_with("ROCKET_") {
                command.env_remove(key);
            }
        }
        command
            .env("ROCKET_CONFIG", self.dir.path().join("no-such-Rocket.toml"))
            .env("ROCKET_DATABASE_URL", &self.database.url)
            .env("ROCKET_DATA_DIR", self.dir.path().join("data"))
            .env("ROCKET_MAIL", format!("{{dir=\"{}\"}}", self.dir.path().join("mail").display()))
            .env("ROCKET_LOG_LEVEL", "off");
        for (key, value) in env {
            command.env(key, value);
        }
        command
    }

    pub fn run_with(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
        let mut child = self
            .command(args, env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the keydesk binary runs");
        {
            let mut input = child.stdin.take().unwrap();
            if let Some(text) = stdin {
                input.write_all(text.as_bytes()).unwrap();
            }
        } // closed: end of input
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let output = child.wait_with_output().unwrap();
                panic!(
                    "keydesk {args:?} did not exit within 60 s; stderr: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let output = child.wait_with_output().unwrap();
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Run {
        self.run_with(args, stdin, &[])
    }

    /// Runs and checks it succeeded.
    pub fn ok(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let run = self.run(args, stdin);
        assert_eq!(run.code, Some(0), "keydesk {args:?} should succeed: {run:?}");
        run
    }

    /// Runs and checks it failed with status 1 and `keydesk: …reason…` on standard error.
    pub fn refused(&self, args: &[&str], stdin: Option<&str>, reason: &str) -> Run {
        let run = self.run(args, stdin);
        assert_eq!(run.code, Some(1), "keydesk {args:?} should exit with status 1: {run:?}");
        assert!(
            run.stderr.starts_with("keydesk: "),
            "keydesk {args:?}: stderr should start with `keydesk: `: {:?}",
            run.stderr
        );
        assert!(run.stderr.contains(reason), "keydesk {args:?}: stderr should say {reason:?}: {:?}", run.stderr);
        run
    }

    /// A test app on the database the binary filled.
    pub async fn app(self) -> TestApp {
        TestApp::open(self.backend, self.database, self.dir).await
    }

    /// [`Keydesk::app`], with `configure` applied over the tests' configuration.
    pub async fn app_with(
        self,
        configure: impl FnOnce(rocket::figment::Figment) -> rocket::figment::Figment,
    ) -> TestApp {
        TestApp::open_with(self.backend, self.database, self.dir, configure).await
    }
}
