//! The test harness: every test gets a fresh database (a SQLite file, or a new PostgreSQL
//! database), its own mail folder, and a Rocket local client; helpers create people, log in,
//! run the outbox and read what was sent.
#![allow(dead_code)]

pub mod cli;
pub mod desk;
pub mod intake;
pub mod mail_stack;
pub mod outbox;
pub mod server;
pub mod smtp_sink;

use diesel::{Connection, PgConnection, RunQueryDsl};
use keydesk::app::Services;
use keydesk::mail::sender::{deliver_due, DeliveryReport, Transport};
use keydesk::store::events::{Actor, Event, EventFilter};
use keydesk::store::orgs::Organisation;
use keydesk::store::users::User;
use keydesk_core::{EmailAddress, Role, SettableClock, UnlockPolicy};
use rocket::figment::Figment;
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const PASSWORD: &str = "correct horse battery staple";

/// Waits (blocking) for `check` to hold, up to `limit`; whether it did.
pub fn wait_until(limit: std::time::Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    check()
}

/// Where every test's clock starts, whatever the time it runs at: Tuesday 24 November 2026,
/// noon in London (UTC in winter). A test that needs another instant sets it.
pub const TEST_START: &str = "2026-11-24T12:00:00Z";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// [`TEST_START`] as an instant.
pub fn test_start() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(TEST_START).unwrap().into()
}

/// Declares each listed `async fn name(backend: Backend)` as two tests, one per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[rocket::async_test] async fn $name() { super::$name($crate::common::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[rocket::async_test] async fn $name() { super::$name($crate::common::Backend::Postgres).await } )*
        }
    };
}

/// Keydesk's services on `database_url` (two connections, default configuration), with the
/// organisation Acme and these members in it (password [`PASSWORD`]): the desk that tests
/// driving `keydesk serve` processes sign in to.
pub fn acme_members(database_url: &str, emails: &[&str]) -> (Services, Vec<User>) {
    use keydesk::accounts::users::{create_organisation, create_user, UserDetails};
    let services = keydesk::open_services(keydesk::config::Config {
        database_url: database_url.to_owned(),
        database_pool_size: 2,
        ..Default::default()
    })
    .unwrap();
    let members = {
        let conn = &mut *services.db.pool().get().unwrap();
        let now = services.stored_now();
        let org = create_organisation(conn, "Acme", "acme", UnlockPolicy::Admins, now).unwrap();
        let hash = services.passwords.hash(PASSWORD);
        emails
            .iter()
            .map(|email| {
                let role = "member".parse().unwrap();
                let details = UserDetails { email, full_name: "A Person", role, organisation: Some(&org) };
                create_user(conn, details, &hash, &Actor::System("test"), None, now).unwrap()
            })
            .collect()
    };
    (services, members)
}

pub fn postgres_admin_url() -> String {
    std::env::var("KEYDESK_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database made for one test; a PostgreSQL one is dropped when the test ends.
pub struct TestDatabase {
    pub url: String,
    postgres_name: Option<String>,
}

impl TestDatabase {
    pub fn create(backend: Backend, dir: &Path) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                TestDatabase { url: dir.join("keydesk.sqlite").display().to_string(), postgres_name: None }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = format!("keydesk_test_{}", &keydesk_core::PlainToken::generate().expose()[..16]);
                let mut conn = PgConnection::establish(&admin).unwrap_or_else(|e| {
                    panic!("PostgreSQL for tests at {admin} (run scripts/test, which starts it): {e}")
                });
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).expect("create test database");
                let base = admin.rsplit_once('/').map(|(base, _)| base).unwrap_or(&admin);
                TestDatabase { url: format!("{base}/{name}"), postgres_name: Some(name) }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(name) = &self.postgres_name {
            if let Ok(mut conn) = PgConnection::establish(&postgres_admin_url()) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn);
            }
        }
    }
}

pub struct TestApp {
    pub client: Client,
    pub backend: Backend,
    /// The application's clock: it stands still unless a test moves it.
    pub clock: Arc<SettableClock>,
    pub dir: tempfile::TempDir,
    // Dropped after the client (fields drop in order), so the pool closes first.
    pub database: TestDatabase,
}

pub fn repo_path(relative: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative).display().to_string()
}

