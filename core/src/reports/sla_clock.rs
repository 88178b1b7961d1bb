//! The targets as they stand for open tickets right now: how much business time each has
//! used of its first-response and unlock targets, and whether it is due soon or breached.
//! The time is counted by the reports' own [`Measurer`], so the queue's marker, the alert
//! emails and the reports never disagree about a ticket.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::build::SlaTarget;
use super::history::TicketFacts;
use super::measure::{Measurer, SlaOutcome, SlaTargets};
use super::range::ReportWindow;
use crate::BusinessCalendar;

/// Past this share of a target a ticket is due soon (amber), and the alert goes out.
pub const DUE_SOON_PERCENT: i64 = 80;

/// Where a ticket stands against one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaLevel {
    /// Within the first [`DUE_SOON_PERCENT`] of the target.
    OnTrack,
    DueSoon,
    Breached,
    /// Reached in time.
    Met,
    /// Resolved without it (no unlock was needed, or nobody answered before it closed).
    NotApplicable,
}

impl SlaLevel {
    /// A level that alerts someone: due soon goes to the agents, a breach to the managers.
    pub fn alerts(self) -> bool {
        matches!(self, SlaLevel::DueSoon | SlaLevel::Breached)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SlaLevel::OnTrack => "on_track",
            SlaLevel::DueSoon => "due_soon",
            SlaLevel::Breached => "breached",
            SlaLevel::Met => "met",
            SlaLevel::NotApplicable => "not_applicable",
        }
    }
}

impl SlaTarget {
    pub const BOTH: [SlaTarget; 2] = [SlaTarget::FirstResponse, SlaTarget::Unlock];

    pub fn as_str(self) -> &'static str {
        match self {
            SlaTarget::FirstResponse => "first_response",
            SlaTarget::Unlock => "unlock",
        }
    }

    /// "First response", "Unlock".
    pub fn label(self) -> &'static str {
        match self {
            SlaTarget::FirstResponse => "First response",
            SlaTarget::Unlock => "Unlock",
        }
    }
}

/// One target's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TargetStanding {
    pub target: SlaTarget,
    pub level: SlaLevel,
    /// Business seconds counted towards the target (up to the milestone when it is met).
    pub used_seconds: i64,
    pub target_seconds: i64,
}

impl TargetStanding {
    /// Business seconds left before the breach; negative once breached.
    pub fn left_seconds(&self) -> i64 {
        self.target_seconds - self.used_seconds
    }
}

/// Measures open tickets against the targets at one instant.
pub struct SlaClock {
    measurer: Measurer,
    targets: SlaTargets,
}

impl SlaClock {
    /// A clock for tickets received at or after `earliest`, as of `now`.
    pub fn new(
        calendar: &BusinessCalendar,
        earliest: DateTime<Utc>,
        now: DateTime<Utc>,
        targets: SlaTargets,
    ) -> SlaClock {
        let start = earliest.min(now);
        let window = ReportWindow {
            from: calendar.local_date(start),
            to: calendar.local_date(now),
            start,
            end: now,
            as_of: now,
        };
        SlaClock { measurer: Measurer::new(calendar, &window, targets), targets }
    }

    /// The ticket's standing against both targets (first response, then unlock).
    pub fn standings(&self, ticket: &TicketFacts) -> [TargetStanding; 2] {
        let row = self.measurer.row(ticket);
        let standing = |target, outcome, used, target_seconds: i64| TargetStanding {
            target,
            level: match outcome {
                SlaOutcome::Met => SlaLevel::Met,
                SlaOutcome::Breached => SlaLevel::Breached,
                SlaOutcome::NotApplicable => SlaLevel::NotApplicable,
                SlaOutcome::Pending if used * 100 >= target_seconds * DUE_SOON_PERCENT => SlaLevel::DueSoon,
                SlaOutcome::Pending => SlaLevel::OnTrack,
            },
            used_seconds: used,
            target_seconds,
        };
        [
            standing(
                SlaTarget::FirstResponse,
                row.first_response_sla,
                row.first_response_sla_seconds,
                self.targets.first_response_seconds,
            ),
            standing(SlaTarget::Unlock, row.unlock_sla, row.unlock_sla_seconds, self.targets.unlock_seconds),
        ]
    }
}

