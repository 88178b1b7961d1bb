//! Quarantine: where a message goes when it cannot be filed — unreadable, unanswerable, too
//! large, or refused by the database — kept byte-exact (or, over the size limit, its
//! headers, the message staying at its source) for staff to take in again or discard.

use super::pipeline::{content_hash, record_raw, take_in_guarded, IntakeOutcome, RawMessage};
use crate::app::{AppError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::ids::LedgerId;
use crate::store::inbound;
use keydesk_core::intake::source_key::Arriving;
use keydesk_core::intake::{read_headers, LedgerOutcome};

/// Takes a quarantined message in again (after a fix, or a raised size limit). The check
/// that it is still quarantined and the change to "reprocessed" happen in the filing
/// transaction, so two staff pressing at once take it in once.
pub fn reprocess_quarantined(
    conn: &mut DbConnection,
    services: &Services,
    ledger_id: LedgerId,
) -> Result<IntakeOutcome, AppError> {
    let entry = inbound::find(conn, ledger_id)?.ok_or(AppError::NotFound)?;
    if entry.outcome != LedgerOutcome::Quarantined {
        return Err(AppError::NotFound);
    }
    if let Some(cleared) = entry.raw_cleared_at {
        return Err(AppError::Invalid(format!(
            "this message's raw bytes were cleared on {} (retention.raw_mail): it cannot be taken in again",
            cleared.format("%Y-%m-%d")
        )));
    }
    if !entry.raw_complete {
        return Err(AppError::Invalid(
            "only this message's headers were read (it was over intake.max_message_bytes) and it is still in the \
             mailbox: raise the limit and deliver it again"
                .into(),
        ));
    }
    let (bytes, _) = inbound::raw(conn, ledger_id)?.ok_or(AppError::NotFound)?;
    let retry = RawMessage::whole(
        entry.source.clone(),
        format!("{}#retry-{}", entry.source_key, services.now().timestamp_micros()),
        entry.received_at,
        bytes,
    );
    take_in_guarded(conn, services, &retry, |conn| {
        let from = LedgerOutcome::Quarantined;
        if inbound::change_outcome(conn, ledger_id, from, LedgerOutcome::Reprocessed, "taken in again")? {
            Ok(())
        } else {
            // No longer in quarantine: someone else took it in or discarded it meanwhile.
            Err(AppError::NotFound)
        }
    })
}

/// Discards a quarantined message: it stays in the ledger, marked with who discarded it.
/// False when it was not (or no longer) quarantined.
pub fn discard_quarantined(conn: &mut DbConnection, ledger_id: LedgerId, by: &str) -> Result<bool, AppError> {
    write_transaction(conn, |conn| {
        let entry = inbound::find(conn, ledger_id)?.ok_or(AppError::NotFound)?;
        let reason = format!("discarded by {by}: {}", entry.reason);
        Ok(inbound::change_outcome(conn, entry.id, LedgerOutcome::Quarantined, LedgerOutcome::Discarded, &reason)?)
    })
}

/// A message whose filing failed (the database refused something in it): quarantined with
/// the error, in a transaction of its own, so the messages behind it are not held up. An
/// error here too means the database itself is failing; the source tries again later.
pub fn quarantine_after_failure(
    conn: &mut DbConnection,
    raw: &RawMessage,
    failure: &AppError,
) -> Result<IntakeOutcome, AppError> {
    let summary = read_headers(&raw.bytes);
    let reason = format!("could not be filed: {failure}").replace('\0', "");
    let content_hash = content_hash(raw);
    let arriving = Arriving {
        source_key: &raw.source_key,
        content_hash: &content_hash,
        message_id: summary.message_id.as_deref(),
    };
    write_transaction(conn, |conn| {
        let Some(ledger_key) = inbound::taken_in_before(conn, &raw.source, &arriving)?.0.ledger_key(&arriving) else {
            return Ok(IntakeOutcome::Duplicate);
        };
        record_raw(conn, (raw, &ledger_key), &content_hash, &summary, None, (LedgerOutcome::Quarantined, &reason))?;
        Ok(IntakeOutcome::Quarantined(reason.clone()))
    })
}
