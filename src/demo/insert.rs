//! Writes planned tickets and activity to the database, a chunk at a time: the tickets
//! (getting their numbers), each one's message as taken in (the raw bytes in the intake
//! ledger under the source "demo", so the ticket page's checks read its headers), the
//! message in the ticket's thread, its history, and the activity-log entries around it.

use super::cast::CastIds;
use super::message::RequestMessage;
use super::plan::PlannedTicket;
use super::planned::{ActivityActor, ActivityDetail, PlannedActivity};
use super::roster::Roster;
use crate::db::DbConnection;
use crate::ids::{LedgerId, TicketNumber};
use crate::store::bulk::{self, EventRow, InboundRow, TicketEventRow, TicketRow};
use crate::store::tickets::NewTicketMessage;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::QueryResult;
use keydesk_core::MessageDirection;
use sha2::{Digest, Sha256};

/// The intake ledger's source for demo messages.
pub const DEMO_SOURCE: &str = "demo";

/// What one chunk added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub tickets: usize,
    pub ticket_events: usize,
    pub activity_entries: usize,
    pub still_open: usize,
}

/// Writes these tickets and everything that goes with them; call inside a transaction.
pub fn write_tickets(
    conn: &mut DbConnection,
    cast: &CastIds,
    roster: &Roster,
    planned: &[PlannedTicket],
) -> QueryResult<Written> {
    let ids = bulk::insert_tickets(conn, &planned.iter().map(|t| ticket_row(cast, t)).collect::<Vec<_>>())?;
    assert_eq!(ids.len(), planned.len(), "one id per ticket inserted");

    let message_ids: Vec<String> = planned.iter().zip(&ids).map(|(t, id)| message_id(&t.message, *id)).collect();
    let raws: Vec<String> =
        planned.iter().zip(&message_ids).map(|(t, mid)| t.message.raw(mid, t.received_at)).collect();
    let hashes: Vec<String> = raws.iter().map(|raw| hex::encode(Sha256::digest(raw.as_bytes()))).collect();
    let keys: Vec<String> = ids.iter().map(|id| format!("ticket-{id}")).collect();
    let summaries: Vec<_> = raws.iter().map(|raw| keydesk_core::intake::read_headers(raw.as_bytes())).collect();
    let results: Vec<String> = summaries.iter().map(|s| s.authentication_results.join("\n")).collect();
    let ledger: Vec<InboundRow<'_>> = (0..planned.len())
        .map(|i| InboundRow {
            source: DEMO_SOURCE,
            source_key: &keys[i],
            message_id: &message_ids[i],
            content_hash: &hashes[i],
            received_at: naive(planned[i].received_at),
            raw: raws[i].as_bytes(),
            ticket_id: ids[i],
            from_header: &summaries[i].from_header,
            subject: &summaries[i].subject,
            authentication_results: &results[i],
        })
        .collect();
    let ledger_ids = bulk::insert_inbound(conn, &ledger)?;

    let thread: Vec<NewTicketMessage<'_>> = (0..planned.len())
        .map(|i| {
            let message = &planned[i].message;
            NewTicketMessage {
                ticket_id: TicketNumber(ids[i]),
                direction: MessageDirection::In,
                message_id: &message_ids[i],
                at: naive(planned[i].received_at),
                sender: &message.sender,
                subject: &message.subject,
                body_text: &message.body,
                inbound_message_id: Some(LedgerId(ledger_ids[i])),
            }
        })
        .collect();
    bulk::insert_ticket_messages(conn, &thread)?;

    let history: Vec<TicketEventRow<'_>> = planned
        .iter()
        .zip(&ids)
        .flat_map(|(ticket, &ticket_id)| {
            ticket.events.iter().map(move |e| TicketEventRow {
                ticket_id,
                at: naive(e.at),
                actor: e.actor.map(|s| (cast.staff[s], roster.staff[s].email.as_str())),
                kind: e.kind,
                detail: &e.detail,
            })
        })
        .collect();
    bulk::insert_ticket_events(conn, &history)?;

    let activity: Vec<(&PlannedActivity, Option<i64>)> =
        planned.iter().zip(&ids).flat_map(|(t, &id)| t.activity.iter().map(move |a| (a, Some(id)))).collect();
    let activity_entries = write_activity(conn, cast, roster, &activity)?;

    Ok(Written {
        tickets: ids.len(),
        ticket_events: history.len(),
        activity_entries,
        still_open: planned.iter().filter(|t| !t.status.is_resolved()).count(),
    })
}

