//! Keydesk's pure core: the rules of lockout, identities, roles, activity events, secrets,
//! working hours and mail intake parsing, as plain values and functions. It must not depend
//! on Rocket, Diesel, lettre or tokio: the compiler guards that boundary, and every rule here
//! is tested without I/O.

pub mod api_tokens;
pub mod calendar;
pub mod clock;
pub mod email;
pub mod events;
pub mod intake;
pub mod lockout;
pub mod outgoing;
pub mod paging;
pub mod reports;
pub mod retention;
pub mod retry;
pub mod roles;
pub mod second_factor;
pub mod secret;
pub mod throttle;
pub mod tickets;
pub mod verification;
pub mod vocabulary;

pub use calendar::{BusinessCalendar, CalendarError, WorkingHoursConfig};
pub use clock::{Clock, SettableClock, SystemClock};
pub use email::EmailAddress;
pub use events::EventKind;
pub use lockout::{AttemptOutcome, LockoutPolicy};
pub use roles::{OrgRole, Role, StaffRole, UnlockPolicy};
pub use secret::{HashedToken, Pin, PlainToken};
pub use tickets::{MessageDirection, TicketEventKind, TicketStatus};
