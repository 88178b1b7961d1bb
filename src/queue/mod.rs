//! The support queue's actions on a ticket, one file each: working it (take, note, reply,
//! waiting, resolve), the mailbox challenge, verification and the unlock. Each asks the
//! core's rule (`keydesk_core::tickets`, `keydesk_core::verification`) what is allowed and
//! runs its change and its history event in one transaction.

pub mod approve;
pub mod canned;
pub mod challenge;
pub mod listing;
pub mod presence;
pub mod sla_watch;
pub mod standing;
pub mod ticket_view;
pub mod unlock;
pub mod verify;
pub mod wording;
pub mod work;

use crate::app::AppError;
use crate::db::DbConnection;
use crate::ids::TicketNumber;
use crate::store::ticket_events::TicketActor;
use crate::store::{self, tickets::Ticket, users::User};

/// The ticket, or NotFound.
pub fn ticket(conn: &mut DbConnection, number: TicketNumber) -> Result<Ticket, AppError> {
    store::tickets::find(conn, number)?.ok_or(AppError::NotFound)
}

/// The ticket as a write transaction is about to change it: its row held first, then read.
/// On PostgreSQL a plain read would let another transaction change the status between this
/// one's read and its write (an agent resolving while intake threads a reply: the reply
/// would land on a resolved ticket without reopening it); held, the other commits first and
/// this one reads what it wrote. Every writer takes the row before anything else of the
/// ticket's, so they queue in one order and never deadlock.
pub fn ticket_to_change(conn: &mut DbConnection, number: TicketNumber) -> Result<Ticket, AppError> {
    store::tickets::lock_row(conn, number)?;
    ticket(conn, number)
}

/// Who acts, as the history names them.
pub fn actor(agent: &User) -> TicketActor<'_> {
    Some((agent.id, agent.email.as_str()))
}
