//! The ticket page's view: everything an agent reads about one ticket, and why Unlock can
//! or cannot be pressed, as plain rows for the template.

use super::canned::{filled_for, FilledReply};
use super::standing::{markers, next_step_view, target_standings, TargetMarker};
use super::unlock::unlock_facts;
use super::verify::{since_the_lock, verification_facts};
use super::wording::{business_age, sentence, typical_business_day, verification_of, when, Verification};
use crate::app::{AppError, Services};
use crate::db::DbConnection;
use crate::ids::{TicketNumber, UserId};
use crate::store::events::EventFilter;
use crate::store::{self, users::User};
use chrono::{DateTime, Utc};
use keydesk_core::intake::FieldSource;
use keydesk_core::tickets::{
    may_approve, may_unlock, next_step, second_person_needed, NextStepView, Progress, SecondPerson, UnlockRefusal,
};
use keydesk_core::verification::{
    may_verify_ticket, Check, VerificationFacts, VerificationMethod, VerificationRefusal,
};
use keydesk_core::{MessageDirection, Role, StaffRole, TicketEventKind, TicketStatus};
use serde::Serialize;
use std::collections::HashMap;

/// A field parsed from the request, and where it was found.
#[derive(Debug, Clone, Serialize)]
pub struct ParsedField {
    pub label: &'static str,
    pub value: Option<String>,
    pub source: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    /// In (from the user) or out (from support).
    pub direction: MessageDirection,
    pub sender: String,
    pub at: String,
    pub subject: String,
    /// Text only: a sender's HTML never reaches the page.
    pub body_text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub at: String,
    pub actor: String,
    pub kind: TicketEventKind,
    pub label: &'static str,
    pub detail: String,
    /// An internal note: never sent to the user.
    pub internal: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    pub email: String,
    pub full_name: String,
    pub organisation: Option<String>,
    pub locked: bool,
    pub locked_at: Option<String>,
    pub failed_attempts: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActivityEntry {
    pub at: String,
    pub action: String,
    pub actor: String,
    pub ip: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckView {
    pub name: &'static str,
    pub label: &'static str,
    pub passed: bool,
    /// "passed", "failed", or "not_checked" (a check the operator's settings leave out).
    pub outcome: &'static str,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MethodOption {
    pub value: &'static str,
    pub label: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApprovalView {
    pub why: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    pub note: Option<String>,
    /// The viewer is a manager who may approve now.
    pub may_approve: bool,
    /// Why the viewer may not approve (a manager who verified, or nothing verified yet).
    pub blocked: Option<String>,
}

/// Everything the ticket page shows.
#[derive(Debug, Clone, Serialize)]
pub struct TicketView {
    pub number: TicketNumber,
    pub subject: String,
    pub status: TicketStatus,
    pub status_label: &'static str,
    pub resolved: bool,
    pub received_at: String,
    pub age: String,
    pub arrived_in_hours: bool,
    pub sender: String,
    pub sender_name: Option<String>,
    pub fields: Vec<ParsedField>,
    pub messages: Vec<MessageView>,
    /// The files the user's messages brought, for staff to download (never shown inline).
    pub attachments: Vec<AttachmentView>,
    pub history: Vec<HistoryEntry>,
    pub account: Option<AccountView>,
    pub activity: Vec<ActivityEntry>,
    pub checks: Vec<CheckView>,
    pub verification: Verification,
    pub verified_by: Option<String>,
    /// The verification was recorded under the account's current lock (an older one is
    /// stale: the sender must be verified again).
    pub verification_current: bool,
    pub verified_at: Option<String>,
    pub verification_note: Option<String>,
    pub mailbox_confirmed: bool,
    /// The rule, when the sender is not authenticated and the mailbox not yet confirmed.
    pub verification_rule: Option<String>,
    pub viewer_is_manager: bool,
    pub methods: Vec<MethodOption>,
    pub assignee: Option<String>,
    pub assigned_to_me: bool,
    /// Why Unlock cannot be pressed now, if it cannot.
    pub unlock_blocked: Option<String>,
    /// When the unlock needs a second person: why, and how far that has got.
    pub approval: Option<ApprovalView>,
    pub hours: String,
    /// Who wrote on the user's behalf, and their role in the organisation (the second seed).
    pub requester: Option<(String, String, String)>,
    /// What the ticket needs next, from the one unlock rule.
    pub next_step: NextStepView,
    /// The open service-level targets (time left, due soon, breached).
    pub sla: Vec<TargetMarker>,
    /// The newest message of the thread as this page shows it (the stale-reply check).
    pub newest_message: i64,
    /// Other staff with this ticket open now.
    pub others_viewing: Vec<String>,
    pub canned_replies: Vec<FilledReply>,
    /// The reply box's text when a canned reply was chosen without JavaScript.
    pub chosen_reply: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttachmentView {
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: String,
    /// Why it was not kept, or what it is.
    pub note: Option<String>,
}

pub fn ticket_view(
    conn: &mut DbConnection,
    services: &Services,
    me: &User,
    number: TicketNumber,
    canned: Option<i64>,
    now: DateTime<Utc>,
) -> Result<TicketView, AppError> {
    let ticket = super::ticket(conn, number)?;
    let calendar = &services.calendar;
    let account = match ticket.account_user_id {
        Some(id) => store::users::find(conn, id)?,
        None => None,
    };
    let lockout = services.config.lockout_policy();
    let locked = account.as_ref().is_some_and(|a| lockout.is_locked(a.locked_at, now.naive_utc()));
    let organisation = match account.as_ref().and_then(|a| a.organisation_id) {
        Some(id) => store::orgs::find(conn, id)?,
        None => None,
    };
    let activity = match &account {
        Some(account) => store::events::list(
            conn,
            &EventFilter { target_user_id: Some(account.id), limit: 10, ..Default::default() },
        )?,
        None => vec![],
    };
    let messages = store::tickets::messages(conn, ticket.id)?;
    let attachments = store::attachments::of_ticket(conn, ticket.id)?;
    let history = store::ticket_events::of_ticket(conn, ticket.id)?;
    let checks = super::verify::checks(conn, services, &ticket)?;
    let mut ids: Vec<UserId> =
        [ticket.assignee_id, ticket.verified_by_id, ticket.approved_by_id].into_iter().flatten().collect();
    ids.dedup();
    let people: HashMap<UserId, User> = store::queue::users_by_id(conn, &ids)?.into_iter().map(|u| (u.id, u)).collect();
    let name_of = |id: Option<UserId>| id.and_then(|id| people.get(&id)).map(|u| u.full_name.clone());

    let mailbox_confirmed = ticket.mailbox_confirmed_at.is_some();
    let viewer_is_manager = me.role == Role::Staff(StaffRole::Manager);
    let unlock = unlock_facts(conn, services, &ticket, account.as_ref(), now)?;
    let verification = verification_facts(&ticket, &checks, me, &unlock.account);
    let unlock_refusal = may_unlock(&unlock, calendar, now).err();
    let approval = second_person_needed(&unlock).map(|why| {
        let needed = UnlockRefusal::ApprovalRequired(why);
        let approved = !matches!(unlock_refusal, Some(UnlockRefusal::ApprovalRequired(_)))
            && since_the_lock(ticket.approved_at, &unlock.account);
        let verdict = viewer_is_manager.then(|| may_approve(&unlock, me.id.0));
        ApprovalView {
            why: match why {
                SecondPerson::PrivilegedAccount | SecondPerson::RepeatedUnlocks => needed.message(calendar),
            },
            approved_by: approved.then(|| name_of(ticket.approved_by_id)).flatten(),
            approved_at: ticket.approved_at.filter(|_| approved).map(when),
            note: ticket.approval_note.clone().filter(|n| approved && !n.is_empty()),
            may_approve: !approved && matches!(verdict, Some(Ok(()))),
            blocked: verdict.and_then(Result::err).map(|refusal| sentence(&refusal.to_string())),
        }
    });
    let received = ticket.received_at.and_utc();
    // The unlock rule's facts are read above: the next step comes from them, not a second read.
    let challenge_pending = !store::challenges::pending_for(conn, &[ticket.id], now.naive_utc())?.is_empty();
    let next = next_step(&unlock, Progress { challenge_pending }, calendar, now);
    let targets = target_standings(conn, services, std::slice::from_ref(&ticket), now)?.remove(&ticket.id);
    let canned_replies = filled_for(conn, services, &ticket, account.as_ref().map(|a| a.full_name.as_str()), me, now)?;
    let chosen_reply = canned.and_then(|id| canned_replies.iter().find(|r| r.id == id)).map(|r| r.text.clone());
    let trusted_server_configured = !services.config.verification.trusted_authserv_id.trim().is_empty();
    Ok(TicketView {
        next_step: next_step_view(services, next),
        sla: targets.as_ref().map(markers).unwrap_or_default(),
        newest_message: messages.iter().map(|m| m.id).max().unwrap_or(0),
        others_viewing: super::presence::others(conn, ticket.id, me.id, now)?,
        canned_replies,
        chosen_reply,
        number: ticket.id,
        subject: ticket.subject.clone(),
        status: ticket.status,
        status_label: ticket.status.label(),
        resolved: ticket.is_resolved(),
        received_at: when(ticket.received_at),
        age: business_age(
            calendar.business_duration(received, ticket.age_until(now)),
            typical_business_day(calendar, now),
        ),
        arrived_in_hours: calendar.is_open(received),
        sender: ticket.sender.clone(),
        sender_name: ticket.sender_name.clone(),
        fields: vec![
            ParsedField {
                label: "Full name",
                value: ticket.full_name.clone(),
                source: ticket.full_name_source.map(FieldSource::label),
            },
            ParsedField {
                label: "Registered email",
                value: ticket.registered_email.clone(),
                source: ticket.registered_email_source.map(FieldSource::label),
            },
            ParsedField {
                label: "Description",
                value: ticket.description.clone(),
                source: ticket.description_source.map(FieldSource::label),
            },
        ],
        messages: messages
            .into_iter()
            .map(|m| MessageView {
                direction: m.direction,
                sender: m.sender,
                at: when(m.at),
                subject: m.subject,
                body_text: m.body_text,
            })
            .collect(),
        attachments: attachments
            .into_iter()
            .map(|a| AttachmentView {
                id: a.id,
                filename: a.filename,
                content_type: a.content_type,
                size: super::wording::readable_size(a.size_bytes),
                note: (!a.note.is_empty()).then_some(a.note),
            })
            .collect(),
        history: history
            .into_iter()
            .map(|e| HistoryEntry {
                at: when(e.at),
                label: e.kind.label(),
                internal: e.kind.is_internal(),
                actor: e.actor_label,
                kind: e.kind,
                detail: e.detail,
            })
            .collect(),
        account: account.as_ref().map(|a| AccountView {
            email: a.email.clone(),
            full_name: a.full_name.clone(),
            organisation: organisation.as_ref().map(|o| o.name.clone()),
            locked,
            locked_at: a.locked_at.map(when),
            failed_attempts: a.failed_attempts,
        }),
        activity: activity
            .into_iter()
            .map(|e| ActivityEntry {
                at: when(e.at),
                action: e.action.label().to_owned(),
                actor: e.actor_label,
                ip: e.ip,
                detail: e.detail,
            })
            .collect(),
        checks: checks
            .iter()
            .map(|c| {
                // Check 5 needs the operator's trusted mail server: without one it was not
                // run, which is no failing of the user's.
                let not_checked = c.name == Check::SENDER_AUTHENTICATED && !trusted_server_configured;
                CheckView {
                    name: c.name,
                    label: check_label(c.name),
                    passed: c.passed,
                    outcome: match (not_checked, c.passed) {
                        (true, _) => "not_checked",
                        (false, true) => "passed",
                        (false, false) => "failed",
                    },
                    detail: if not_checked {
                        "not checked — the operator has not configured a trusted mail server".into()
                    } else {
                        c.detail.clone()
                    },
                }
            })
            .collect(),
        verification: verification_of(&ticket),
        verified_by: name_of(ticket.verified_by_id),
        verification_current: since_the_lock(ticket.verified_at, &unlock.account),
        verified_at: ticket.verified_at.map(when),
        verification_note: ticket.verification_note.clone().filter(|n| !n.is_empty()),
        mailbox_confirmed,
        verification_rule: verification_rule(&verification),
        viewer_is_manager,
        // The methods an agent may choose: an authenticator code is recorded by the user's own
        // answer to the challenge.
        methods: VerificationMethod::ALL
            .iter()
            .filter(|m| **m != VerificationMethod::AuthenticatorCode)
            .map(|m| MethodOption { value: m.as_str(), label: m.label() })
            .collect(),
        assignee: name_of(ticket.assignee_id),
        assigned_to_me: ticket.assignee_id == Some(me.id),
        unlock_blocked: unlock_refusal.map(|refusal| refusal.message(calendar)),
        approval,
        hours: calendar.describe_hours(),
        requester: match ticket.requester_user_id {
            Some(id) => store::users::find(conn, id)?.map(|u| (u.full_name, u.email, u.role.as_str().to_owned())),
            None => None,
        },
    })
}

/// The rule an unauthenticated sender falls under, as the rule itself words it, when an
/// agent (not a manager) could not verify by an ordinary method now.
fn verification_rule(facts: &VerificationFacts) -> Option<String> {
    let as_agent = VerificationFacts { actor_is_manager: false, ..*facts };
    match may_verify_ticket(VerificationMethod::Other, &as_agent) {
        Err(refusal @ VerificationRefusal::SenderNotAuthenticated) => Some(sentence(&refusal.to_string())),
        _ => None,
    }
}

fn check_label(name: &str) -> &'static str {
    match name {
        Check::REGISTERED_EMAIL_HAS_ACCOUNT => "Registered email has an account",
        Check::ACCOUNT_LOCKED => "Account is locked",
        Check::NAME_MATCHES => "Name matches the account",
        Check::SENDER_IS_REGISTERED_ADDRESS => "Sender is the registered address",
        Check::SENDER_AUTHENTICATED => "Sender authenticated by our mail server",
        _ => "Check",
    }
}
