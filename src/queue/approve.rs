//! A manager's approval of an unlock that needs a second person (privileged accounts, and
//! accounts support keeps unlocking): never the person who verified the sender, and only for
//! the verification of the account's current lock (`keydesk_core::tickets::may_approve`).

use super::unlock::{account_of, unlock_facts};
use super::{actor, ticket_to_change};
use crate::app::{AppError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::ids::TicketNumber;
use crate::store::{self, users::User};
use keydesk_core::tickets::{may_approve, ApprovalRefusal};
use keydesk_core::{Role, StaffRole, TicketEventKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApproveOutcome {
    Approved,
    Refused(ApprovalRefusal),
}

pub fn approve(
    conn: &mut DbConnection,
    services: &Services,
    manager: &User,
    number: TicketNumber,
    note: &str,
) -> Result<ApproveOutcome, AppError> {
    if manager.role != Role::Staff(StaffRole::Manager) {
        return Err(AppError::Forbidden);
    }
    let now = services.now();
    write_transaction(conn, |conn| {
        let ticket = ticket_to_change(conn, number)?;
        let account = account_of(conn, &ticket)?;
        let facts = unlock_facts(conn, services, &ticket, account.as_ref(), now)?;
        if let Err(refusal) = may_approve(&facts, manager.id.0) {
            return Ok(ApproveOutcome::Refused(refusal));
        }
        let note = note.trim();
        store::tickets::mark_approved(conn, ticket.id, manager.id, note, now.naive_utc())?;
        store::ticket_events::record(
            conn,
            ticket.id,
            now.naive_utc(),
            actor(manager),
            TicketEventKind::Approved,
            note,
        )?;
        Ok(ApproveOutcome::Approved)
    })
}
