//! `keydesk demo seed`: fills a database with a realistic support history, so that a new
//! user sees the queue and the reports filled at once, and so that the benchmarks have a
//! million tickets to read.
//!
//! The history is planned without a database (`plan`, `story`, `arrivals`, `message`,
//! `roster`: pure and deterministic for a seed) and written in chunks of a few thousand
//! tickets per transaction with multi-row inserts (`cast`, `insert`, over `store::bulk`).
//! It adds demo data only: organisations and people under `.example` domains, found again
//! by slug and address on a second run, and tickets with their history. It sends no mail.

pub mod arrivals;
mod cast;
mod dice;
mod insert;
mod locks;
pub mod message;
pub mod plan;
pub mod planned;
pub mod roster;
mod story;

pub use insert::DEMO_SOURCE;
pub use message::DEMO_AUTHSERV_ID;

use crate::db::{write_transaction, DbConnection};
use chrono::{DateTime, Duration, NaiveDateTime, SubsecRound, Utc};
use keydesk_core::BusinessCalendar;
use plan::{DemoPlan, PlanShape, PlannedTicket};
use rand::rngs::StdRng;
use rand::SeedableRng;
use roster::Roster;
use std::fmt;

/// Tickets written per transaction: large enough that commits are rare, small enough that
/// a chunk's rows (about seven history rows a ticket) stay a few megabytes.
const TICKETS_PER_TRANSACTION: usize = 2_000;

/// The longest history the seed makes: ten years.
pub const MAX_DAYS: u32 = 3_650;

/// What to seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoOptions {
    pub tickets: usize,
    /// How far back the history goes from `now`.
    pub days: u32,
    /// The same seed (and `now`) gives the same history.
    pub seed: u64,
    /// Nothing happens after this instant.
    pub now: DateTime<Utc>,
}

