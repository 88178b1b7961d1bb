//! The intake door: a raw message is read (parsed, classified) *before* any transaction
//! opens — so a slow parse never holds SQLite's single writer — and then, in one short
//! transaction, recorded in the ledger and filed: duplicate, quarantined, machine mail
//! (ignored, or attached to the ticket it bounced from), a thread, or a new ticket.

use super::filing::file_as_ticket;
use super::machine_mail::file_machine_mail;
use crate::app::{AppError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::ids::{LedgerId, TicketNumber};
use crate::store;
use crate::store::inbound::{self, NewInbound};
use chrono::NaiveDateTime;
use keydesk_core::intake::source_key::Arriving;
use keydesk_core::intake::{parse_message, read_headers, HeaderSummary, LedgerOutcome, ParsedMessage};
use sha2::{Digest, Sha256};

/// A message as a source hands it over.
pub struct RawMessage {
    /// Which mailbox it came from, e.g. `maildir:/var/intake` or `imap:host/INBOX`.
    pub source: String,
    /// Its identity within that source: the Maildir unique name, or `UIDVALIDITY:UID`.
    pub source_key: String,
    /// When the server received it (never the sender's Date header, which anyone can set).
    pub arrived_at: NaiveDateTime,
    /// The whole message, or only its headers when `complete` is false.
    pub bytes: Vec<u8>,
    /// False when the source did not read it whole: it is over `intake.max_message_bytes`.
    pub complete: bool,
    /// Its size at the source, read whole or not.
    pub size_bytes: usize,
}

impl RawMessage {
    /// A message read whole.
    pub fn whole(source: String, source_key: String, arrived_at: NaiveDateTime, bytes: Vec<u8>) -> Self {
        let size_bytes = bytes.len();
        RawMessage { source, source_key, arrived_at, bytes, complete: true, size_bytes }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntakeOutcome {
    NewTicket(TicketNumber),
    Threaded(TicketNumber),
    /// Machine mail (bounce, auto-reply, list, our own): recorded, never answered, never a
    /// ticket; attached to the ticket it refers to when it is a bounce or an auto-reply.
    Ignored(String),
    /// Kept raw with the reason, for staff to re-process or discard.
    Quarantined(String),
    /// Taken in before: the same source key, or the same bytes under another key.
    Duplicate,
}

impl IntakeOutcome {
    /// How the ledger records it.
    pub(super) fn ledger(&self) -> LedgerOutcome {
        match self {
            IntakeOutcome::NewTicket(_) => LedgerOutcome::Ticket,
            IntakeOutcome::Threaded(_) => LedgerOutcome::Threaded,
            IntakeOutcome::Ignored(_) => LedgerOutcome::Ignored,
            IntakeOutcome::Quarantined(_) => LedgerOutcome::Quarantined,
            IntakeOutcome::Duplicate => LedgerOutcome::Duplicate,
        }
    }
}

/// What reading the bytes gave.
enum Reading {
    /// Over the size limit: only the headers were read.
    TooLarge {
        limit: usize,
    },
    Unreadable(String),
    Parsed(Box<ParsedMessage>),
}

fn read(services: &Services, raw: &RawMessage) -> Reading {
    let limit = services.config.intake.max_message_bytes;
    if !raw.complete || raw.size_bytes > limit {
        return Reading::TooLarge { limit };
    }
    match parse_message(&raw.bytes, &services.intake_rules) {
        Ok(parsed) => Reading::Parsed(Box::new(parsed)),
        Err(error) => Reading::Unreadable(format!("cannot be parsed: {error}")),
    }
}

pub fn take_in(conn: &mut DbConnection, services: &Services, raw: &RawMessage) -> Result<IntakeOutcome, AppError> {
    take_in_guarded(conn, services, raw, |_| Ok(()))
}

/// A message read (parsed, hashed) and ready to be filed.
pub struct Prepared<'a> {
    pub(super) raw: &'a RawMessage,
    reading: Reading,
    pub(super) content_hash: String,
    message_id: Option<String>,
}

impl Prepared<'_> {
    /// The message as parsed, when it could be.
    pub(super) fn parsed(&self) -> Option<&ParsedMessage> {
        match &self.reading {
            Reading::Parsed(parsed) => Some(parsed),
            _ => None,
        }
    }

    /// What the ledger's keys are checked against.
    pub(super) fn arriving(&self) -> Arriving<'_> {
        Arriving {
            source_key: &self.raw.source_key,
            content_hash: &self.content_hash,
            message_id: self.message_id.as_deref(),
        }
    }

    /// What becomes of it, given whether its bytes were taken in before.
    pub(super) fn decide(&self, duplicate: bool) -> Decision<'_> {
        decide(&self.reading, self.raw, duplicate)
    }
}

/// Reads `raw`: the work done outside any transaction.
pub fn prepare<'a>(services: &Services, raw: &'a RawMessage) -> Prepared<'a> {
    prepare_hashed(services, raw, content_hash(raw))
}

