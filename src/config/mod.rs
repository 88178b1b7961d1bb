//! Keydesk's typed configuration: read from `Rocket.toml` (profiles) and `ROCKET_…`
//! environment variables, checked once at start-up so that a bad value stops the process
//! with its key named, then passed around as `&State<Config>`. Never a global.

mod intake;
mod retention;

pub use intake::{IntakeConfig, IntakeSourceKind};
use keydesk_core::{EmailAddress, LockoutPolicy};
pub use retention::{RetentionConfig, RetentionPeriod};
use rocket::figment::Figment;
use serde::Deserialize;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// A SQLite file path, or a `postgres://` URL.
    pub database_url: String,
    pub database_pool_size: u32,
    /// Where Keydesk keeps what it generates (the secret key when none is configured).
    pub data_dir: PathBuf,
    /// Templates that replace the built-in ones of the same name (default: `data_dir/templates`).
    pub template_dir: Option<PathBuf>,
    /// Static files served instead of the built-in ones of the same name (default: `data_dir/static`).
    pub static_dir: Option<PathBuf>,
    /// The address people reach Keydesk at; links in emails start with it.
    pub public_url: String,
    /// Where locked users write to.
    pub support_email: String,
    #[serde(with = "humantime_serde")]
    pub session_ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub password_reset_ttl: Duration,
    pub lockout: LockoutConfig,
    pub throttle: ThrottleConfig,
    pub mail: MailConfig,
    pub intake: IntakeConfig,
    pub working_hours: keydesk_core::calendar::WorkingHoursConfig,
    pub verification: VerificationConfig,
    pub sla: SlaConfig,
    pub mfa: MfaConfig,
    pub retention: RetentionConfig,
    /// Run the background work (outbox, intake, SLA watch, retention) in this process. `keydesk
    /// serve --no-worker` turns it off, for web processes scaled apart from a `keydesk worker`.
    pub worker: bool,
    pub metrics: MetricsConfig,
    /// How log lines are written: readable `text`, or one JSON object per line (`json`).
    pub log_format: LogFormat,
}

/// `GET /metrics`: off (answered 404, like any unknown address) until a token is set.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct MetricsConfig {
    /// What the scraper sends as `Authorization: Bearer …`.
    pub token: Option<Secret>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Text,
    /// One JSON object per line, for a log collector.
    Json,
}

/// Second factors: who must have one, and how long one lets a session unlock and verify.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MfaConfig {
    /// Roles taken to set up an authenticator right after their first password login, who can
    /// do nothing else until they have: every role that can unlock anyone, by default.
    pub required_for: Vec<String>,
    /// How long after a second factor a session may unlock, verify and approve without being
    /// asked for a fresh code.
    #[serde(with = "humantime_serde")]
    pub step_up_window: Duration,
}

impl Default for MfaConfig {
    fn default() -> Self {
        MfaConfig {
            required_for: ["agent", "manager", "operator", "owner", "admin"].map(String::from).to_vec(),
            step_up_window: Duration::from_secs(10 * 60),
        }
    }
}

/// The service-level targets reports measure against, in business time (working hours only).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SlaConfig {
    /// From the email's arrival to the first human reply, verification or unlock.
    #[serde(with = "humantime_serde")]
    pub first_response: Duration,
    /// From the email's arrival to the unlock.
    #[serde(with = "humantime_serde")]
    pub unlock: Duration,
    /// The share of tickets, in percent, that should meet each target; the report flags a
    /// target whose compliance falls below it.
    pub compliance_goal: u8,
    /// Email the agents when a ticket passes 80% of a target and the managers when it
    /// breaches one (once per ticket and target, only while support is open).
    pub alerts: bool,
    /// Run the checks in the background (tests run them one at a time instead).
    pub background_checks: bool,
    /// How often the background worker looks (at most 30 s, so an alert is never late by more).
    #[serde(with = "humantime_serde")]
    pub check_interval: Duration,
    /// A daily digest to each manager: yesterday's figures and the open breaches. Off by default.
    pub daily_digest: bool,
    /// When the digest goes out, on the desk's clock ("08:30").
    pub digest_time: String,
}

impl Default for SlaConfig {
    fn default() -> Self {
        SlaConfig {
            first_response: Duration::from_secs(3600),
            unlock: Duration::from_secs(4 * 3600),
            compliance_goal: 90,
            alerts: true,
            background_checks: true,
            check_interval: Duration::from_secs(30),
            daily_digest: false,
            digest_time: "08:00".into(),
        }
    }
}

impl SlaConfig {
    pub fn digest_time(&self) -> Option<chrono::NaiveTime> {
        chrono::NaiveTime::parse_from_str(self.digest_time.trim(), "%H:%M").ok()
    }

    pub fn targets(&self) -> keydesk_core::reports::SlaTargets {
        let seconds = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        keydesk_core::reports::SlaTargets {
            first_response_seconds: seconds(self.first_response),
            unlock_seconds: seconds(self.unlock),
        }
    }
}

