//! Filing a batch's new requests together. Most of a busy mailbox is people writing in for
//! the first time, and each of their messages costs the same dozen statements — on
//! PostgreSQL, a dozen round trips. Here the batch's lookups are made once for all of its
//! messages, and the new tickets of the requests that depend on no other message of the
//! batch are written with one statement per table, by the same code that files a single
//! request (`opening::open_tickets`), so they get exactly the rows filing them one by one
//! would. Every other message — a reply, a second message from the same sender or about the
//! same account, machine mail, a duplicate, one that cannot be read — is left to be filed on
//! its own, after these, as before.
//!
//! A batch is at most `BATCH_MESSAGES` (200) messages, so the widest statement (three history
//! rows of six columns per ticket) binds 3,600 parameters, far below SQLite's 32,766 and
//! PostgreSQL's 65,535.

use super::filing::{sender_of, People};
use super::opening::{open_tickets, NewRequest};
use super::pipeline::{ledger_row, Decision, IntakeOutcome, Prepared};
use crate::app::AppError;
use crate::app::Services;
use crate::db::{write_transaction, DbConnection};
use crate::ids::{LedgerId, TicketNumber, UserId};
use crate::store;
use crate::store::inbound;
use crate::store::users::User;
use keydesk_core::intake::{HeaderSummary, LedgerOutcome, ParsedMessage};
use std::collections::{HashMap, HashSet};

/// The most parameters one statement here binds: three history rows of six columns per ticket.
const WIDEST_ROWS_PER_MESSAGE: usize = 3 * 6;
const _: () = assert!(super::BATCH_MESSAGES * WIDEST_ROWS_PER_MESSAGE < 32_766, "SQLite's bind limit");

/// Files the batch's independent new requests; each message's outcome when it was settled
/// here (filed, or taken in before at its source), `None` when it is to be filed on its own.
/// All of it — the lookups too — runs in a savepoint: whatever fails here (a statement the
/// database refuses) leaves every message to be filed on its own.
pub(super) fn file_together(
    conn: &mut DbConnection,
    services: &Services,
    batch: &[Prepared<'_>],
) -> Vec<Option<IntakeOutcome>> {
    let Some(source) = batch.first().map(|m| m.raw.source.as_str()) else { return Vec::new() };
    // Batches as the sources cut them (one source, within the bind limits); any other is
    // filed one by one.
    if batch.len() > super::BATCH_MESSAGES || batch.iter().any(|m| m.raw.source != source) {
        return vec![None; batch.len()];
    }
    write_transaction(conn, |conn| settle_independent(conn, services, batch, source)).unwrap_or_else(|failure| {
        let said = crate::logs::without_addresses(&failure.to_string()).into_owned();
        tracing::warn!("intake: a batch's new requests could not be filed together ({said}): filing them one by one");
        vec![None; batch.len()]
    })
}

fn settle_independent(
    conn: &mut DbConnection,
    services: &Services,
    batch: &[Prepared<'_>],
    source: &str,
) -> Result<Vec<Option<IntakeOutcome>>, AppError> {
    let mut outcomes = vec![None; batch.len()];
    let keys: Vec<&str> = batch.iter().map(|m| m.raw.source_key.as_str()).collect();
    let hashes: Vec<&str> = batch.iter().map(|m| m.content_hash.as_str()).collect();
    let (seen_keys, seen_hashes) = inbound::taken_in_before_many(conn, source, &keys, &hashes)?;
    // Each message's decision, as filing the batch in order would find it: the same bytes
    // earlier in the batch make a duplicate, as the same bytes taken in before do.
    let mut hashes_before: HashSet<&str> = HashSet::new();
    let mut people_of: HashMap<usize, &ParsedMessage> = HashMap::new();
    for (i, message) in batch.iter().enumerate() {
        if seen_keys.contains(&message.raw.source_key) {
            // Taken in before, or a new message under a reused key (`source_key`): filed on
            // its own, where the two are told apart. Its bytes still come first.
            hashes_before.insert(&message.content_hash);
            continue;
        }
        // `|`, not `||`: every message's bytes count for the ones after it.
        let duplicate = seen_hashes.contains(&message.content_hash) | !hashes_before.insert(&message.content_hash);
        if let Decision::Person(parsed) = message.decide(duplicate) {
            people_of.insert(i, parsed);
        }
    }
    let lookups = Lookups::for_messages(conn, people_of.values().copied())?;
    let mut independent: Vec<(usize, &ParsedMessage, People)> = Vec::new();
    let mut before = Before::default();
    for (i, message) in batch.iter().enumerate() {
        let Some(parsed) = people_of.get(&i).copied() else {
            before.add(message.parsed(), None);
            continue;
        };
        let people = People::of(parsed, |address| Ok(lookups.accounts.get(address.as_str()).cloned()))?;
        let account = people.account.as_ref().map(|a| a.id);
        if lookups.opens_a_ticket(parsed, account) && !before.touches(parsed, account) {
            independent.push((i, parsed, people));
        }
        before.add(Some(parsed), account);
    }
    if !independent.is_empty() {
        for (i, ticket) in write(conn, services, batch, independent)? {
            outcomes[i] = Some(IntakeOutcome::NewTicket(ticket));
        }
    }
    Ok(outcomes)
}

/// What the database says of the batch's people's messages, read in three queries.
struct Lookups {
    /// The accounts of the senders and of the stated registered emails, by address.
    accounts: HashMap<String, User>,
    /// Message-IDs they answer that a ticket's thread holds.
    known_message_ids: HashSet<String>,
    /// Accounts with an open ticket.
    busy_accounts: HashSet<UserId>,
}

impl Lookups {
    fn for_messages<'a>(
        conn: &mut DbConnection,
        messages: impl Iterator<Item = &'a ParsedMessage> + Clone,
    ) -> Result<Lookups, AppError> {
        let addresses: Vec<String> = messages
            .clone()
            .flat_map(|parsed| {
                let (sender, stated) = People::addresses(parsed);
                sender.into_iter().chain(stated).map(|address| address.as_str().to_owned())
            })
            .collect();
        let addresses: Vec<&str> = addresses.iter().map(String::as_str).collect();
        let accounts: HashMap<String, User> =
            store::users::by_emails(conn, &addresses)?.into_iter().map(|user| (user.email.clone(), user)).collect();
        let answered: Vec<&str> = messages.flat_map(answered).collect();
        let known_message_ids = store::tickets::known_message_ids(conn, &answered)?.into_iter().collect();
        let account_ids: Vec<UserId> = accounts.values().map(|user| user.id).collect();
        let busy_accounts = store::tickets::accounts_with_open_tickets(conn, &account_ids)?.into_iter().collect();
        Ok(Lookups { accounts, known_message_ids, busy_accounts })
    }

    /// Whether filing the message would open a new ticket (as `filing::file_as_ticket`
    /// decides, from what the database held before the batch): it names no ticket, answers
    /// no message of a ticket's thread, and its account has no open ticket.
    fn opens_a_ticket(&self, parsed: &ParsedMessage, account: Option<UserId>) -> bool {
        parsed.ticket_number.is_none()
            && !answered(parsed).any(|id| self.known_message_ids.contains(id))
            && !account.is_some_and(|id| self.busy_accounts.contains(&id))
    }
}

/// The Message-IDs a message answers (as `filing` looks them up).
fn answered(parsed: &ParsedMessage) -> impl Iterator<Item = &str> {
    parsed.answered_message_ids()
}

/// What the batch's earlier messages may have changed for a later one: tickets opened for
/// their accounts, acknowledgements counted for their senders, thread rows with their
/// Message-IDs.
#[derive(Default)]
struct Before<'a> {
    senders: HashSet<&'a str>,
    accounts: HashSet<UserId>,
    message_ids: HashSet<&'a str>,
}

