//! `keydesk doctor`: checks a configuration against the world it names — the database, the
//! mail source and server, the clock, the secret key, the public address, the files — and
//! says for each, in one line, `OK`, `WARN` or `FAIL`, the configuration key involved and
//! what to do. Nothing is changed: no migration is applied, no mail is taken in or sent.
//! No line ever holds a password: errors are the servers' answers, URLs are shown without
//! their password, and a secret's unreadable value is never quoted.

use crate::config::{Config, ConfigError, IntakeSourceKind, MailTransportKind, SmtpSecurity};
use crate::db::DatabaseUrl;
use crate::mail::sender::Transport;
use crate::private_files::{mode_of, DIR_MODE, FILE_MODE};
use chrono::{DateTime, Utc};
use rocket::figment::Figment;
use std::fmt;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Warn,
    Fail,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "OK",
            Outcome::Warn => "WARN",
            Outcome::Fail => "FAIL",
        }
    }
}

/// One line of the doctor's answer: what was checked (named by its configuration key), how
/// it went, and what it found or what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub outcome: Outcome,
    pub advice: String,
}

impl Check {
    fn new(name: &'static str, outcome: Outcome, advice: impl Into<String>) -> Check {
        Check { name, outcome, advice: advice.into() }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<4}  {}: {}", self.outcome.label(), self.name, self.advice)
    }
}

/// Every check, in order. A configuration that does not parse is the only line: the others
/// need it.
pub async fn run(figment: &Figment, now: DateTime<Utc>) -> Vec<Check> {
    let config = match Config::from_figment(figment) {
        Ok(config) => config,
        Err(error) => return vec![configuration_failed(&error)],
    };
    let mut checks = vec![Check::new(
        "configuration",
        Outcome::Ok,
        "Rocket.toml and the ROCKET_… variables parse, every value is valid",
    )];
    let blocking = config.clone();
    let (database, intake) = rocket::tokio::task::spawn_blocking(move || (database(&blocking), intake(&blocking)))
        .await
        .unwrap_or_else(|e| {
            let failed = || Check::new("doctor", Outcome::Fail, format!("a check could not run: {e}"));
            (failed(), failed())
        });
    checks.extend([database, intake, mail(&config).await, clock(&config, now)]);
    checks.push(secret_key(figment, &config));
    checks.push(public_url(&config));
    checks.extend(permissions(&config));
    checks
}

/// The configuration's own error names its key; a secret's value is never repeated (a
/// wrongly typed password would otherwise be quoted by the parser).
fn configuration_failed(error: &ConfigError) -> Check {
    let advice = match error {
        ConfigError::Unreadable(figment) if figment.path.iter().any(|p| is_secret_key(p)) => {
            format!("`{}` cannot be read (its value is not shown): it must be a string", figment.path.join("."))
        }
        other => other.to_string(),
    };
    Check::new("configuration", Outcome::Fail, format!("{advice}: fix it in Rocket.toml or its ROCKET_… variable"))
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.contains("password") || key.contains("secret")
}

/// `postgres://user:password@host/db` as `postgres://user:***@host/db`.
fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => "(an unparseable URL)".to_owned(),
    }
}

/// The database answers, and has every migration this build has.
fn database(config: &Config) -> Check {
    let url = DatabaseUrl::parse(&config.database_url);
    let shown = match &url {
        DatabaseUrl::Postgres(raw) => format!("PostgreSQL {}", shown_url(raw)),
        DatabaseUrl::Sqlite(path) => {
            // Opening a missing file would create it: say so instead.
            if !path.exists() {
                return Check::new(
                    "database_url",
                    Outcome::Warn,
                    format!(
                        "no SQLite database at {} yet: Keydesk creates it at its first start (or run `keydesk migrate`)",
                        path.display()
                    ),
                );
            }
            format!("SQLite {}", path.display())
        }
    };
    match crate::db::pending_migrations(&url) {
        Ok(pending) if pending.is_empty() => {
            Check::new("database_url", Outcome::Ok, format!("{shown}: connected, every migration applied"))
        }
        Ok(pending) => Check::new(
            "database_url",
            Outcome::Warn,
            format!(
                "{shown}: {} migration(s) not applied yet ({}): Keydesk applies them at start, or run `keydesk migrate`",
                pending.len(),
                pending.join(", ")
            ),
        ),
        Err(error) => Check::new(
            "database_url",
            Outcome::Fail,
            format!("{shown}: {error}: check database_url and that the database server is running"),
        ),
    }
}

