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

/// Who acts, as the history names them.
pub fn actor(agent: &User) -> TicketActor<'_> {
    Some((agent.id, agent.email.as_str()))
}
