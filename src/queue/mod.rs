//! The support queue's actions on a ticket, one file each: working it (take, note, reply,
//! waiting, resolve), the mailbox challenge, verification and the unlock. Each runs its
//! change and its history event in one transaction.

pub mod challenge;
pub mod listing;
pub mod ticket_view;
pub mod unlock;
pub mod verify;
pub mod work;

use crate::accounts::AccountError;
use crate::db::DbConnection;
use crate::store::{self, tickets::Ticket, users::User};

/// The ticket, or NotFound.
pub fn ticket(conn: &mut DbConnection, number: i64) -> Result<Ticket, AccountError> {
    store::tickets::find(conn, number)?.ok_or(AccountError::NotFound)
}

/// Who acts, as the history names them.
pub fn actor(agent: &User) -> Option<(i64, &str)> {
    Some((agent.id, agent.email.as_str()))
}
