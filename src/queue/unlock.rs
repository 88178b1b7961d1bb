//! Unlocking from a ticket: only a verified ticket, only while support is open. One
//! transaction unlocks the account and resets its count, records "Account unlocked" with the
//! agent as actor and the ticket as detail, resolves the ticket and queues the notification
//! to the registered address. Two agents at once, or a double click, unlock once.

use super::{actor, ticket};
use crate::accounts::unlock::{unlock_now, UnlockOutcome};
use crate::accounts::{AccountError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::store::{self, events::Actor, users::User};
use chrono::{DateTime, Utc};
use keydesk_core::TicketEventKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketUnlock {
    Unlocked,
    /// Someone or something (self-serve, expiry) unlocked it already: resolve without unlocking.
    AlreadyUnlocked,
    NotVerified,
    OutsideWorkingHours {
        next_opening: Option<DateTime<Utc>>,
    },
    NoAccount,
}

pub fn unlock(
    conn: &mut DbConnection,
    services: &Services,
    agent: &User,
    number: i64,
    now: DateTime<Utc>,
) -> Result<TicketUnlock, AccountError> {
    write_transaction(conn, |conn| {
        let ticket = ticket(conn, number)?;
        if ticket.verified_at.is_none() {
            return Ok(TicketUnlock::NotVerified);
        }
        if !services.calendar.is_open(now) {
            return Ok(TicketUnlock::OutsideWorkingHours { next_opening: services.calendar.next_opening(now) });
        }
        let Some(account) = ticket.account_user_id.map(|id| store::users::find(conn, id)).transpose()?.flatten() else {
            return Ok(TicketUnlock::NoAccount);
        };
        let who = Actor::User { id: agent.id, email: agent.email.clone() };
        let outcome = unlock_now(conn, services, &who, &account, None, &format!("ticket #{}", ticket.id))?;
        if outcome != UnlockOutcome::Unlocked {
            return Ok(TicketUnlock::AlreadyUnlocked);
        }
        store::tickets::resolve_if_open(conn, ticket.id, store::now())?;
        store::ticket_events::record(
            conn,
            ticket.id,
            actor(agent),
            TicketEventKind::Unlocked,
            &format!("{} unlocked; the user was emailed", account.email),
        )?;
        store::ticket_events::record(conn, ticket.id, actor(agent), TicketEventKind::Resolved, "unlocked")?;
        Ok(TicketUnlock::Unlocked)
    })
}
