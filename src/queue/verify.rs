//! Identity checks and verification. The checks are computed from the ticket's newest
//! message from outside (its sender and Authentication-Results, recorded at intake) and the
//! linked account: whoever wrote last is who asks now, so a reply on an old thread — a
//! forged From included — is judged on its own headers, and a message from before the
//! account's current lock shows nobody now. An agent then marks the sender verified with a
//! method and a note, under the core's one rule
//! (`keydesk_core::verification::may_verify_ticket`).

use super::unlock::{account_of, unlock_facts};
use super::{actor, ticket_to_change};
use crate::app::{AppError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::ids::TicketNumber;
use crate::store::{self, tickets::Ticket, users::User};
use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use keydesk_core::tickets::AccountLock;
use keydesk_core::verification::{
    may_verify_ticket, registered_sender_authenticated, run_checks, AccountFacts, Check, CheckInput, Requester,
    VerificationFacts, VerificationMethod, VerificationRefusal,
};
use keydesk_core::{EmailAddress, MessageDirection, Role, StaffRole, TicketEventKind};

/// The five checks for a ticket, with their evidence.
pub fn checks(conn: &mut DbConnection, services: &Services, ticket: &Ticket) -> Result<Vec<Check>, AppError> {
    let newest = store::tickets::messages(conn, ticket.id)?.into_iter().rfind(|m| m.direction == MessageDirection::In);
    // Recorded at intake: nothing parses the raw message again.
    let authentication_results = match newest.as_ref().and_then(|m| m.inbound_message_id) {
        Some(id) => store::inbound::authentication_results(conn, id)?,
        None => Vec::new(),
    };
    let registered = ticket.registered_email.as_deref().and_then(|e| EmailAddress::parse(e).ok());
    let sender = EmailAddress::parse(newest.as_ref().map_or(&ticket.sender, |m| &m.sender)).ok();
    let account = match &registered {
        Some(email) => store::users::find_by_email(conn, email)?,
        None => None,
    };
    let account_email = account.as_ref().and_then(|a| EmailAddress::parse(&a.email).ok());
    let locked = account
        .as_ref()
        .is_some_and(|a| services.config.lockout_policy().is_locked(a.locked_at, services.stored_now()));
    let facts = match (&account, &account_email) {
        (Some(account), Some(email)) => Some(AccountFacts { email, full_name: &account.full_name, locked }),
        _ => None,
    };
    let lock_began = account.as_ref().and_then(|a| a.locked_at).filter(|_| locked);
    // Arrival times are the mail server's, to the second (IMAP's INTERNALDATE): a message
    // from the lock's own second counts as written under it.
    let written_before_the_lock = match (&newest, lock_began) {
        (Some(message), Some(since)) => message.at < since.trunc_subsecs(0),
        _ => false,
    };
    Ok(run_checks(&CheckInput {
        stated_full_name: ticket.full_name.as_deref(),
        registered_email: registered.as_ref(),
        sender: sender.as_ref(),
        authentication_results: &authentication_results,
        trusted_authserv_id: &services.config.verification.trusted_authserv_id,
        account: facts,
        written_before_the_lock,
    }))
}

/// When the account's current lock began, if it is locked: what happened before proves
/// nothing about who asks now.
pub fn lock_began(lock: &AccountLock) -> Option<DateTime<Utc>> {
    match lock {
        AccountLock::Locked { since, .. } => Some(*since),
        _ => None,
    }
}

/// Whether something recorded at `at` happened under the current lock (or, with no lock,
/// at all).
pub fn since_the_lock(at: Option<NaiveDateTime>, lock: &AccountLock) -> bool {
    at.is_some_and(|at| lock_began(lock).is_none_or(|since| at.and_utc() > since))
}

/// What the verification rule looks at, for this ticket, its checks and this agent.
pub fn verification_facts(ticket: &Ticket, checks: &[Check], agent: &User, lock: &AccountLock) -> VerificationFacts {
    let sender_authenticated = checks.iter().any(|c| c.name == Check::SENDER_AUTHENTICATED && c.passed);
    let on_behalf = ticket.requester_user_id.is_some() && ticket.account_user_id.is_some();
    VerificationFacts {
        registered_sender_authenticated: registered_sender_authenticated(checks),
        // A challenge answered before the current lock began proves nothing now.
        mailbox_confirmed: since_the_lock(ticket.mailbox_confirmed_at, lock),
        // On another's behalf, the sender is the requester.
        requester: on_behalf.then_some(Requester { authenticated: sender_authenticated }),
        actor_is_manager: agent.role == Role::Staff(StaffRole::Manager),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyOutcome {
    Verified,
    AlreadyVerified,
    Refused(VerificationRefusal),
}

pub fn verify(
    conn: &mut DbConnection,
    services: &Services,
    agent: &User,
    number: TicketNumber,
    method: &str,
    note: &str,
) -> Result<VerifyOutcome, AppError> {
    let method: VerificationMethod = method
        .parse()
        .map_err(|e: keydesk_core::verification::UnknownVerificationMethod| AppError::Invalid(e.to_string()))?;
    write_transaction(conn, |conn| {
        // Read once the transaction has its turn, so the verification is dated after any lock
        // committed before it.
        let now = services.now();
        let ticket = ticket_to_change(conn, number)?;
        let account = account_of(conn, &ticket)?;
        let lock = unlock_facts(conn, services, &ticket, account.as_ref(), now)?.account;
        // A verification made before the account's current lock began is stale: verify again.
        if since_the_lock(ticket.verified_at, &lock) {
            return Ok(VerifyOutcome::AlreadyVerified);
        }
        let checks = checks(conn, services, &ticket)?;
        if let Err(refusal) = may_verify_ticket(method, &verification_facts(&ticket, &checks, agent, &lock)) {
            return Ok(VerifyOutcome::Refused(refusal));
        }
        let now = now.naive_utc();
        let recorded = store::tickets::mark_verified(
            conn,
            ticket.id,
            ticket.verified_at,
            Some(agent.id),
            method,
            note.trim(),
            now,
        )?;
        if !recorded {
            // Another agent verified it in the meantime.
            return Ok(VerifyOutcome::AlreadyVerified);
        }
        let detail = format!("{}: {}", method.as_str(), note.trim());
        store::ticket_events::record(conn, ticket.id, now, actor(agent), TicketEventKind::Verified, &detail)?;
        Ok(VerifyOutcome::Verified)
    })
}