impl<'a> Before<'a> {
    fn add(&mut self, parsed: Option<&'a ParsedMessage>, account: Option<UserId>) {
        let Some(parsed) = parsed else { return };
        self.senders.insert(sender_of(parsed));
        self.accounts.extend(account);
        self.message_ids.extend(parsed.message_id.as_deref());
    }

    /// Whether filing `parsed` after them could differ from filing it before them. A
    /// Message-ID an earlier message also carries counts: a reply naming it threads onto the
    /// first thread that holds it.
    fn touches(&self, parsed: &ParsedMessage, account: Option<UserId>) -> bool {
        self.senders.contains(sender_of(parsed))
            || account.is_some_and(|id| self.accounts.contains(&id))
            || answered(parsed).chain(parsed.message_id.as_deref()).any(|id| self.message_ids.contains(id))
    }
}

/// Writes the independent requests' ledger rows, attachments and tickets; each one's
/// position in the batch and its ticket.
fn write(
    conn: &mut DbConnection,
    services: &Services,
    batch: &[Prepared<'_>],
    independent: Vec<(usize, &ParsedMessage, People)>,
) -> Result<Vec<(usize, TicketNumber)>, AppError> {
    let headers: Vec<(HeaderSummary, String)> = independent
        .iter()
        .map(|(_, parsed, _)| {
            let summary = HeaderSummary::of(parsed);
            let authentication_results = summary.authentication_results.join("\n");
            (summary, authentication_results)
        })
        .collect();
    let rows: Vec<_> = independent
        .iter()
        .zip(&headers)
        .map(|((i, _, _), (summary, results))| {
            let message = &batch[*i];
            // Settled as filed once the tickets are written (`set_ticket_outcomes`).
            ledger_row(
                (message.raw, &message.raw.source_key),
                &message.content_hash,
                summary,
                results,
                None,
                (LedgerOutcome::Ticket, ""),
            )
        })
        .collect();
    let ledger_ids: Vec<LedgerId> = inbound::insert_many(conn, &rows)?;
    for ((_, parsed, _), ledger_id) in independent.iter().zip(&ledger_ids) {
        store::attachments::insert_all(conn, *ledger_id, &parsed.attachments)?;
    }
    let positions: Vec<usize> = independent.iter().map(|(i, ..)| *i).collect();
    let requests: Vec<NewRequest> = independent
        .into_iter()
        .zip(&ledger_ids)
        .map(|((i, parsed, people), &ledger_id)| NewRequest { raw: batch[i].raw, parsed, ledger_id, people })
        .collect();
    let tickets = open_tickets(conn, services, &requests)?;
    let filed: Vec<(LedgerId, TicketNumber)> = ledger_ids.into_iter().zip(tickets.iter().copied()).collect();
    inbound::set_ticket_outcomes(conn, LedgerOutcome::Ticket, &filed)?;
    Ok(positions.into_iter().zip(tickets).collect())
}