/// The configuration a test app starts from: quiet, deterministic mail, no throttle.
pub fn test_figment(database_url: &str, dir: &Path) -> Figment {
    keydesk::figment()
        .merge(("database_url", database_url))
        .merge(("database_pool_size", 8))
        .merge(("data_dir", dir.join("data").display().to_string()))
        .merge(("log_level", "off"))
        .merge(("public_url", "http://keydesk.test"))
        .merge(("support_email", "support@keydesk.test"))
        .merge(("mail.transport", "file"))
        .merge(("mail.dir", dir.join("mail").display().to_string()))
        .merge(("mail.from", "Keydesk <keydesk@keydesk.test>"))
        .merge(("mail.background_sender", false))
        .merge(("sla.background_checks", false))
        .merge(("retention.background", false))
        .merge(("throttle.max_failures_per_ip", 0))
        // Second factors are asked for by the tests about them (tests/mfa.rs), not by all.
        .merge(("mfa.required_for", Vec::<String>::new()))
        .merge(("intake.source", "maildir"))
        .merge(("intake.dir", dir.join("intake").display().to_string()))
        .merge(("intake.background", false))
        // Support is always open unless a test says otherwise.
        .merge(("working_hours.timezone", "UTC"))
        .merge(("working_hours.days", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]))
        .merge(("working_hours.open", "00:00"))
        .merge(("working_hours.close", "24:00"))
        .merge(("working_hours.holidays", Vec::<String>::new()))
}

impl TestApp {
    pub async fn new(backend: Backend) -> TestApp {
        Self::with(backend, |figment| figment).await
    }

