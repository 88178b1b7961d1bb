//! The mailbox challenge. A From header proves nothing, so an agent can send a single-use,
//! expiring link to the account's *registered* address (never the sender's); following it
//! shows "mailbox confirmed" on the ticket.

use super::{actor, ticket};
use crate::app::{AppError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::ids::TicketNumber;
use crate::mail::emails::MailboxChallenge;
use crate::store::{self, users::User};
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
        let ticket = ticket(conn, number)?;
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

/// The user followed the link: true when it was live (unknown, used or expired: false).
pub fn confirm(conn: &mut DbConnection, services: &Services, token: &PlainToken) -> Result<bool, AppError> {
    let now = services.stored_now();
    write_transaction(conn, |conn| {
        let Some((ticket_id, email)) = store::challenges::redeem(conn, &token.hashed(), now)? else { return Ok(false) };
        store::tickets::confirm_mailbox(conn, ticket_id, now)?;
        let detail = format!("{email} followed the link");
        store::ticket_events::record(conn, ticket_id, now, None, TicketEventKind::MailboxConfirmed, &detail)?;
        Ok(true)
    })
}
