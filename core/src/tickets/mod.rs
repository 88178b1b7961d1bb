//! Tickets: the vocabulary of their statuses, thread directions and history, the transitions
//! between statuses, and the one rule for unlocking an account from a ticket.

pub mod canned;
mod event_kind;
mod next_step;
mod search;
mod status;
pub mod transitions;
mod unlock_rule;

pub use event_kind::{TicketEventKind, UnknownTicketEventKind};
pub use next_step::{next_step, NextStep, NextStepView, Progress};
pub use search::{TicketSearch, MAX_WORDS as MAX_SEARCH_WORDS};
pub use status::{MessageDirection, TicketStatus, UnknownMessageDirection, UnknownTicketStatus};
pub use transitions::{TicketRefusal, Transition};
pub use unlock_rule::{
    may_approve, may_unlock, second_person_needed, AccountLock, Act, ApprovalRefusal, SecondPerson, UnlockFacts,
    UnlockRefusal, Unverified, REPEAT_UNLOCKS, REPEAT_WINDOW_DAYS,
};
