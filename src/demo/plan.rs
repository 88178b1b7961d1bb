//! The demo history as plain values, worked out without a database: when each request
//! arrived, whose account it was about, what the user wrote, what the desk did and when,
//! and the entries the activity log gained on the way. Deterministic for a seed.
//!
//! Each ticket draws from its own random stream (derived from the seed and its number), so
//! a ticket is the same whether the plan is walked whole or in chunks, and a million of
//! them never have to be in memory at once.

use super::arrivals::ArrivalPattern;
use super::dice::{delay, WeightedPick};
use super::message::{RequestMessage, SenderKind};
use super::planned::{
    colleague_unlock, ActivityActor, ActivityDetail, PlannedActivity, PlannedEvent, PlannedVerification, FAILED_LOGINS,
};
use super::roster::{Roster, ORGANISATIONS};
use super::story::Story;
use chrono::{DateTime, Duration, Utc};
use keydesk_core::tickets::transitions;
use keydesk_core::{BusinessCalendar, EventKind, OrgRole, TicketEventKind, TicketStatus, UnlockPolicy};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Of all requests: from the registered address but unauthenticated (perhaps a spoof),
/// from a private address, and from an admin or owner on the user's behalf. The rest come
/// from the registered address, authenticated.
const SPOOFED: f64 = 0.03;
const PERSONAL: f64 = 0.18;
const ON_BEHALF: f64 = 0.07;

/// Self-serve unlocks (an admin or the owner, from Manage Users) per ticket.
pub const SELF_SERVE_PER_TICKET: f64 = 0.25;

/// A ticket as it stands at `now`: its history up to then and the columns that follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedTicket {
    pub received_at: DateTime<Utc>,
    /// The person whose account is locked.
    pub account: usize,
    /// An admin or owner who wrote on the account holder's behalf.
    pub requester: Option<usize>,
    pub message: RequestMessage,
    pub events: Vec<PlannedEvent>,
    /// The lock that made them write, and the unlock that ended it, as far as `now`.
    pub activity: Vec<PlannedActivity>,
    pub status: TicketStatus,
    pub assignee: Option<usize>,
    pub verification: Option<PlannedVerification>,
    pub mailbox_confirmed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// How much history to make, and up to when.
#[derive(Debug, Clone, Copy)]
pub struct PlanShape {
    pub tickets: usize,
    pub days: u32,
    /// Nothing happens after this instant.
    pub now: DateTime<Utc>,
}

pub struct DemoPlan<'a> {
    calendar: &'a BusinessCalendar,
    roster: &'a Roster,
    now: DateTime<Utc>,
    from: DateTime<Utc>,
    /// Oldest first, so ticket numbers follow arrival order.
    arrivals: Vec<DateTime<Utc>>,
    self_serve_locks: Vec<DateTime<Utc>>,
    seed: u64,
    accounts: WeightedPick,
    members: WeightedPick,
    /// Faster agents take more tickets.
    agents: Vec<usize>,
    agent_pick: WeightedPick,
}

