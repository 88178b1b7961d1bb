//! `[retention]`: how long personal data is kept that nobody needs for a ticket any more —
//! the account activity log, and the raw bytes of the mail taken in.

use super::ConfigError;
use keydesk_core::retention::MIN_ACTIVITY_DAYS;
use serde::Deserialize;
use std::time::Duration;

/// How long something is kept: a duration (`"400d"`), or `"off"`, kept for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct RetentionPeriod(pub Option<Duration>);

impl TryFrom<String> for RetentionPeriod {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        match value.trim() {
            "off" => Ok(RetentionPeriod(None)),
            text => humantime::parse_duration(text)
                .map(|d| RetentionPeriod(Some(d)))
                .map_err(|e| format!("{text:?} is neither a duration such as \"400d\" nor \"off\": {e}")),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RetentionConfig {
    /// Account activity-log entries older than this are deleted.
    pub activity: RetentionPeriod,
    /// The raw bytes of messages taken in (the intake ledger, quarantine included) older than
    /// this are cleared; the tickets and their threads stay.
    pub raw_mail: RetentionPeriod,
    /// Apply it at start and then daily in this process, and keep the reports' ended days
    /// (`reports::keep`) at start and then hourly (tests do both themselves).
    pub background: bool,
}

const DAY: u64 = 24 * 3600;

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            activity: RetentionPeriod(Some(Duration::from_secs(400 * DAY))),
            raw_mail: RetentionPeriod(Some(Duration::from_secs(90 * DAY))),
            background: true,
        }
    }
}

impl RetentionConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (key, period) in [("retention.activity", self.activity), ("retention.raw_mail", self.raw_mail)] {
            if period.0.is_some_and(|d| d.is_zero()) {
                return Err(ConfigError::Invalid { key, problem: "must be longer than zero, or \"off\"".into() });
            }
        }
        let minimum = MIN_ACTIVITY_DAYS as u64 * DAY;
        if self.activity.0.is_some_and(|d| d.as_secs() < minimum) {
            let problem = format!(
                "must be at least {MIN_ACTIVITY_DAYS}d (the unlock rule counts the last {MIN_ACTIVITY_DAYS} days of \
                 support unlocks in the activity log), or \"off\""
            );
            return Err(ConfigError::Invalid { key: "retention.activity", problem });
        }
        Ok(())
    }

    /// The rule's own terms (`None`: kept for ever).
    pub fn policy(&self) -> keydesk_core::retention::RetentionPolicy {
        let period = |p: RetentionPeriod| p.0.map(|d| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX));
        keydesk_core::retention::RetentionPolicy { activity: period(self.activity), raw_mail: period(self.raw_mail) }
    }
}