/// [`prepare`], the bytes' hash already taken.
fn prepare_hashed<'a>(services: &Services, raw: &'a RawMessage, content_hash: String) -> Prepared<'a> {
    let reading = read(services, raw);
    let message_id = match &reading {
        Reading::Parsed(parsed) => parsed.message_id.clone(),
        _ => read_headers(&raw.bytes).message_id,
    };
    Prepared { raw, reading, content_hash, message_id }
}

/// What the ledger knows the bytes by.
pub(super) fn content_hash(raw: &RawMessage) -> String {
    hex::encode(Sha256::digest(&raw.bytes))
}

/// Takes in a batch of messages in one transaction — one commit, so one flush to disk, for
/// all of them — each read beforehand. The new requests that depend on no other message of
/// the batch are filed together (`together`); every other message is filed in a savepoint of
/// its own: one that fails to file is quarantined in its place without undoing the others.
/// An error (the database itself failing) undoes the whole batch, and the source keeps every
/// message of it for the next pass.
pub fn take_in_batch(
    conn: &mut DbConnection,
    services: &Services,
    raws: &[RawMessage],
) -> Result<Vec<IntakeOutcome>, AppError> {
    let prepared: Vec<Prepared> = raws.iter().map(|raw| prepare(services, raw)).collect();
    let outcomes = write_transaction(conn, |conn| {
        let together = super::together::file_together(conn, services, &prepared);
        prepared
            .iter()
            .zip(together)
            .map(|(message, filed)| match filed {
                Some(outcome) => Ok(outcome),
                None => file_alone(conn, services, message),
            })
            .collect::<Result<Vec<_>, AppError>>()
    })?;
    // Counted once committed.
    outcomes.iter().for_each(|outcome| services.metrics.intake_message(outcome.ledger()));
    Ok(outcomes)
}

/// Files one message of a batch in a savepoint of its own, quarantining it in its place when
/// it fails to file.
fn file_alone(conn: &mut DbConnection, services: &Services, message: &Prepared) -> Result<IntakeOutcome, AppError> {
    write_transaction(conn, |conn| file(conn, services, message)).or_else(|failure| {
        let said = crate::logs::without_addresses(&failure.to_string()).into_owned();
        let raw = message.raw;
        tracing::warn!("intake: {} {} could not be filed: {said}", raw.source, raw.source_key);
        super::quarantine_after_failure(conn, raw, &failure)
    })
}

/// As [`take_in`], with `guard` run first inside the filing transaction: an error from it
/// (say, the message is no longer in quarantine) undoes everything.
pub(super) fn take_in_guarded(
    conn: &mut DbConnection,
    services: &Services,
    raw: &RawMessage,
    guard: impl FnOnce(&mut DbConnection) -> Result<(), AppError>,
) -> Result<IntakeOutcome, AppError> {
    // Cheap and read-only: a message seen before is not parsed again (its Message-ID is not
    // known yet, so only the same bytes count here).
    let content_hash = content_hash(raw);
    let unparsed = Arriving { source_key: &raw.source_key, content_hash: &content_hash, message_id: None };
    if inbound::taken_in_before(conn, &raw.source, &unparsed)?.0.ledger_key(&unparsed).is_none() {
        return Ok(IntakeOutcome::Duplicate);
    }
    let prepared = prepare_hashed(services, raw, content_hash);
    write_transaction(conn, |conn| {
        guard(conn)?;
        file(conn, services, &prepared)
    })
}

/// Records a read message in the ledger and files it, inside the caller's transaction.
fn file(conn: &mut DbConnection, services: &Services, prepared: &Prepared) -> Result<IntakeOutcome, AppError> {
    let Prepared { raw, reading, content_hash, .. } = prepared;
    // Checked inside the transaction: another process may have taken it in meanwhile.
    let arriving = prepared.arriving();
    let (under_keys, duplicate) = inbound::taken_in_before(conn, &raw.source, &arriving)?;
    let Some(ledger_key) = under_keys.ledger_key(&arriving) else { return Ok(IntakeOutcome::Duplicate) };
    let decision = decide(reading, raw, duplicate);
    let parsed = decision.parsed();
    let ledger_id = record(conn, (raw, &ledger_key), content_hash, parsed, &decision)?;
    if let Some(parsed) = parsed {
        store::attachments::insert_all(conn, ledger_id, &parsed.attachments)?;
    }
    match decision {
        Decision::Person(parsed) => {
            let filed = file_as_ticket(conn, services, raw, parsed, ledger_id)?;
            let ticket = match filed {
                IntakeOutcome::NewTicket(id) | IntakeOutcome::Threaded(id) => Some(id),
                _ => None,
            };
            inbound::set_outcome(conn, ledger_id, filed.ledger(), "", ticket)?;
            Ok(filed)
        }
        Decision::Machine(reason, parsed) => {
            let ticket = file_machine_mail(conn, services, parsed)?;
            inbound::set_outcome(conn, ledger_id, LedgerOutcome::Ignored, &reason, ticket)?;
            Ok(IntakeOutcome::Ignored(reason))
        }
        Decision::Quarantine(why, _) => Ok(IntakeOutcome::Quarantined(why)),
        Decision::Duplicate => Ok(IntakeOutcome::Duplicate),
    }
}