/// Writes activity-log entries; each with the number of the ticket it belongs to, if any.
pub fn write_activity(
    conn: &mut DbConnection,
    cast: &CastIds,
    roster: &Roster,
    entries: &[(&PlannedActivity, Option<i64>)],
) -> QueryResult<usize> {
    let details: Vec<String> = entries
        .iter()
        .map(|(entry, ticket)| match (entry.detail, ticket) {
            (ActivityDetail::Text(text), _) => text.to_owned(),
            (ActivityDetail::TicketNumber, Some(number)) => format!("ticket #{number}"),
            (ActivityDetail::TicketNumber, None) => String::new(),
        })
        .collect();
    let ips: Vec<Option<String>> = entries.iter().map(|(entry, _)| ip_of(entry)).collect();
    let rows: Vec<EventRow<'_>> = entries
        .iter()
        .zip(details.iter().zip(&ips))
        .map(|((entry, _), (detail, ip))| {
            let target = &roster.people[entry.target];
            let (actor_id, actor_label) = match entry.actor {
                ActivityActor::TheUser => (None, target.email.as_str()),
                ActivityActor::Colleague(p) => (Some(cast.people[p]), roster.people[p].email.as_str()),
                ActivityActor::Staff(s) => (Some(cast.staff[s]), roster.staff[s].email.as_str()),
            };
            EventRow {
                at: naive(entry.at),
                action: entry.kind,
                actor_id,
                actor_label,
                target_user_id: cast.people[entry.target],
                target_label: &target.email,
                organisation_id: Some(cast.organisations[target.organisation]),
                ip: ip.as_deref(),
                detail,
            }
        })
        .collect();
    bulk::insert_events(conn, &rows)?;
    Ok(rows.len())
}

/// Where a request came from: documentation addresses (RFC 5737), one per person. The
/// desk's own actions carry none, as in `queue::unlock`.
fn ip_of(entry: &PlannedActivity) -> Option<String> {
    match entry.actor {
        ActivityActor::TheUser => Some(format!("198.51.100.{}", 1 + entry.target % 254)),
        ActivityActor::Colleague(p) => Some(format!("203.0.113.{}", 1 + p % 254)),
        ActivityActor::Staff(_) => None,
    }
}

/// Unique per ticket, under the sender's domain as their mail server would write it.
fn message_id(message: &RequestMessage, ticket_id: i64) -> String {
    let domain = message.sender.rsplit('@').next().unwrap_or("demo.example");
    format!("demo-{ticket_id}@{domain}")
}

fn ticket_row<'a>(cast: &CastIds, ticket: &'a PlannedTicket) -> TicketRow<'a> {
    let message = &ticket.message;
    let field = |f: &'a Option<(String, keydesk_core::intake::FieldSource)>| {
        f.as_ref().map(|(value, source)| (value.as_str(), *source))
    };
    let verification = ticket.verification.as_ref();
    TicketRow {
        status: ticket.status,
        received_at: naive(ticket.received_at),
        sender: &message.sender,
        sender_name: Some(&message.sender_name),
        subject: &message.subject,
        full_name: field(&message.full_name),
        registered_email: field(&message.registered_email),
        description: field(&message.description),
        account_user_id: Some(cast.people[ticket.account]),
        requester_user_id: ticket.requester.map(|p| cast.people[p]),
        assignee_id: ticket.assignee.map(|s| cast.staff[s]),
        verified_at: verification.map(|v| naive(v.at)),
        verified_by_id: verification.map(|v| cast.staff[v.by]),
        verification_method: verification.map(|v| v.method),
        verification_note: verification.map(|v| v.note),
        mailbox_confirmed_at: ticket.mailbox_confirmed_at.map(naive),
        updated_at: naive(ticket.updated_at),
    }
}

fn naive(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc()
}
