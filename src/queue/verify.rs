//! Identity checks and verification. The checks are computed from the ticket's first
//! message (its raw headers, kept in the intake ledger) and the linked account; an agent
//! then marks the sender verified with a method and a note, under the rule that an
//! unauthenticated sender needs the mailbox challenge or a manager.

use super::{actor, ticket};
use crate::accounts::{AccountError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::store::{self, tickets::Ticket, users::User};
use keydesk_core::intake::parse_message;
use keydesk_core::verification::{
    may_verify, registered_sender_authenticated, run_checks, AccountFacts, Check, CheckInput, VerificationMethod,
};
use keydesk_core::TicketEventKind;
use keydesk_core::{EmailAddress, Role, StaffRole};

/// The five checks for a ticket, with their evidence.
pub fn checks(conn: &mut DbConnection, services: &Services, ticket: &Ticket) -> Result<Vec<Check>, AccountError> {
    let first = store::tickets::messages(conn, ticket.id)?.into_iter().find(|m| m.direction == "in");
    let raw = match first.and_then(|m| m.inbound_message_id) {
        Some(id) => store::inbound::find(conn, id)?.map(|entry| entry.raw),
        None => None,
    };
    let authentication_results = raw
        .and_then(|raw| parse_message(&raw, &services.config.own_addresses()).ok())
        .map(|parsed| parsed.authentication_results)
        .unwrap_or_default();
    let registered = ticket.registered_email.as_deref().and_then(|e| EmailAddress::parse(e).ok());
    let sender = EmailAddress::parse(&ticket.sender).ok();
    let account = match &registered {
        Some(email) => store::users::find_by_email(conn, email)?,
        None => None,
    };
    let account_email = account.as_ref().and_then(|a| EmailAddress::parse(&a.email).ok());
    let locked =
        account.as_ref().is_some_and(|a| services.config.lockout_policy().is_locked(a.locked_at, store::now()));
    let facts = match (&account, &account_email) {
        (Some(account), Some(email)) => Some(AccountFacts { email, full_name: &account.full_name, locked }),
        _ => None,
    };
    Ok(run_checks(&CheckInput {
        stated_full_name: ticket.full_name.as_deref(),
        registered_email: registered.as_ref(),
        sender: sender.as_ref(),
        authentication_results: &authentication_results,
        trusted_authserv_id: &services.config.verification.trusted_authserv_id,
        account: facts,
    }))
}

/// Why a verification was refused, in words for the agent (and a code for the API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyOutcome {
    Verified,
    AlreadyVerified,
    Refused { code: &'static str, reason: String },
}

pub fn verify(
    conn: &mut DbConnection,
    services: &Services,
    agent: &User,
    number: i64,
    method: &str,
    note: &str,
) -> Result<VerifyOutcome, AccountError> {
    let method: VerificationMethod = method
        .parse()
        .map_err(|e: keydesk_core::verification::UnknownVerificationMethod| AccountError::Invalid(e.to_string()))?;
    write_transaction(conn, |conn| {
        let ticket = ticket(conn, number)?;
        if ticket.verified_at.is_some() {
            return Ok(VerifyOutcome::AlreadyVerified);
        }
        let checks = checks(conn, services, &ticket)?;
        let is_manager = agent.role() == Role::Staff(StaffRole::Manager);
        if method == VerificationMethod::ConfirmedByOrganisation {
            // The organisation vouches through its requester, who must be verified first:
            // authenticated mail from them, or a manager's judgement.
            if ticket.requester_user_id.is_none() || ticket.account_user_id.is_none() {
                return Ok(VerifyOutcome::Refused {
                    code: "verification_refused",
                    reason: "no one from the organisation wrote on the user's behalf".into(),
                });
            }
            let requester_authenticated = checks.iter().any(|c| c.name == Check::SENDER_AUTHENTICATED && c.passed);
            if !(requester_authenticated || is_manager) {
                return Ok(VerifyOutcome::Refused {
                    code: "verification_refused",
                    reason: "the requester's email is not authenticated: a manager must verify".into(),
                });
            }
        } else if let Err(refusal) = may_verify(
            method,
            registered_sender_authenticated(&checks),
            ticket.mailbox_confirmed_at.is_some(),
            is_manager,
        ) {
            return Ok(VerifyOutcome::Refused { code: "verification_refused", reason: refusal.to_string() });
        }
        store::tickets::mark_verified(conn, ticket.id, agent.id, method.as_str(), note.trim(), store::now())?;
        store::ticket_events::record(
            conn,
            ticket.id,
            actor(agent),
            TicketEventKind::Verified,
            &format!("{}: {}", method.as_str(), note.trim()),
        )?;
        Ok(VerifyOutcome::Verified)
    })
}