/// "45 min", "2 h 5 min", "3 h": business time as an agent reads it at a glance.
pub fn business_time_words(seconds: i64) -> String {
    let minutes = (seconds.unsigned_abs()).div_ceil(60);
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

impl TargetStanding {
    /// "Reply due in 12 min", "Unlock overdue by 1 h 5 min", "Replied in time": the marker's words.
    pub fn words(&self) -> String {
        let what = match self.target {
            SlaTarget::FirstResponse => "Reply",
            SlaTarget::Unlock => "Unlock",
        };
        match self.level {
            SlaLevel::OnTrack | SlaLevel::DueSoon => {
                format!("{what} due in {} (business time)", business_time_words(self.left_seconds()))
            }
            SlaLevel::Breached if self.left_seconds() < 0 => {
                format!("{what} overdue by {}", business_time_words(self.left_seconds()))
            }
            SlaLevel::Breached => format!("{what} target missed"),
            SlaLevel::Met => format!("{what} target met"),
            SlaLevel::NotApplicable => format!("{what} target does not apply"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::WorkingHoursConfig;
    use crate::reports::{HistoryEvent, TicketHistory};
    use crate::TicketEventKind;
    use chrono::Duration;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn facts(received: &str, events: &[(&str, TicketEventKind)], now: DateTime<Utc>) -> TicketFacts {
        let history = TicketHistory {
            ticket_id: 1,
            received_at: at(received),
            organisation_id: None,
            verification_method: None,
            events: events
                .iter()
                .enumerate()
                .map(|(i, (when, kind))| HistoryEvent {
                    at: at(when),
                    sequence: i as i64,
                    kind: *kind,
                    actor_id: Some(7),
                })
                .collect(),
        };
        TicketFacts::from_history(&history, now)
    }

    #[test]
    fn a_target_is_due_soon_past_80_percent_of_business_time_and_breached_past_it() {
        let calendar = BusinessCalendar::from_config(&WorkingHoursConfig::default()).unwrap();
        let targets = SlaTargets { first_response_seconds: 3600, unlock_seconds: 4 * 3600 };
        let received = "2026-11-24T10:00:00Z";
        let level_at = |now: &str| {
            let now = at(now);
            let clock = SlaClock::new(&calendar, at(received), now, targets);
            clock.standings(&facts(received, &[], now))
        };
        // 48 of 60 minutes is 80%.
        let [reply, unlock] = level_at("2026-11-24T10:48:00Z");
        assert_eq!((reply.level, reply.left_seconds()), (SlaLevel::DueSoon, 12 * 60));
        assert_eq!(reply.words(), "Reply due in 12 min (business time)");
        assert_eq!(unlock.level, SlaLevel::OnTrack);
        let [reply, _] = level_at("2026-11-24T10:47:59Z");
        assert_eq!(reply.level, SlaLevel::OnTrack);
        let [reply, _] = level_at("2026-11-24T11:30:00Z");
        assert_eq!((reply.level, reply.words().as_str()), (SlaLevel::Breached, "Reply overdue by 30 min"));
        let [reply, _] = level_at("2026-11-24T10:30:00Z");
        assert_eq!(reply.level, SlaLevel::OnTrack);
    }

    #[test]
    fn closed_hours_and_waits_on_the_user_do_not_use_the_target() {
        let calendar = BusinessCalendar::from_config(&WorkingHoursConfig::default()).unwrap();
        let targets = SlaTargets { first_response_seconds: 3600, unlock_seconds: 4 * 3600 };
        // Friday 16:50, the desk closes at 17:00: ten minutes used by Monday morning.
        let received = "2026-11-20T16:50:00Z";
        let monday = at("2026-11-23T09:00:00Z");
        let [reply, _] =
            SlaClock::new(&calendar, at(received), monday, targets).standings(&facts(received, &[], monday));
        assert_eq!((reply.level, reply.used_seconds), (SlaLevel::OnTrack, 600));
        // Answered, then waiting on the user all afternoon: the unlock clock stopped with it.
        let received = "2026-11-24T09:00:00Z";
        let events = [
            ("2026-11-24T09:30:00Z", TicketEventKind::AgentReplied),
            ("2026-11-24T09:30:00Z", TicketEventKind::WaitingOnUser),
        ];
        let evening = at("2026-11-24T16:59:00Z");
        let [reply, unlock] =
            SlaClock::new(&calendar, at(received), evening, targets).standings(&facts(received, &events, evening));
        assert_eq!(reply.level, SlaLevel::Met);
        assert_eq!((unlock.level, unlock.used_seconds), (SlaLevel::OnTrack, 30 * 60));
        assert!(evening - at(received) > Duration::hours(4));
    }
}