/// Where tickets come from: the Maildir is there and Keydesk may use it, or the IMAP server
/// lets Keydesk in, has the mailbox, and offers IDLE.
fn intake(config: &Config) -> Check {
    let intake = &config.intake;
    match intake.source {
        IntakeSourceKind::Off => {
            Check::new("intake", Outcome::Ok, "intake.source is \"off\": no mail becomes a ticket")
        }
        IntakeSourceKind::Maildir => maildir(&intake.dir),
        IntakeSourceKind::Imap => {
            let server = format!("IMAP {}:{} ({})", intake.host, intake.port, security_name(intake.security));
            let mut session = match crate::intake::imap::connect(intake) {
                Ok(session) => session,
                Err(crate::intake::imap::ConnectError::Connect(error)) => {
                    return Check::new(
                        "intake",
                        Outcome::Fail,
                        format!("cannot reach {server}: {error}: check intake.host, intake.port and intake.security"),
                    )
                }
                Err(crate::intake::imap::ConnectError::Login(error)) => {
                    return Check::new(
                        "intake",
                        Outcome::Fail,
                        format!(
                            "{server} refused the login of {}: {error}: check intake.username and intake.password",
                            intake.username
                        ),
                    )
                }
            };
            let idle = session.capabilities().map(|c| c.has_str("IDLE"));
            let selected = session.select(&intake.mailbox);
            let _ = session.logout();
            match (selected, idle) {
                (Err(error), _) => Check::new(
                    "intake",
                    Outcome::Fail,
                    format!("{server}: cannot select {:?}: {error}: check intake.mailbox", intake.mailbox),
                ),
                (Ok(_), Ok(true)) => Check::new(
                    "intake",
                    Outcome::Ok,
                    format!("{server}: logged in as {}, {} selected, IDLE offered", intake.username, intake.mailbox),
                ),
                (Ok(_), _) => Check::new(
                    "intake",
                    Outcome::Warn,
                    format!(
                        "{server}: logged in, {} selected, but IDLE is not offered: new mail waits up to \
                         intake.poll_seconds ({}s)",
                        intake.mailbox, intake.poll_seconds
                    ),
                ),
            }
        }
    }
}

fn maildir(dir: &Path) -> Check {
    if !dir.exists() {
        return Check::new(
            "intake",
            Outcome::Warn,
            format!(
                "the Maildir {} (intake.dir) does not exist yet: Keydesk creates it (0700) at its first pass; a \
                 mail server running as another user needs one it can deliver into",
                dir.display()
            ),
        );
    }
    if !dir.is_dir() {
        return Check::new("intake", Outcome::Fail, format!("intake.dir {} is not a folder", dir.display()));
    }
    if !may_read_and_write(dir) {
        return Check::new(
            "intake",
            Outcome::Fail,
            format!("Keydesk's user cannot read and write the Maildir {} (intake.dir): fix its owner", dir.display()),
        );
    }
    Check::new("intake", Outcome::Ok, format!("Maildir {}: there, readable and writable", dir.display()))
}

/// Whether this process may list, read and write in `dir` (as the kernel decides).
fn may_read_and_write(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else { return false };
    // SAFETY: access(2) reads a NUL-terminated path and changes nothing.
    unsafe { libc::access(path.as_ptr(), libc::R_OK | libc::W_OK | libc::X_OK) == 0 }
}

fn security_name(security: SmtpSecurity) -> &'static str {
    match security {
        SmtpSecurity::None => "no TLS",
        SmtpSecurity::Starttls => "STARTTLS",
        SmtpSecurity::Tls => "TLS",
    }
}

