//! `[intake]`: where locked users' emails come from, and the limits that keep one message
//! from costing unbounded time or memory or flooding anyone with acknowledgements.

use super::{ConfigError, Secret, SmtpSecurity};
use keydesk_core::intake::{AttachmentLimits, MachineSenders};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntakeSourceKind {
    /// Messages dropped into `intake.dir`/new (the embedded default).
    Maildir,
    Imap,
    Off,
}

/// Where locked users' emails come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct IntakeConfig {
    pub source: IntakeSourceKind,
    /// The Maildir for `maildir` (its new/, cur/ and tmp/ are created).
    pub dir: PathBuf,
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub password: Option<Secret>,
    pub mailbox: String,
    pub accept_invalid_certs: bool,
    pub poll_seconds: u64,
    /// Larger messages are quarantined unread.
    pub max_message_bytes: usize,
    /// Run intake in this process's background.
    pub background: bool,
    /// Sender addresses no person reads (case-insensitive patterns over the whole address):
    /// their mail is never answered and never opens a ticket.
    pub machine_senders: Vec<String>,
    /// Acknowledgements one sender address gets per hour; more mail is still taken in.
    pub max_acknowledgements_per_sender: u32,
    /// Attachments kept from one message, and the largest kept.
    pub max_attachments: usize,
    pub max_attachment_bytes: usize,
}

impl Default for IntakeConfig {
    fn default() -> Self {
        IntakeConfig {
            source: IntakeSourceKind::Maildir,
            dir: "var/intake".into(),
            host: "127.0.0.1".into(),
            port: 993,
            security: SmtpSecurity::Tls,
            username: String::new(),
            password: None,
            mailbox: "INBOX".into(),
            accept_invalid_certs: false,
            poll_seconds: 30,
            max_message_bytes: 10 * 1024 * 1024,
            background: true,
            machine_senders: MachineSenders::DEFAULT.iter().map(|p| (*p).to_owned()).collect(),
            max_acknowledgements_per_sender: 3,
            max_attachments: 20,
            max_attachment_bytes: 10 * 1024 * 1024,
        }
    }
}

impl IntakeConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, problem: &str| Err(ConfigError::Invalid { key, problem: problem.to_owned() });
        if self.source == IntakeSourceKind::Imap && (self.host.trim().is_empty() || self.username.is_empty()) {
            return invalid("intake.host", "and intake.username are required when intake.source is \"imap\"");
        }
        if self.poll_seconds == 0 {
            return invalid("intake.poll_seconds", "must be at least 1");
        }
        if self.max_message_bytes == 0 {
            return invalid("intake.max_message_bytes", "must be at least 1");
        }
        if let Err(problem) = self.machine_senders() {
            return invalid("intake.machine_senders", &format!("has a pattern that does not compile: {problem}"));
        }
        Ok(())
    }

    pub fn machine_senders(&self) -> Result<MachineSenders, String> {
        MachineSenders::new(&self.machine_senders)
    }

    pub fn attachment_limits(&self) -> AttachmentLimits {
        AttachmentLimits { max_count: self.max_attachments, max_bytes: self.max_attachment_bytes }
    }

    /// At most `max_acknowledgements_per_sender` an hour to one address.
    pub fn acknowledgements_per_sender(&self) -> keydesk_core::throttle::ThrottlePolicy {
        keydesk_core::throttle::ThrottlePolicy {
            limit: self.max_acknowledgements_per_sender,
            window: chrono::Duration::hours(1),
        }
    }
}