impl<'a> DemoPlan<'a> {
    pub fn new(rng: &mut StdRng, calendar: &'a BusinessCalendar, roster: &'a Roster, shape: PlanShape) -> DemoPlan<'a> {
        let from = shape.now - Duration::days(i64::from(shape.days.max(1)));
        let pattern = ArrivalPattern::new(calendar, from, shape.now);
        let mut arrivals: Vec<_> = (0..shape.tickets).map(|_| pattern.sample(rng)).collect();
        arrivals.sort_unstable();
        let self_serve = (shape.tickets as f64 * SELF_SERVE_PER_TICKET).round() as usize;
        let mut self_serve_locks: Vec<_> = (0..self_serve).map(|_| pattern.sample(rng)).collect();
        self_serve_locks.sort_unstable();
        let agents: Vec<usize> = roster.agents().collect();
        let agent_pick = WeightedPick::new(agents.iter().map(|&a| 1.0 / roster.staff[a].speed));
        let lockout_weight = |(index, role)| match role {
            OrgRole::Owner => 0.3,
            OrgRole::Admin => 0.5,
            // Some people lock themselves out far more often than others.
            OrgRole::Member => 1.0 / (1 + mix(index as u64) % 6) as f64,
        };
        let roles = || roster.people.iter().map(|p| p.role).enumerate();
        DemoPlan {
            calendar,
            roster,
            now: shape.now,
            from,
            arrivals,
            self_serve_locks,
            seed: rng.gen(),
            accounts: WeightedPick::new(roles().map(lockout_weight)),
            members: WeightedPick::new(roles().map(|(i, role)| {
                if role == OrgRole::Member {
                    lockout_weight((i, role))
                } else {
                    0.0
                }
            })),
            agents,
            agent_pick,
        }
    }

    /// The first instant of the history.
    pub fn from(&self) -> DateTime<Utc> {
        self.from
    }

    pub fn tickets(&self) -> usize {
        self.arrivals.len()
    }

    pub fn self_serve_unlocks(&self) -> usize {
        self.self_serve_locks.len()
    }

    /// Ticket `index` (arrival order) as it stands at `now`.
    pub fn ticket(&self, index: usize) -> PlannedTicket {
        let mut rng = StdRng::seed_from_u64(self.seed ^ mix(index as u64));
        let received_at = self.arrivals[index];
        let account = self.accounts.pick(&mut rng);
        let organisation = self.roster.people[account].organisation;
        let kind = self.sender_kind(&mut rng, account, organisation);
        let requester = match kind {
            SenderKind::OnBehalf { requester } => Some(requester),
            _ => None,
        };
        let message = RequestMessage::compose(&mut rng, self.roster, &self.roster.people[account], kind);
        let agent = self.agents[self.agent_pick.pick(&mut rng)];
        let told = Story::new(&mut rng, self.calendar, self.roster, account, agent, &message, received_at).tell(kind);
        let events: Vec<PlannedEvent> = told.events.into_iter().take_while(|e| e.at <= self.now).collect();
        let activity = told.activity.into_iter().filter(|a| a.at <= self.now).collect();
        let verification = told.verification.filter(|v| v.at <= self.now);
        PlannedTicket {
            received_at,
            account,
            requester,
            status: status_after(&events),
            assignee: events.iter().rev().find(|e| e.kind == TicketEventKind::Assigned).and_then(|e| e.actor),
            mailbox_confirmed_at: told.mailbox_confirmed_at.filter(|at| *at <= self.now),
            updated_at: events.last().map_or(received_at, |e| e.at),
            message,
            events,
            activity,
            verification,
        }
    }

    /// How this request reached the desk. Writing on someone's behalf is for organisations
    /// whose owner must confirm a PIN: when the owner is away, an admin asks the desk.
    fn sender_kind(&self, rng: &mut StdRng, account: usize, organisation: usize) -> SenderKind {
        let roll: f64 = rng.gen();
        let on_behalf = ORGANISATIONS[organisation].policy == UnlockPolicy::OwnerPin
            && self.roster.people[account].role == OrgRole::Member;
        if roll < SPOOFED {
            SenderKind::Spoofed
        } else if roll < SPOOFED + PERSONAL {
            SenderKind::Personal
        } else if roll < SPOOFED + PERSONAL + ON_BEHALF && on_behalf {
            let admins: Vec<usize> = self
                .roster
                .leaders_of(organisation)
                .filter(|&p| self.roster.people[p].role == OrgRole::Admin)
                .collect();
            SenderKind::OnBehalf { requester: admins[rng.gen_range(0..admins.len())] }
        } else {
            SenderKind::Registered
        }
    }

    /// Self-serve unlock `index`: a member locks themselves out and an admin (or, where the
    /// owner must confirm a PIN, the owner) unlocks them from Manage Users, as far as `now`.
    pub fn self_serve_unlock(&self, index: usize) -> Vec<PlannedActivity> {
        let mut rng = StdRng::seed_from_u64(self.seed.rotate_left(29) ^ mix(index as u64));
        let locked_at = self.self_serve_locks[index];
        let target = self.members.pick(&mut rng);
        let organisation = self.roster.people[target].organisation;
        let unlocked_at = locked_at + delay(&mut rng, 40.0, 1.2);
        let lock = PlannedActivity {
            at: locked_at,
            kind: EventKind::AccountLocked,
            actor: ActivityActor::TheUser,
            target,
            detail: ActivityDetail::Text(FAILED_LOGINS),
        };
        let mut entries = vec![lock];
        if ORGANISATIONS[organisation].policy == UnlockPolicy::OwnerPin {
            let owner = ActivityActor::Colleague(self.roster.owner_of(organisation));
            let pin_sent = unlocked_at - Duration::seconds(rng.gen_range(30..300));
            entries.push(PlannedActivity {
                at: pin_sent.max(locked_at),
                kind: EventKind::UnlockPinSent,
                actor: owner,
                target,
                detail: ActivityDetail::Text("PIN emailed to the owner"),
            });
            entries.push(PlannedActivity {
                at: unlocked_at,
                kind: EventKind::AccountUnlocked,
                actor: owner,
                target,
                detail: ActivityDetail::Text("unlocked by the owner with a PIN"),
            });
        } else {
            entries.push(colleague_unlock(&mut rng, self.roster, target, unlocked_at));
        }
        entries.retain(|entry| entry.at <= self.now);
        entries
    }
}

/// The ticket's status after these events, through the core's transitions.
pub fn status_after(events: &[PlannedEvent]) -> TicketStatus {
    transitions::status_after(events.iter().map(|event| event.kind))
}

/// A fixed mixing of the bits (SplitMix64's finaliser): neighbouring numbers get unrelated
/// values, the same number always the same one.
pub fn mix(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
