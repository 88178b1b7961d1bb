//! The mailbox challenge. A From header proves nothing, so an agent can send a single-use,
//! expiring link to the account's *registered* address (never the sender's); following it
//! shows "mailbox confirmed" on the ticket.

use super::{actor, ticket_to_change};
use crate::app::{AppError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::ids::TicketNumber;
use crate::mail::emails::MailboxChallenge;
use crate::store::{self, users::User};
use keydesk_core::second_factor::TotpSecret;
use keydesk_core::verification::VerificationMethod;
use keydesk_core::{PlainToken, TicketEventKind};

pub const CHALLENGE_TTL_HOURS: i64 = 24;

pub fn send(
    conn: &mut DbConnection,
    services: &Services,
    agent: &User,
    number: TicketNumber,
) -> Result<String, AppError> {
    let now = services.stored_now();
    write_transaction(conn, |conn| {
        let ticket = ticket_to_change(conn, number)?;
        let account_id = ticket.account_user_id.ok_or_else(|| {
            AppError::Invalid(
                "the ticket is not linked to an account: there is no registered address to challenge".into(),
            )
        })?;
        let account = store::users::find(conn, account_id)?.ok_or(AppError::NotFound)?;
        let token = PlainToken::generate();
        let expires = now + chrono::Duration::hours(CHALLENGE_TTL_HOURS);
        store::challenges::create(conn, ticket.id, &token.hashed(), &account.email, now, expires)?;
        let email = MailboxChallenge {
            number: ticket.id,
            full_name: &account.full_name,
            email: &account.email,
            confirm_link: services.config.link(&format!("/confirm/{}", token.expose())),
            valid_for: format!("{CHALLENGE_TTL_HOURS} hours"),
        };
        services.outbox(now).queue(conn, &account.email, &email)?;
        let detail = format!("to the registered address {}", account.email);
        store::ticket_events::record(conn, ticket.id, now, actor(agent), TicketEventKind::ChallengeSent, &detail)?;
        Ok(account.email)
    })
}

/// How many wrong authenticator codes a challenge takes before it closes.
pub const CHALLENGE_CODE_TRIES: i32 = 5;

/// What the challenge's page offers the person who opened the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeState {
    /// Unknown, used, expired or out of tries.
    Dead,
    /// Only the button: the account has no authenticator.
    Mailbox,
    /// The account has an authenticator: its current code is asked for too.
    MailboxAndCode,
}

pub fn state(conn: &mut DbConnection, services: &Services, token: &PlainToken) -> Result<ChallengeState, AppError> {
    let Some(challenge) = store::challenges::find_live(conn, &token.hashed(), services.stored_now())? else {
        return Ok(ChallengeState::Dead);
    };
    Ok(match account_of(conn, &challenge.email)?.is_some_and(|a| a.has_second_factor()) {
        true => ChallengeState::MailboxAndCode,
        false => ChallengeState::Mailbox,
    })
}

fn account_of(conn: &mut DbConnection, email: &str) -> Result<Option<User>, AppError> {
    match keydesk_core::EmailAddress::parse(email) {
        Ok(email) => Ok(store::users::find_by_email(conn, &email)?),
        Err(_) => Ok(None),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmed {
    /// The mailbox is confirmed.
    Mailbox,
    /// Mailbox and authenticator: the ticket is verified by the user's own code.
    Verified,
    /// A wrong (or missing) code; `tries_left` before the challenge closes.
    WrongCode { tries_left: i32 },
    /// Unknown, used, expired or out of tries.
    Dead,
}

/// The user followed the link and pressed the button (with their authenticator's code, when
/// they have one).
pub fn confirm(
    conn: &mut DbConnection,
    services: &Services,
    token: &PlainToken,
    code: Option<&str>,
) -> Result<Confirmed, AppError> {
    let now = services.now();
    let stored_now = now.naive_utc();
    write_transaction(conn, |conn| {
        let Some(challenge) = store::challenges::find_live(conn, &token.hashed(), stored_now)? else {
            return Ok(Confirmed::Dead);
        };
        let ticket = challenge.ticket_id;
        // The ticket's row first, as every writer of a ticket takes it (`ticket_to_change`):
        // an agent's unlock holds it and then the user's row, and this would otherwise take
        // the user's row (the code's time step) and then wait for the ticket's.
        store::tickets::lock_row(conn, ticket)?;
        let account = account_of(conn, &challenge.email)?;
        let secret = account.as_ref().and_then(|a| a.totp_secret.as_deref()).and_then(TotpSecret::from_base32);
        let Some(secret) = secret else {
            if !store::challenges::close(conn, challenge.id, stored_now)? {
                return Ok(Confirmed::Dead);
            }
            mailbox_confirmed(conn, ticket, &challenge.email, stored_now)?;
            return Ok(Confirmed::Mailbox);
        };
        let account = account.expect("a secret comes with its account");
        let step = code.and_then(|code| secret.verify(code, now, account.totp_last_step).ok());
        let used = match step {
            Some(step) => store::users::use_totp_step(conn, account.id, step)?,
            None => false,
        };
        if !used {
            let Some(tries) = store::challenges::take_try(conn, challenge.id)? else { return Ok(Confirmed::Dead) };
            let tries_left = (CHALLENGE_CODE_TRIES - tries).max(0);
            if tries_left == 0 {
                store::challenges::close(conn, challenge.id, stored_now)?;
            }
            let detail = format!("on the mailbox challenge (try {tries} of {CHALLENGE_CODE_TRIES})");
            store::ticket_events::record(conn, ticket, stored_now, None, TicketEventKind::CodeFailed, &detail)?;
            return Ok(Confirmed::WrongCode { tries_left });
        }
        if !store::challenges::close(conn, challenge.id, stored_now)? {
            return Ok(Confirmed::Dead);
        }
        mailbox_confirmed(conn, ticket, &challenge.email, stored_now)?;
        // Mailbox and phone both answered: the strongest verification, recorded by the user.
        let current = store::tickets::find(conn, ticket)?.and_then(|t| t.verified_at);
        let method = VerificationMethod::AuthenticatorCode;
        let note = "the user typed a current code from their authenticator app on the mailbox challenge";
        if store::tickets::mark_verified(conn, ticket, current, None, method, note, stored_now)? {
            let detail = format!("{}: {note}", method.as_str());
            store::ticket_events::record(conn, ticket, stored_now, None, TicketEventKind::Verified, &detail)?;
        }
        Ok(Confirmed::Verified)
    })
}

fn mailbox_confirmed(
    conn: &mut DbConnection,
    ticket: TicketNumber,
    email: &str,
    now: chrono::NaiveDateTime,
) -> Result<(), AppError> {
    store::tickets::confirm_mailbox(conn, ticket, now)?;
    let detail = format!("{email} followed the link");
    store::ticket_events::record(conn, ticket, now, None, TicketEventKind::MailboxConfirmed, &detail)?;
    Ok(())
}