/// How senders are authenticated.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct VerificationConfig {
    /// The authserv-id your receiving mail server stamps on `Authentication-Results`. Only its
    /// topmost header counts; empty trusts none (every sender then needs the mailbox
    /// challenge or a manager). The server must strip such headers arriving from outside.
    pub trusted_authserv_id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LockoutConfig {
    pub max_failed_attempts: u32,
    #[serde(with = "humantime_serde")]
    pub auto_unlock_after: Option<Duration>,
}

/// Limits what one client address, or one account, may ask for: failed logins per address
/// (so one address cannot lock many accounts fast), forgot-password requests per address and
/// reset emails per account (so a mailbox cannot be flooded). Counted in the database, so the
/// limits hold across every Keydesk process.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ThrottleConfig {
    /// Failed logins one address may make per window; 0 turns the throttle off.
    pub max_failures_per_ip: u32,
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    /// Forgot-password requests one address may make per `window`; 0: no limit.
    pub max_reset_requests_per_ip: u32,
    /// Reset emails one account may be sent per `reset_email_window`; 0: no limit.
    pub max_reset_emails_per_account: u32,
    #[serde(with = "humantime_serde")]
    pub reset_email_window: Duration,
}

impl ThrottleConfig {
    fn policy(limit: u32, window: Duration) -> keydesk_core::throttle::ThrottlePolicy {
        let window = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::minutes(15));
        keydesk_core::throttle::ThrottlePolicy { limit, window }
    }

    pub fn logins_per_ip(&self) -> keydesk_core::throttle::ThrottlePolicy {
        Self::policy(self.max_failures_per_ip, self.window)
    }

    pub fn reset_requests_per_ip(&self) -> keydesk_core::throttle::ThrottlePolicy {
        Self::policy(self.max_reset_requests_per_ip, self.window)
    }

    pub fn reset_emails_per_account(&self) -> keydesk_core::throttle::ThrottlePolicy {
        Self::policy(self.max_reset_emails_per_account, self.reset_email_window)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransportKind {
    /// One `.eml` file per message in `mail.dir` (the embedded default).
    File,
    Smtp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MailConfig {
    pub transport: MailTransportKind,
    pub from: String,
    pub dir: PathBuf,
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Accept a self-signed certificate (test servers only).
    pub accept_invalid_certs: bool,
    /// Run the background sender. Tests turn it off and deliver explicitly.
    pub background_sender: bool,
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// How many messages are sent at once (SMTP connections kept open side by side).
    pub connections: u32,
    /// The longest wait between two tries of a message while its server is down.
    #[serde(with = "humantime_serde")]
    pub max_backoff: Duration,
}

/// A value that must never reach a log line.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "var/keydesk.sqlite".into(),
            database_pool_size: 8,
            data_dir: "var".into(),
            template_dir: None,
            static_dir: None,
            public_url: "http://127.0.0.1:8000".into(),
            support_email: "support@keydesk.localhost".into(),
            session_ttl: Duration::from_secs(12 * 3600),
            password_reset_ttl: Duration::from_secs(3600),
            lockout: LockoutConfig::default(),
            throttle: ThrottleConfig::default(),
            mail: MailConfig::default(),
            intake: IntakeConfig::default(),
            working_hours: Default::default(),
            verification: VerificationConfig::default(),
            sla: SlaConfig::default(),
            mfa: MfaConfig::default(),
            retention: RetentionConfig::default(),
            worker: true,
            metrics: MetricsConfig::default(),
            log_format: LogFormat::default(),
        }
    }
}

impl Default for LockoutConfig {
    fn default() -> Self {
        LockoutConfig { max_failed_attempts: 5, auto_unlock_after: None }
    }
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            max_failures_per_ip: 30,
            window: Duration::from_secs(15 * 60),
            max_reset_requests_per_ip: 10,
            max_reset_emails_per_account: 3,
            reset_email_window: Duration::from_secs(3600),
        }
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            transport: MailTransportKind::File,
            from: "Keydesk <keydesk@keydesk.localhost>".into(),
            dir: "var/mail".into(),
            host: "127.0.0.1".into(),
            port: 25,
            security: SmtpSecurity::Starttls,
            username: None,
            password: None,
            accept_invalid_certs: false,
            background_sender: true,
            poll_interval: Duration::from_secs(5),
            connections: 4,
            max_backoff: Duration::from_secs(15 * 60),
        }
    }
}

