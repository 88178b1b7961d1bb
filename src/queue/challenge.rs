//! The mailbox challenge. A From header proves nothing, so an agent can send a single-use,
//! expiring link to the account's *registered* address (never the sender's); following it
//! shows "mailbox confirmed" on the ticket.

use super::{actor, ticket};
use crate::accounts::{AccountError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::mail::{self, EmailKind};
use crate::store::{self, users::User};
use keydesk_core::PlainToken;
use keydesk_core::TicketEventKind;

pub const CHALLENGE_TTL_HOURS: i64 = 24;

pub fn send(conn: &mut DbConnection, services: &Services, agent: &User, number: i64) -> Result<String, AccountError> {
    write_transaction(conn, |conn| {
        let ticket = ticket(conn, number)?;
        let account_id = ticket.account_user_id.ok_or_else(|| {
            AccountError::Invalid(
                "the ticket is not linked to an account: there is no registered address to challenge".into(),
            )
        })?;
        let account = store::users::find(conn, account_id)?.ok_or(AccountError::NotFound)?;
        let token = PlainToken::generate();
        let now = store::now();
        store::challenges::create(
            conn,
            ticket.id,
            &token.hashed(),
            &account.email,
            now,
            now + chrono::Duration::hours(CHALLENGE_TTL_HOURS),
        )?;
        let mut context = tera::Context::new();
        context.insert("number", &ticket.id);
        context.insert("full_name", &account.full_name);
        context.insert("email", &account.email);
        context.insert("confirm_link", &services.config.link(&format!("/confirm/{}", token.expose())));
        context.insert("valid_for", &format!("{CHALLENGE_TTL_HOURS} hours"));
        mail::queue(conn, &services.config, &services.mail, EmailKind::MailboxChallenge, &account.email, &context)?;
        store::ticket_events::record(
            conn,
            ticket.id,
            actor(agent),
            TicketEventKind::ChallengeSent,
            &format!("to the registered address {}", account.email),
        )?;
        Ok(account.email)
    })
}

/// The user followed the link: true when it was live (unknown, used or expired: false).
pub fn confirm(conn: &mut DbConnection, token: &PlainToken) -> Result<bool, AccountError> {
    write_transaction(conn, |conn| {
        let now = store::now();
        let Some((ticket_id, email)) = store::challenges::redeem(conn, &token.hashed(), now)? else { return Ok(false) };
        store::tickets::confirm_mailbox(conn, ticket_id, now)?;
        store::ticket_events::record(
            conn,
            ticket_id,
            None,
            TicketEventKind::MailboxConfirmed,
            &format!("{email} followed the link"),
        )?;
        Ok(true)
    })
}