/// The SMTP server takes a connection as configured (TLS, AUTH); nothing is sent.
async fn mail(config: &Config) -> Check {
    let mail = &config.mail;
    if mail.transport == MailTransportKind::File {
        return Check::new(
            "mail",
            Outcome::Warn,
            format!(
                "mail.transport is \"file\": emails are written to {} (mail.dir) and reach nobody; set \
                 mail.transport = \"smtp\" and mail.host",
                mail.dir.display()
            ),
        );
    }
    let server = format!("SMTP {}:{} ({})", mail.host, mail.port, security_name(mail.security));
    let auth = match &mail.username {
        Some(user) if mail.password.is_some() => format!("logged in as {user}"),
        _ => "no AUTH configured".to_owned(),
    };
    let transport = match Transport::from_config(config) {
        Ok(Transport::Smtp(smtp)) => smtp,
        Ok(Transport::File(_)) => unreachable!("the transport is smtp"),
        Err(error) => return Check::new("mail", Outcome::Fail, format!("{server}: {error}: check mail.security")),
    };
    match transport.test_connection().await {
        Ok(true) => Check::new("mail", Outcome::Ok, format!("{server}: connected, {auth}; nothing was sent")),
        Ok(false) => Check::new(
            "mail",
            Outcome::Fail,
            format!("{server}: connected, but the server did not answer NOOP: check mail.host and mail.port"),
        ),
        Err(error) if error.is_tls() => {
            Check::new("mail", Outcome::Fail, format!("{server}: TLS failed: {error}: check mail.security"))
        }
        Err(error) if error.status().is_some() => Check::new(
            "mail",
            Outcome::Fail,
            format!("{server} refused: {error}: check mail.username and mail.password (and mail.security)"),
        ),
        Err(error) => {
            Check::new("mail", Outcome::Fail, format!("cannot reach {server}: {error}: check mail.host and mail.port"))
        }
    }
}

/// Before this, the system clock is certainly wrong (Keydesk did not exist).
const EARLIEST_PLAUSIBLE: &str = "2026-01-01T00:00:00Z";

/// The system's time is plausible, and what time it is on support's clock.
fn clock(config: &Config, now: DateTime<Utc>) -> Check {
    let earliest: DateTime<Utc> = EARLIEST_PLAUSIBLE.parse().expect("a valid instant");
    if now < earliest {
        return Check::new(
            "clock",
            Outcome::Fail,
            format!("the system clock says {now}, before Keydesk existed: set the time (NTP)"),
        );
    }
    match config.calendar() {
        Ok(calendar) => {
            let state = if calendar.is_open(now) {
                "support is open".to_owned()
            } else {
                calendar.describe_closed(calendar.next_opening(now)).replacen("Support", "support", 1)
            };
            Check::new(
                "clock",
                Outcome::Ok,
                format!(
                    "system time {} UTC; on support's clock (working_hours.timezone) it is {}: {}",
                    now.format("%Y-%m-%d %H:%M"),
                    calendar.describe_instant(now),
                    state.trim_end_matches('.')
                ),
            )
        }
        Err(error) => Check::new("clock", Outcome::Fail, format!("{error}: check working_hours.timezone")),
    }
}

/// Sessions survive restarts only with a steady key: configured, or the generated file.
fn secret_key(figment: &Figment, config: &Config) -> Check {
    use rocket::config::SecretKey;
    // Rocket's defaults supply an all-zero key when none is configured.
    if figment.extract_inner::<SecretKey>("secret_key").is_ok_and(|key| !key.is_zero()) {
        return Check::new("secret_key", Outcome::Ok, "configured (not shown)");
    }
    let path = config.data_dir.join("secret_key");
    let key = match std::fs::read_to_string(&path) {
        Ok(key) => key,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Check::new(
                "secret_key",
                Outcome::Ok,
                format!("none configured: Keydesk generates one into {} (0600) at its first start", path.display()),
            )
        }
        Err(error) => {
            return Check::new("secret_key", Outcome::Fail, format!("cannot read {}: {error}", path.display()))
        }
    };
    let usable = Figment::new()
        .merge(("secret_key", key.trim()))
        .extract_inner::<SecretKey>("secret_key")
        .is_ok_and(|key| !key.is_zero());
    if !usable {
        return Check::new(
            "secret_key",
            Outcome::Fail,
            format!(
                "{} does not hold a usable key (or holds the all-zero one): delete it and Keydesk generates a new \
                 one at start (everyone signs in again), or configure secret_key",
                path.display()
            ),
        );
    }
    match mode_of(&path) {
        Ok(Some(mode)) if mode & 0o077 != 0 => Check::new(
            "secret_key",
            Outcome::Warn,
            format!("{} is {mode:04o}, readable by other users: chmod 600 {}", path.display(), path.display()),
        ),
        _ => Check::new("secret_key", Outcome::Ok, format!("generated, in {} (0600)", path.display())),
    }
}