    pub async fn with(backend: Backend, configure: impl FnOnce(Figment) -> Figment) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = TestDatabase::create(backend, dir.path());
        let figment = configure(test_figment(&database.url, dir.path()));
        Self::launch(backend, database, dir, figment, SettableClock::at(test_start())).await
    }

    async fn launch(
        backend: Backend,
        database: TestDatabase,
        dir: tempfile::TempDir,
        figment: Figment,
        clock: SettableClock,
    ) -> TestApp {
        let clock = Arc::new(clock);
        let rocket = keydesk::build_with_clock(figment, clock.clone()).expect("Keydesk builds");
        let client = Client::tracked(rocket).await.expect("valid rocket");
        TestApp { client, backend, clock, dir, database }
    }

    /// The application's time now.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        keydesk_core::Clock::now(self.clock.as_ref())
    }

    /// Sets the application's clock (an RFC 3339 instant).
    pub fn set_time(&self, rfc3339: &str) {
        self.clock.set(chrono::DateTime::parse_from_rfc3339(rfc3339).expect("an RFC 3339 instant").into());
    }

    pub fn services(&self) -> &Services {
        self.client.rocket().state::<Services>().expect("services")
    }

    pub async fn org(&self, name: &str, slug: &str, policy: UnlockPolicy) -> Organisation {
        let (name, slug) = (name.to_owned(), slug.to_owned());
        self.services()
            .run(move |conn, services| {
                keydesk::accounts::users::create_organisation(conn, &name, &slug, policy, services.stored_now())
            })
            .await
            .expect("organisation")
    }

    pub async fn user(&self, email: &str, name: &str, role: &str, org: Option<&Organisation>) -> User {
        let (email, name, org) = (email.to_owned(), name.to_owned(), org.cloned());
        let role: Role = role.parse().expect("role");
        let hash = self.services().passwords.hash(PASSWORD);
        self.services()
            .run(move |conn, services| {
                let details = keydesk::accounts::users::UserDetails {
                    email: &email,
                    full_name: &name,
                    role,
                    organisation: org.as_ref(),
                };
                keydesk::accounts::users::create_user(
                    conn,
                    details,
                    &hash,
                    &Actor::System("test"),
                    None,
                    services.stored_now(),
                )
            })
            .await
            .expect("user")
    }

    pub async fn reload(&self, user: &User) -> User {
        self.reload_email(&user.email).await
    }

    /// The user with this address, as stored now.
    pub async fn reload_email(&self, email: &str) -> User {
        let email = EmailAddress::parse(email).unwrap();
        self.services()
            .run(move |conn, _| Ok(keydesk::store::users::find_by_email(conn, &email)?.expect("user exists")))
            .await
            .unwrap()
    }

    /// A new API token for a staff member, as `keydesk token create` makes one.
    pub async fn try_api_token(&self, email: &str) -> Result<keydesk_core::PlainToken, keydesk::app::AppError> {
        let email = email.to_owned();
        self.services()
            .run(move |conn, services| {
                let actor = Actor::System("test");
                keydesk::accounts::api_tokens::create(conn, &email, None, &actor, services.stored_now())
            })
            .await
    }

    /// The `Authorization` header of a new API token for a staff member.
    pub async fn bearer(&self, email: &str) -> rocket::http::Header<'static> {
        let token = self.try_api_token(email).await.expect("an API token");
        rocket::http::Header::new("Authorization", format!("Bearer {}", token.expose()))
    }

    /// The CSRF token of this client's cookie jar (fetching a page issues one).
    pub async fn csrf_token(&self) -> String {
        csrf_token_of(&self.client).await
    }

    /// Posts a form with this client's CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> LocalResponse<'_> {
        post_form_with(&self.client, path, fields).await
    }

    /// Posts exactly these fields (no token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> LocalResponse<'_> {
        post_raw_with(&self.client, path, fields).await
    }

    pub async fn log_in(&self, email: &str, password: &str) -> LocalResponse<'_> {
        self.post_form("/login", &[("email", email), ("password", password)]).await
    }

    /// Logs in and checks it worked.
    pub async fn logged_in_as(&self, email: &str) {
        let response = self.log_in(email, PASSWORD).await;
        assert_eq!(response.status(), Status::SeeOther, "login of {email} should succeed");
    }

    /// Lifts the user's current lock straight in the store, as someone else (an admin, a
    /// support agent) would meanwhile.
    pub async fn lift_lock(&self, user: keydesk::ids::UserId) {
        self.services()
            .run(move |conn, _| {
                let lock_began = keydesk::store::users::find(conn, user)?.and_then(|u| u.locked_at).expect("locked");
                Ok(keydesk::store::users::unlock(conn, user, lock_began)?)
            })
            .await
            .unwrap();
    }

    pub async fn tickets(&self) -> Vec<keydesk::store::tickets::Ticket> {
        let mut tickets =
            self.services().run(|conn, _| Ok(keydesk::store::tickets::list(conn, None, 1000)?)).await.unwrap();
        tickets.reverse();
        tickets
    }

    /// Waits for what requests left running in the background (forgot-password's work).
    pub async fn settled(&self) {
        self.services().background.settled().await;
    }

    pub async fn deliver_mail(&self) -> DeliveryReport {
        self.settled().await;
        let services = self.services();
        let transport = Transport::from_config(&services.config).expect("transport");
        deliver_due(&services.db, &services.config, services.clock.as_ref(), &transport).await.expect("delivery")
    }

    /// Delivers the whole outbox (batch after batch) and returns every message in the mail
    /// folder, oldest first.
    pub async fn mail(&self) -> Vec<Mail> {
        while self.deliver_mail().await.sent > 0 {}
        read_mail_dir(&self.dir.path().join("mail"))
    }

    pub async fn mail_to(&self, address: &str) -> Vec<Mail> {
        self.mail().await.into_iter().filter(|m| m.to == address).collect()
    }

    /// Events about one user, newest first.
    pub async fn events_of(&self, user: &User) -> Vec<Event> {
        self.settled().await;
        let id = user.id;
        self.services()
            .run(move |conn, _| {
                Ok(keydesk::store::events::list(
                    conn,
                    &EventFilter { target_user_id: Some(id), limit: 10_000, ..Default::default() },
                )?)
            })
            .await
            .unwrap()
    }

    pub async fn actions_of(&self, user: &User) -> Vec<String> {
        let mut actions: Vec<String> =
            self.events_of(user).await.into_iter().map(|e| e.action.label().to_owned()).collect();
        actions.reverse();
        actions
    }
}

/// The CSRF token of a client's cookie jar (fetching a page issues one).
pub async fn csrf_token_of(client: &Client) -> String {
    let body = client.get("/login").dispatch().await.into_string().await.unwrap();
    hidden_csrf_token(&body).expect("login page has a CSRF token")
}

/// Posts a form with the client's CSRF token added.
pub async fn post_form_with<'c>(client: &'c Client, path: &str, fields: &[(&str, &str)]) -> LocalResponse<'c> {
    let token = csrf_token_of(client).await;
    let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
    all.extend_from_slice(fields);
    post_raw_with(client, path, &all).await
}

/// Posts exactly these fields (no token added).
pub async fn post_raw_with<'c>(client: &'c Client, path: &str, fields: &[(&str, &str)]) -> LocalResponse<'c> {
    client.post(path.to_owned()).header(ContentType::Form).body(form_urlencoded(fields)).dispatch().await
}

