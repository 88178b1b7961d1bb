//! Unlocking from a ticket, under the one rule (`keydesk_core::tickets::may_unlock`): only a
//! verified ticket, only while support is open. One transaction unlocks the account and
//! resets its count, records "Account unlocked" with the agent as actor and the ticket as
//! detail, resolves the ticket and queues the notification to the registered address. Two
//! agents at once, or a double click, unlock once.

use super::{actor, ticket};
use crate::accounts::unlock::{unlock_now, UnlockOutcome};
use crate::app::{AppError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::ids::TicketNumber;
use crate::store::tickets::Ticket;
use crate::store::{self, events::Actor, users::User};
use chrono::{DateTime, Utc};
use keydesk_core::tickets::{may_unlock, AccountLock, UnlockFacts, UnlockRefusal};
use keydesk_core::{LockoutPolicy, TicketEventKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketUnlock {
    Unlocked,
    Refused(UnlockRefusal),
}

/// What the unlock rule needs to know about a ticket and its linked account, as of `now`.
pub fn unlock_facts(
    ticket: &Ticket,
    account: Option<&User>,
    policy: &LockoutPolicy,
    now: DateTime<Utc>,
) -> UnlockFacts {
    let account = match account {
        None => AccountLock::NoAccount,
        Some(user) => match user.locked_at.filter(|_| policy.is_locked(user.locked_at, now.naive_utc())) {
            Some(since) => AccountLock::Locked { since: since.and_utc() },
            None => AccountLock::NotLocked,
        },
    };
    UnlockFacts { status: ticket.status, verified_at: ticket.verified_at.map(|at| at.and_utc()), account }
}

pub fn unlock(
    conn: &mut DbConnection,
    services: &Services,
    agent: &User,
    number: TicketNumber,
) -> Result<TicketUnlock, AppError> {
    let now = services.now();
    let stored_now = now.naive_utc();
    write_transaction(conn, |conn| {
        let ticket = ticket(conn, number)?;
        let account = ticket.account_user_id.map(|id| store::users::find(conn, id)).transpose()?.flatten();
        let facts = unlock_facts(&ticket, account.as_ref(), &services.config.lockout_policy(), now);
        if let Err(refusal) = may_unlock(&facts, &services.calendar, now) {
            return Ok(TicketUnlock::Refused(refusal));
        }
        let Some(account) = account else { return Ok(TicketUnlock::Refused(UnlockRefusal::NoAccount)) };
        let detail = format!("ticket #{}", ticket.id);
        let outcome = unlock_now(conn, services, &Actor::user(agent), &account, stored_now, None, &detail)?;
        if outcome != UnlockOutcome::Unlocked {
            // Another agent's click, or self-serve, won the race since the rule was asked.
            return Ok(TicketUnlock::Refused(UnlockRefusal::NotLocked));
        }
        store::tickets::resolve_if_open(conn, ticket.id, stored_now)?;
        let unlocked = format!("{} unlocked; the user was emailed", account.email);
        store::ticket_events::record(conn, ticket.id, stored_now, actor(agent), TicketEventKind::Unlocked, &unlocked)?;
        store::ticket_events::record(conn, ticket.id, stored_now, actor(agent), TicketEventKind::Resolved, "unlocked")?;
        Ok(TicketUnlock::Unlocked)
    })
}