/// Passwords and session cookies cross the network only inside TLS.
fn public_url(config: &Config) -> Check {
    let url = url::Url::parse(&config.public_url).ok();
    let Some(url) = url else {
        return Check::new("public_url", Outcome::Fail, "is not a URL");
    };
    let local = match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost" || name.ends_with(".localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match (url.scheme(), local) {
        ("https", _) => Check::new("public_url", Outcome::Ok, format!("{url}: https, cookies are Secure")),
        (_, true) => Check::new(
            "public_url",
            Outcome::Ok,
            format!("{url}: http on this machine only; use an https:// address before people reach it over a network"),
        ),
        _ => Check::new(
            "public_url",
            Outcome::Warn,
            format!(
                "{url} is http: passwords and session cookies cross the network in clear text; serve Keydesk over \
                 https (e.g. behind a TLS proxy) and set public_url to its https:// address"
            ),
        ),
    }
}

/// What Keydesk keeps is its user's alone: folders 0700, files 0600.
fn permissions(config: &Config) -> Vec<Check> {
    let mut paths = vec![("data_dir permissions", config.data_dir.clone(), DIR_MODE)];
    if let DatabaseUrl::Sqlite(database) = DatabaseUrl::parse(&config.database_url) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = database.clone().into_os_string();
            path.push(suffix);
            paths.push(("database_url permissions", path.into(), FILE_MODE));
        }
    }
    if config.mail.transport == MailTransportKind::File {
        paths.push(("mail.dir permissions", config.mail.dir.clone(), DIR_MODE));
    }
    paths
        .into_iter()
        .filter_map(|(name, path, wanted)| {
            let shown = path.display();
            match mode_of(&path) {
                Ok(None) => None,
                Ok(Some(mode)) if mode & !wanted & 0o777 != 0 => Some(Check::new(
                    name,
                    Outcome::Warn,
                    format!("{shown} is {mode:04o}, open to other users of this machine: chmod {wanted:o} {shown}"),
                )),
                Ok(Some(mode)) => Some(Check::new(name, Outcome::Ok, format!("{shown} is {mode:04o}"))),
                Err(error) => Some(Check::new(name, Outcome::Fail, format!("cannot look at {shown}: {error}"))),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(shown_url("postgres://kd:s3cret@db.example/keydesk"), "postgres://kd:***@db.example/keydesk");
        assert_eq!(shown_url("postgres://kd@db.example/keydesk"), "postgres://kd@db.example/keydesk");
    }

    #[test]
    fn http_warns_only_off_this_machine() {
        let outcome = |url: &str| public_url(&Config { public_url: url.into(), ..Config::default() }).outcome;
        assert_eq!(outcome("https://desk.example"), Outcome::Ok);
        assert_eq!(outcome("http://127.0.0.1:8000"), Outcome::Ok);
        assert_eq!(outcome("http://localhost:8000"), Outcome::Ok);
        assert_eq!(outcome("http://desk.example"), Outcome::Warn);
    }

    #[test]
    fn a_clock_before_keydesk_existed_fails() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(clock(&Config::default(), at("2001-01-01T00:00:00Z")).outcome, Outcome::Fail);
        let now = clock(&Config::default(), at("2026-11-24T12:00:00Z"));
        assert_eq!(now.outcome, Outcome::Ok);
        assert!(now.advice.contains("Europe/London"), "{now}");
    }
}