/// What becomes of a message, before it is filed.
pub(super) enum Decision<'a> {
    Duplicate,
    /// With the message as far as it could be read.
    Quarantine(String, Option<&'a ParsedMessage>),
    /// Machine mail, with the reason staff see.
    Machine(String, &'a ParsedMessage),
    Person(&'a ParsedMessage),
}

impl<'a> Decision<'a> {
    fn parsed(&self) -> Option<&'a ParsedMessage> {
        match self {
            Decision::Duplicate => None,
            Decision::Quarantine(_, parsed) => *parsed,
            Decision::Machine(_, parsed) | Decision::Person(parsed) => Some(parsed),
        }
    }

    /// The ledger's first record of it (a person's message is settled once filed).
    pub(super) fn ledger(&self) -> (LedgerOutcome, &str) {
        match self {
            Decision::Duplicate => (LedgerOutcome::Duplicate, ""),
            Decision::Quarantine(why, _) => (LedgerOutcome::Quarantined, why),
            Decision::Machine(why, _) => (LedgerOutcome::Ignored, why),
            Decision::Person(_) => (LedgerOutcome::Ticket, ""),
        }
    }
}

/// Classify first: machine mail is never quarantined for its sender; a person's mail
/// without an answerable sender is.
fn decide<'a>(reading: &'a Reading, raw: &RawMessage, duplicate: bool) -> Decision<'a> {
    match reading {
        _ if duplicate => Decision::Duplicate,
        Reading::TooLarge { limit } => {
            let why = format!("larger than intake.max_message_bytes ({} > {limit} bytes)", raw.size_bytes);
            let why = if raw.complete { why } else { format!("{why}; only its headers were read") };
            Decision::Quarantine(why, None)
        }
        Reading::Unreadable(why) => Decision::Quarantine(why.clone(), None),
        Reading::Parsed(parsed) => match (&parsed.automated, &parsed.from) {
            (Some(reason), _) => Decision::Machine(reason.describe(), parsed),
            (None, None) => {
                let why = parsed.sender_problem.as_ref().map_or("no sender".to_owned(), |p| p.to_string());
                Decision::Quarantine(format!("cannot be answered: {why}"), Some(parsed))
            }
            (None, Some(_)) => Decision::Person(parsed),
        },
    }
}

/// The ledger row: the bytes as read, and what pages show without reading them.
fn record(
    conn: &mut DbConnection,
    keyed: (&RawMessage, &str),
    content_hash: &str,
    parsed: Option<&ParsedMessage>,
    decision: &Decision,
) -> Result<LedgerId, AppError> {
    let summary = match parsed {
        Some(parsed) => HeaderSummary::of(parsed),
        None => read_headers(&keyed.0.bytes),
    };
    let (outcome, reason) = decision.ledger();
    let machine_class = parsed.and_then(ParsedMessage::machine_class).map(|class| class.as_str());
    record_raw(conn, keyed, content_hash, &summary, machine_class, (outcome, reason))
}

/// A ledger row for a message under its ledger key, with what was read of its headers.
pub(super) fn record_raw(
    conn: &mut DbConnection,
    keyed: (&RawMessage, &str),
    content_hash: &str,
    summary: &HeaderSummary,
    machine_class: Option<&str>,
    outcome: (LedgerOutcome, &str),
) -> Result<LedgerId, AppError> {
    let authentication_results = summary.authentication_results.join("\n");
    Ok(inbound::insert(
        conn,
        ledger_row(keyed, content_hash, summary, &authentication_results, machine_class, outcome),
    )?)
}

/// The ledger's row for a message under its ledger key (`source_key`): the bytes as read,
/// and what pages show without reading them.
pub(super) fn ledger_row<'a>(
    (raw, ledger_key): (&'a RawMessage, &'a str),
    content_hash: &'a str,
    summary: &'a HeaderSummary,
    authentication_results: &'a str,
    machine_class: Option<&'a str>,
    (outcome, reason): (LedgerOutcome, &'a str),
) -> NewInbound<'a> {
    NewInbound {
        source: &raw.source,
        source_key: ledger_key,
        message_id: summary.message_id.as_deref(),
        content_hash,
        received_at: raw.arrived_at,
        raw: &raw.bytes,
        raw_complete: raw.complete,
        size_bytes: raw.size_bytes,
        from_header: &summary.from_header,
        subject: &summary.subject,
        machine_class,
        authentication_results,
        outcome,
        reason,
        ticket_id: None,
    }
}
