//! Unlocking from a ticket, under the one rule (`keydesk_core::tickets::may_unlock`): an open
//! ticket, verified after the account's current lock began, while support is open, and for
//! privileged or often-unlocked accounts approved by a second person. One transaction
//! unlocks the account and resets its count, records "Account unlocked" with the agent as
//! actor and the ticket as detail, resolves the ticket and queues the notifications. Two
//! agents at once, or a double click, unlock once.

use super::{actor, ticket_to_change};
use crate::accounts::unlock::{unlock_now, UnlockOutcome};
use crate::app::{AppError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::ids::TicketNumber;
use crate::mail::emails::PrivilegedUnlockNotice;
use crate::metrics::UnlockSource;
use crate::store::tickets::Ticket;
use crate::store::{self, events::Actor, users::User};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use keydesk_core::tickets::{may_unlock, AccountLock, Act, UnlockFacts, UnlockRefusal, REPEAT_WINDOW_DAYS};
use keydesk_core::{OrgRole, Role, TicketEventKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketUnlock {
    Unlocked,
    Refused(UnlockRefusal),
}

/// Whoever holds this account can manage others: an organisation's owner or admin, or staff.
pub fn is_privileged(role: Role) -> bool {
    matches!(role, Role::Org(OrgRole::Owner | OrgRole::Admin) | Role::Staff(_))
}

fn act(at: Option<NaiveDateTime>, by: Option<crate::ids::UserId>) -> Option<Act> {
    at.map(|at| Act { at: at.and_utc(), by: by.map(|id| id.0) })
}

/// Where the window of "recent" support unlocks starts.
pub fn repeat_window_start(now: DateTime<Utc>) -> NaiveDateTime {
    now.naive_utc() - Duration::days(REPEAT_WINDOW_DAYS)
}

/// What the unlock rule needs to know about a ticket and its linked account, as of `now`.
pub fn unlock_facts(
    conn: &mut DbConnection,
    services: &Services,
    ticket: &Ticket,
    account: Option<&User>,
    now: DateTime<Utc>,
) -> Result<UnlockFacts, AppError> {
    let recent = match account {
        Some(user) => store::events::support_unlocks_since(conn, user.id, repeat_window_start(now))?,
        None => 0,
    };
    Ok(facts_of(services, ticket, account, recent, now))
}

/// [`unlock_facts`] with the account's recent support unlocks already counted (a page of
/// tickets counts them in one query).
pub fn facts_of(
    services: &Services,
    ticket: &Ticket,
    account: Option<&User>,
    recent_support_unlocks: i64,
    now: DateTime<Utc>,
) -> UnlockFacts {
    let policy = services.config.lockout_policy();
    let account = match account {
        None => AccountLock::NoAccount,
        Some(user) => match user.locked_at.filter(|_| policy.is_locked(user.locked_at, now.naive_utc())) {
            None => AccountLock::NotLocked,
            Some(since) => AccountLock::Locked {
                since: since.and_utc(),
                privileged: is_privileged(user.role),
                recent_support_unlocks: u32::try_from(recent_support_unlocks).unwrap_or(u32::MAX),
            },
        },
    };
    UnlockFacts {
        status: ticket.status,
        verified: act(ticket.verified_at, ticket.verified_by_id),
        approved: act(ticket.approved_at, ticket.approved_by_id),
        account,
    }
}

/// The ticket's linked account, if it still exists.
pub fn account_of(conn: &mut DbConnection, ticket: &Ticket) -> Result<Option<User>, AppError> {
    Ok(ticket.account_user_id.map(|id| store::users::find(conn, id)).transpose()?.flatten())
}

/// `via` says where the agent asked from (the ticket page or the API), for the metrics.
pub fn unlock(
    conn: &mut DbConnection,
    services: &Services,
    agent: &User,
    number: TicketNumber,
    via: UnlockSource,
) -> Result<TicketUnlock, AppError> {
    let outcome = write_transaction::<_, AppError, _>(conn, |conn| {
        // Read once the transaction has its turn (SQLite's writer may have kept it waiting):
        // the working hours are checked at the instant the unlock commits.
        let now = services.now();
        let stored_now = now.naive_utc();
        let ticket = ticket_to_change(conn, number)?;
        let account = account_of(conn, &ticket)?;
        let facts = unlock_facts(conn, services, &ticket, account.as_ref(), now)?;
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
        tell_the_organisation(conn, services, &account, agent, ticket.id, stored_now)?;
        Ok(TicketUnlock::Unlocked)
    })?;
    if outcome == TicketUnlock::Unlocked {
        services.metrics.unlock(via);
    }
    Ok(outcome)
}

/// When support unlocks an organisation's owner or admin, the organisation hears of it from
/// Keydesk, not from the caller: the owner (or, when the owner was the one unlocked, the
/// admins and any other owner).
fn tell_the_organisation(
    conn: &mut DbConnection,
    services: &Services,
    unlocked: &User,
    agent: &User,
    ticket: TicketNumber,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    let (Some(org_id), Role::Org(role @ (OrgRole::Owner | OrgRole::Admin))) = (unlocked.organisation_id, unlocked.role)
    else {
        return Ok(());
    };
    let Some(organisation) = store::orgs::find(conn, org_id)? else { return Ok(()) };
    let colleagues = store::users::list_for_organisation(conn, org_id)?;
    let told: Vec<&User> = colleagues
        .iter()
        .filter(|u| u.id != unlocked.id)
        .filter(|u| match role {
            OrgRole::Owner => u.role.may_manage_users(),
            _ => u.role == Role::Org(OrgRole::Owner),
        })
        .collect();
    let email = PrivilegedUnlockNotice {
        full_name: &unlocked.full_name,
        email: &unlocked.email,
        role: Role::Org(role).as_str(),
        organisation: &organisation.name,
        agent_name: &agent.full_name,
        ticket,
        activities_link: services.config.link("/activities"),
    };
    let outbox = services.outbox(now);
    for person in told {
        outbox.queue(conn, &person.email, &email)?;
    }
    Ok(())
}