/// A configuration value that cannot be used, with the key that holds it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {0}")]
    Unreadable(#[from] Box<rocket::figment::Error>),
    #[error("invalid configuration: `{key}` {problem}")]
    Invalid { key: &'static str, problem: String },
    #[error("invalid configuration: {0}")]
    WorkingHours(#[from] keydesk_core::calendar::CalendarError),
}

impl Config {
    pub fn from_figment(figment: &Figment) -> Result<Config, ConfigError> {
        let config: Config = figment.extract().map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, problem: &str| Err(ConfigError::Invalid { key, problem: problem.to_owned() });
        if self.lockout.max_failed_attempts == 0 {
            return invalid("lockout.max_failed_attempts", "must be at least 1");
        }
        match url::Url::parse(&self.public_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            _ => return invalid("public_url", "must be an http:// or https:// URL"),
        }
        if EmailAddress::parse(&self.support_email).is_err() {
            return invalid("support_email", "must be an email address");
        }
        if self.mail.from.parse::<lettre::message::Mailbox>().is_err() {
            return invalid("mail.from", "must be an address such as \"Keydesk <keydesk@example.com>\"");
        }
        if self.mail.transport == MailTransportKind::Smtp && self.mail.host.trim().is_empty() {
            return invalid("mail.host", "is required when mail.transport is \"smtp\"");
        }
        if !(1..=32).contains(&self.mail.connections) {
            return invalid("mail.connections", "must be from 1 to 32");
        }
        self.intake.validate()?;
        self.retention.validate()?;
        self.calendar()?;
        if self.database_pool_size == 0 {
            return invalid("database_pool_size", "must be at least 1");
        }
        if self.throttle.window.is_zero() || self.throttle.reset_email_window.is_zero() {
            return invalid("throttle", "window and reset_email_window must be longer than zero");
        }
        if let Some(unknown) = self.mfa.required_for.iter().find(|r| r.parse::<keydesk_core::Role>().is_err()) {
            return invalid("mfa.required_for", &format!("names an unknown role {unknown:?}"));
        }
        if self.mfa.step_up_window.is_zero() {
            return invalid("mfa.step_up_window", "must be longer than zero");
        }
        if self.sla.first_response.is_zero() || self.sla.unlock.is_zero() {
            return invalid("sla", "first_response and unlock must be longer than zero");
        }
        if self.sla.check_interval.is_zero() || self.sla.check_interval > Duration::from_secs(30) {
            return invalid("sla.check_interval", "must be between 1s and 30s");
        }
        if self.sla.digest_time().is_none() {
            return invalid("sla.digest_time", "must be a time of day such as 08:30");
        }
        if self.metrics.token.as_ref().is_some_and(|token| token.0.trim().len() < 16) {
            return invalid("metrics.token", "must be at least 16 characters (leave it out to turn /metrics off)");
        }
        if !(1..=100).contains(&self.sla.compliance_goal) {
            return invalid("sla.compliance_goal", "must be a percentage from 1 to 100");
        }
        Ok(())
    }

    /// Support's opening hours, from `[working_hours]`.
    pub fn calendar(&self) -> Result<keydesk_core::calendar::BusinessCalendar, ConfigError> {
        Ok(keydesk_core::calendar::BusinessCalendar::from_config(&self.working_hours)?)
    }

    pub fn lockout_policy(&self) -> LockoutPolicy {
        LockoutPolicy {
            max_failed_attempts: self.lockout.max_failed_attempts,
            auto_unlock_after: self.lockout.auto_unlock_after.and_then(|d| chrono::Duration::from_std(d).ok()),
        }
    }

    /// Who must have a second factor, and how long one lasts for unlocking (checked at start).
    pub fn mfa_policy(&self) -> keydesk_core::second_factor::MfaPolicy {
        keydesk_core::second_factor::MfaPolicy {
            required_for: self.mfa.required_for.iter().filter_map(|r| r.parse().ok()).collect(),
            step_up_window: chrono::Duration::from_std(self.mfa.step_up_window)
                .unwrap_or(chrono::Duration::minutes(10)),
        }
    }

    /// Cookies get the Secure flag when Keydesk is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// What intake is told: Keydesk's own addresses, the machine senders, the attachment limits.
    pub fn intake_rules(&self) -> keydesk_core::intake::IntakeRules {
        keydesk_core::intake::IntakeRules {
            own_addresses: self.own_addresses(),
            machine_senders: self.intake.machine_senders().unwrap_or_default(),
            attachments: self.intake.attachment_limits(),
        }
    }

    /// The addresses that are Keydesk itself: mail from them is never a ticket.
    pub fn own_addresses(&self) -> Vec<EmailAddress> {
        let from = self.mail.from.parse::<lettre::message::Mailbox>().ok().map(|m| m.email.to_string());
        [Some(self.support_email.clone()), from]
            .into_iter()
            .flatten()
            .filter_map(|a| EmailAddress::parse(&a).ok())
            .collect()
    }

    /// Where templates that replace the built-in ones are looked for.
    pub fn template_override_dir(&self) -> PathBuf {
        self.template_dir.clone().unwrap_or_else(|| self.data_dir.join("templates"))
    }

    /// Where static files that replace the built-in ones are looked for.
    pub fn static_override_dir(&self) -> PathBuf {
        self.static_dir.clone().unwrap_or_else(|| self.data_dir.join("static"))
    }

    /// An absolute link for emails.
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.public_url.trim_end_matches('/'), path)
    }
}
