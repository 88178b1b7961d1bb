//! Service-hour reports: how quickly support answers and unlocks, counted in the hours
//! support is open and in calendar time, against the targets.
//!
//! Everything is rebuilt from each ticket's history (`history`), never from counters, so
//! each figure can be traced to the rows behind it (`measure` gives one row per ticket,
//! which is also the CSV export). A copy of each ticket's counted rows is kept beside the
//! ticket (`stored_history`), so a year's report reads one row per ticket. This module owns
//! the arithmetic only: reading the history, naming agents and organisations and drawing
//! charts belong to the app.
//!
//! The rules, in one place:
//! - A report covers tickets *received* in its local-date range; the backlog covers every
//!   ticket open at each day's end, whenever it arrived; unlock sources count unlocks done in
//!   the range.
//! - History after the range's end is not looked at, so a past range's report never changes.
//!   A ticket still open then is "pending" for a target, or "breached" once its time so far
//!   is over it.
//! - The clock starts when the email arrived. Time waiting on the user (from "waiting on
//!   user" until they write, answer the challenge or the ticket is resolved) is taken out of
//!   every figure.
//! - First response: the first reply, verification or unlock by a person.

mod audience;
mod build;
mod goal;
mod history;
mod measure;
mod range;
mod settled;
mod sla_clock;
mod stats;
mod stored_history;
#[cfg(test)]
mod tests;

pub use audience::{Audience, ReportScope, ScopeRefused};
pub use build::{
    build, AgentFigures, Breach, DayFigures, OrganisationFigures, ReportInput, ServiceHours, Sla, SlaCounts, SlaTarget,
    UnlockSources, VerificationOutcomes,
};
pub use goal::GoalVerdict;
pub use history::{kinds_counted, HistoryEvent, Milestone, Span, TicketFacts, TicketHistory};
pub use measure::{Measurer, SlaOutcome, SlaTargets, TicketRow};
pub use range::{Preset, RangeError, ReportWindow, MAX_DAYS};
pub use settled::{decode_settled, encode_settled, rules_key, SettledTicket, UnreadableRows};
pub use sla_clock::{business_time_words, SlaClock, SlaLevel, TargetStanding, DUE_SOON_PERCENT};
pub use stats::Summary;
pub use stored_history::{read_stored_history, write_stored_history, StoredHistoryError};