pub fn form_urlencoded(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish()
}

/// A page with its CSRF token (different per visitor by design) taken out, to compare pages.
pub fn without_csrf_token(html: &str) -> String {
    match hidden_csrf_token(html) {
        Some(token) => html.replace(&token, "TOKEN"),
        None => html.to_owned(),
    }
}

pub fn hidden_csrf_token(html: &str) -> Option<String> {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse("input[name=csrf_token]").unwrap();
    document.select(&selector).next().and_then(|e| e.value().attr("value")).map(str::to_owned)
}

/// The path of the mailbox-challenge link in an email's text ("/confirm/<token>").
pub fn confirm_path_in(text: &str) -> String {
    let link = text.split_whitespace().find(|w| w.starts_with("http://keydesk.test/confirm/")).expect("a confirm link");
    link.trim_start_matches("http://keydesk.test").to_owned()
}

impl TestApp {
    /// The path of the latest mailbox challenge sent to `address`.
    pub async fn latest_confirm_path(&self, address: &str) -> String {
        let challenges: Vec<Mail> = self
            .mail_to(address)
            .await
            .into_iter()
            .filter(|m| m.subject.contains("Please confirm it is you"))
            .collect();
        confirm_path_in(&challenges.last().expect("a mailbox challenge").text)
    }
}

/// A delivered email, parsed enough for assertions.
#[derive(Debug, Clone)]
pub struct Mail {
    pub path: PathBuf,
    pub to: String,
    pub subject: String,
    pub raw: String,
    pub text: String,
}

pub fn read_mail_dir(dir: &Path) -> Vec<Mail> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    paths.into_iter().map(parse_mail).collect()
}

fn parse_mail(path: PathBuf) -> Mail {
    let raw = std::fs::read_to_string(&path).unwrap();
    let message = mail_parser::MessageParser::default().parse(raw.as_bytes()).expect("a parseable email");
    let to = message.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned();
    let subject = message.subject().unwrap_or_default().to_owned();
    let text = message.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    Mail { path, to, subject, raw, text }
}

/// A second browser against the same application: its own Rocket instance on the same
/// configuration (database, secret key, mail folder), and its own cookie jar.
pub struct TestClient {
    pub client: Client,
}

impl TestClient {
    /// Waits for what this browser's requests left running in the background.
    pub async fn settled(&self) {
        self.client.rocket().state::<Services>().expect("services").background.settled().await;
    }

    pub async fn new(app: &TestApp) -> TestClient {
        let figment = app.client.rocket().figment().clone();
        let rocket = keydesk::build_with_clock(figment, app.clock.clone()).expect("Keydesk builds");
        TestClient { client: Client::tracked(rocket).await.expect("valid rocket") }
    }

    pub async fn csrf_token(&self) -> String {
        csrf_token_of(&self.client).await
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> LocalResponse<'_> {
        post_form_with(&self.client, path, fields).await
    }

    pub async fn log_in(&self, email: &str, password: &str) -> LocalResponse<'_> {
        self.post_form("/login", &[("email", email), ("password", password)]).await
    }
}

/// Locks an account the way an attacker would: five wrong passwords in a row (the default
/// `lockout.max_failed_attempts`), and checks that it is locked.
pub async fn lock_by_wrong_logins(app: &TestApp, user: &User) -> User {
    for _ in 0..5 {
        assert_eq!(app.log_in(&user.email, "wrong password").await.status(), Status::Ok);
    }
    let user = app.reload(user).await;
    assert!(user.locked_at.is_some(), "{} should be locked after five wrong passwords", user.email);
    user
}

impl TestApp {
    /// A test app on a database that already exists (e.g. one the command line filled), with
    /// the usual test configuration in `dir`. Its clock starts at the system's time, as the
    /// command line's did, so what it records follows what the command line wrote.
    pub async fn open(backend: Backend, database: TestDatabase, dir: tempfile::TempDir) -> TestApp {
        Self::open_with(backend, database, dir, |figment| figment).await
    }

    /// [`TestApp::open`], with `configure` applied over the usual test configuration.
    pub async fn open_with(
        backend: Backend,
        database: TestDatabase,
        dir: tempfile::TempDir,
        configure: impl FnOnce(Figment) -> Figment,
    ) -> TestApp {
        let figment = configure(test_figment(&database.url, dir.path()));
        Self::launch(backend, database, dir, figment, SettableClock::starting_now()).await
    }
}