impl DemoOptions {
    /// Refuses a seed that would make nothing (or not fit the calendar's two-year lookahead).
    pub fn check(&self) -> Result<(), DemoError> {
        if self.tickets == 0 {
            return Err(DemoError::Invalid("--tickets must be at least 1".into()));
        }
        if self.days == 0 || self.days > MAX_DAYS {
            return Err(DemoError::Invalid(format!("--days must be between 1 and {MAX_DAYS}")));
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{0}")]
    Invalid(String),
    #[error("database: {0}")]
    Database(#[from] diesel::result::Error),
}

/// What a seed added, and who to sign in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub organisations_created: usize,
    pub organisations: usize,
    /// People at the organisations and the desk's staff, created now.
    pub people_created: usize,
    pub people: usize,
    pub tickets: usize,
    pub ticket_events: usize,
    pub activity_entries: usize,
    /// Tickets not resolved at `now`.
    pub still_open: usize,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub manager_login: String,
    pub agent_login: String,
    pub owner_login: String,
}

/// Seeds the history; see [`seed_with_progress`].
pub fn seed(
    conn: &mut DbConnection,
    calendar: &BusinessCalendar,
    options: &DemoOptions,
) -> Result<DemoSummary, DemoError> {
    seed_with_progress(conn, calendar, options, &mut |_, _| {})
}

/// Seeds the history, calling `progress(tickets written, tickets planned)` after each chunk.
/// Agents act only within `calendar`'s hours. The people it creates cannot sign in until
/// [`set_password`] gives them a password.
pub fn seed_with_progress(
    conn: &mut DbConnection,
    calendar: &BusinessCalendar,
    options: &DemoOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<DemoSummary, DemoError> {
    options.check()?;
    crate::store::bulk::while_loading(conn, |conn| write_history(conn, calendar, options, progress))
}

fn write_history(
    conn: &mut DbConnection,
    calendar: &BusinessCalendar,
    options: &DemoOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<DemoSummary, DemoError> {
    let now = options.now.trunc_subsecs(0);
    let roster = Roster::for_tickets(options.tickets);
    let mut rng = StdRng::seed_from_u64(options.seed);
    let plan =
        DemoPlan::new(&mut rng, calendar, &roster, PlanShape { tickets: options.tickets, days: options.days, now });
    // People existed a while before their first lockout.
    let joined = (plan.from() - Duration::days(30)).naive_utc();
    let cast = write_transaction(conn, |conn| cast::ensure(conn, &roster, joined))?;

    let mut ledger = locks::LockLedger::default();
    let mut written = insert::Written::default();
    for first in (0..plan.tickets()).step_by(TICKETS_PER_TRANSACTION) {
        let chunk: Vec<PlannedTicket> =
            (first..plan.tickets().min(first + TICKETS_PER_TRANSACTION)).map(|i| plan.ticket(i)).collect();
        ledger.note(chunk.iter().flat_map(|t| &t.activity));
        let added = write_transaction(conn, |conn| insert::write_tickets(conn, &cast, &roster, &chunk))?;
        written.tickets += added.tickets;
        written.ticket_events += added.ticket_events;
        written.activity_entries += added.activity_entries;
        written.still_open += added.still_open;
        progress(written.tickets, plan.tickets());
    }
    // Self-serve unlocks: a quarter as many again, in chunks of the same number of entries.
    for first in (0..plan.self_serve_unlocks()).step_by(TICKETS_PER_TRANSACTION) {
        let chunk: Vec<_> = (first..plan.self_serve_unlocks().min(first + TICKETS_PER_TRANSACTION))
            .flat_map(|i| plan.self_serve_unlock(i))
            .collect();
        ledger.note(&chunk);
        let entries: Vec<_> = chunk.iter().map(|entry| (entry, None)).collect();
        written.activity_entries +=
            write_transaction(conn, |conn| insert::write_activity(conn, &cast, &roster, &entries))?;
    }
    write_transaction(conn, |conn| {
        for (person, locked_at) in ledger.states() {
            // The default lockout: five failed attempts lock an account.
            let attempts = if locked_at.is_some() { 5 } else { 0 };
            crate::store::bulk::set_lock_state(
                conn,
                cast.people[person],
                locked_at.map(|at| at.naive_utc()),
                attempts,
            )?;
        }
        Ok::<_, DemoError>(())
    })?;

    let first_agent = roster.agents().next().map(|a| roster.staff[a].email.clone()).unwrap_or_default();
    // An owner the seeded history left unlocked, so the sign-in printed below works.
    let locked: std::collections::HashSet<usize> =
        ledger.states().filter(|(_, locked_at)| locked_at.is_some()).map(|(person, _)| person).collect();
    let owner = (0..cast.organisations.len())
        .map(|organisation| roster.owner_of(organisation))
        .find(|owner| !locked.contains(owner))
        .unwrap_or_else(|| roster.owner_of(0));
    Ok(DemoSummary {
        organisations_created: cast.organisations_created,
        organisations: cast.organisations.len(),
        people_created: cast.people_created,
        people: cast.people.len() + cast.staff.len(),
        tickets: written.tickets,
        ticket_events: written.ticket_events,
        activity_entries: written.activity_entries,
        still_open: written.still_open,
        from: plan.from(),
        until: now,
        manager_login: roster.staff[roster.manager()].email.clone(),
        agent_login: first_agent,
        owner_login: roster.people[owner].email.clone(),
    })
}

/// Gives every demo user, at the organisations and at the desk, this password hash (hash
/// the password once: Argon2 takes a while). Returns how many users it set.
pub fn set_password(conn: &mut DbConnection, password_hash: &str, now: NaiveDateTime) -> Result<usize, DemoError> {
    Ok(write_transaction(conn, |conn| cast::set_password_hash(conn, password_hash, now))?)
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let day = |at: DateTime<Utc>| at.format("%Y-%m-%d").to_string();
        writeln!(
            f,
            "Seeded {} tickets ({} history rows, {} activity-log entries) received from {} to {}; {} still open.",
            self.tickets,
            self.ticket_events,
            self.activity_entries,
            day(self.from),
            day(self.until),
            self.still_open
        )?;
        writeln!(
            f,
            "Organisations: {} ({} new). People: {} ({} new), staff included.",
            self.organisations, self.organisations_created, self.people, self.people_created
        )?;
        write!(
            f,
            "Sign in as the manager {}, the agent {}, or the owner {}. \
             Each is asked to set up an authenticator app at the first sign-in (mfa.required_for).",
            self.manager_login, self.agent_login, self.owner_login
        )
    }
}
