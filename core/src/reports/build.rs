//! The report: every figure is folded from the tickets' rows, which come from their history.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use serde::Serialize;

use super::history::TicketFacts;
use super::measure::{Measurer, SlaOutcome, SlaTargets, TicketRow};
use super::range::ReportWindow;
use super::settled::SettledTicket;
use super::stats::Summary;
use crate::verification::VerificationMethod;
use crate::BusinessCalendar;

/// Unlocks done in the range, by who did them (from the activity log, not from tickets:
/// self-serve unlocks have none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct UnlockSources {
    /// By an organisation's owner or admins.
    pub self_serve: u64,
    /// By support staff, from a ticket.
    pub support: u64,
    /// A temporary lock that expired.
    pub automatic: u64,
}

impl UnlockSources {
    /// Counts `unlocks` by one actor: nobody (a lock that expired), support staff, or anyone
    /// else (an organisation's owner or admin; a removed user counts here too).
    pub fn add(&mut self, by_someone: bool, role: Option<crate::Role>, unlocks: u64) {
        match (by_someone, role) {
            (false, _) => self.automatic += unlocks,
            (true, Some(role)) if role.is_staff() => self.support += unlocks,
            (true, _) => self.self_serve += unlocks,
        }
    }
}

/// What a report is made from.
pub struct ReportInput<'a> {
    pub window: ReportWindow,
    pub calendar: &'a BusinessCalendar,
    pub targets: SlaTargets,
    /// Only the tickets this agent handled.
    pub agent: Option<i64>,
    /// Tickets received in the range, to be measured.
    pub received: Vec<TicketFacts>,
    /// Tickets received in the range whose rows were measured and kept before
    /// (`settled`): folded as they are. The per-ticket rows ([`ReportInput::rows`], the CSV)
    /// are only `received`'s, so an export reads none of these.
    pub settled: Vec<SettledTicket>,
    /// Tickets received earlier and still open at some point in the range: they count in
    /// the backlog only.
    pub carried_over: Vec<TicketFacts>,
    pub unlock_sources: UnlockSources,
}

impl ReportInput<'_> {
    fn in_scope(&self, ticket: &TicketFacts) -> bool {
        self.handled_in_scope(&ticket.handled_by)
    }

    fn handled_in_scope(&self, handled_by: &[i64]) -> bool {
        self.agent.is_none_or(|agent| handled_by.contains(&agent))
    }

    /// The per-ticket rows of the tickets received in the range, oldest first.
    pub fn rows(&self) -> impl Iterator<Item = TicketRow<'_>> + '_ {
        let measurer = Measurer::new(self.calendar, &self.window, self.targets);
        self.received.iter().filter(|ticket| self.in_scope(ticket)).map(move |ticket| measurer.row(ticket))
    }

    /// The same rows, in the same order, handed to `fold`; measured (business time across the
    /// calendar: most of a big report's work) a slice at a time, half of each slice on a
    /// second thread.
    pub(super) fn fold_rows<'a>(&'a self, mut fold: impl FnMut(TicketRow<'a>)) {
        const SLICE: usize = 65_536;
        let measurer = Measurer::new(self.calendar, &self.window, self.targets);
        let in_scope: Vec<&TicketFacts> = self.received.iter().filter(|ticket| self.in_scope(ticket)).collect();
        for slice in in_scope.chunks(SLICE) {
            let (first, second) = slice.split_at(slice.len() / 2);
            fn measure<'t>(measurer: &Measurer, tickets: &[&'t TicketFacts]) -> Vec<TicketRow<'t>> {
                tickets.iter().map(|ticket| measurer.row(ticket)).collect()
            }
            let (first, second) = std::thread::scope(|threads| {
                let first = threads.spawn(|| measure(&measurer, first));
                let second = measure(&measurer, second);
                (first.join().expect("measuring does not panic"), second)
            });
            first.into_iter().chain(second).for_each(&mut fold);
        }
        let settled = self.settled.iter().filter(|ticket| self.handled_in_scope(ticket.handled_by()));
        settled.map(SettledTicket::row).for_each(fold);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceHours {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub as_of: DateTime<Utc>,
    pub timezone: String,
    pub working_hours: String,
    pub received: usize,
    pub received_in_hours: usize,
    pub received_out_of_hours: usize,
    /// Received in the range and open when the report was taken.
    pub still_open: usize,
    pub first_response_business_seconds: Summary,
    pub first_response_calendar_seconds: Summary,
    pub unlock_business_seconds: Summary,
    pub unlock_calendar_seconds: Summary,
    pub resolve_business_seconds: Summary,
    pub resolve_calendar_seconds: Summary,
    pub sla: Sla,
    pub days: Vec<DayFigures>,
    pub agents: Vec<AgentFigures>,
    pub organisations: Vec<OrganisationFigures>,
    /// Arrivals by local weekday (Monday first) and hour.
    pub arrivals_by_weekday_and_hour: Vec<[u32; 24]>,
    pub verification: VerificationOutcomes,
    pub unlocks: UnlockSources,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sla {
    /// The share of tickets that met the target, of those that met or breached it.
    pub first_response_met: Option<f64>,
    pub unlock_met: Option<f64>,
    pub first_response: SlaCounts,
    pub unlock: SlaCounts,
    pub breaches: Vec<Breach>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct SlaCounts {
    pub target_seconds: i64,
    pub met: usize,
    pub breached: usize,
    pub pending: usize,
}

impl SlaCounts {
    fn count(&mut self, outcome: SlaOutcome) {
        match outcome {
            SlaOutcome::Met => self.met += 1,
            SlaOutcome::Breached => self.breached += 1,
            SlaOutcome::Pending => self.pending += 1,
            SlaOutcome::NotApplicable => {}
        }
    }

    pub fn met_share(&self) -> Option<f64> {
        let decided = self.met + self.breached;
        (decided > 0).then(|| self.met as f64 / decided as f64)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaTarget {
    FirstResponse,
    Unlock,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Breach {
    pub ticket_id: i64,
    pub target: SlaTarget,
    /// Business time taken, or taken so far when `still_open`.
    pub business_seconds: i64,
    pub target_seconds: i64,
    pub still_open: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayFigures {
    pub date: NaiveDate,
    pub received_in_hours: u32,
    pub received_out_of_hours: u32,
    /// Tickets open when the day ended (or now, for today).
    pub backlog_at_end: u32,
    /// Time to unlock of the tickets received that day.
    pub unlock_business_seconds: Summary,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentFigures {
    pub agent_id: i64,
    pub tickets_handled: usize,
    pub first_responses: usize,
    pub unlocks: usize,
    pub unlock_business_seconds: Summary,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrganisationFigures {
    /// `None`: tickets not linked to any account.
    pub organisation_id: Option<i64>,
    pub received: usize,
    pub received_out_of_hours: usize,
    pub unlocked: usize,
    pub unlock_business_seconds: Summary,
    pub unlock_met: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerificationOutcomes {
    pub by_method: Vec<(VerificationMethod, usize)>,
    /// At intake the sender claimed the registered address and failed authentication.
    pub spoof_suspected: usize,
    /// Resolved without being verified.
    pub abandoned: usize,
    /// Still open and not verified yet.
    pub pending: usize,
}

pub fn build(input: &ReportInput) -> ServiceHours {
    let days = input.window.days_so_far(input.calendar);
    let day_ends: Vec<DateTime<Utc>> = days
        .iter()
        .map(|day| input.calendar.start_of_day(day.succ_opt().unwrap_or(*day)).min(input.window.as_of))
        .collect();
    let day_of = |at: DateTime<Utc>| day_ends.partition_point(|end| *end <= at).min(days.len().saturating_sub(1));
    let zone = input.calendar.timezone();

    let mut totals = Totals::default();
    let mut per_day: Vec<DayTally> = days.iter().map(|_| DayTally::default()).collect();
    let mut agents: BTreeMap<i64, AgentTally> = BTreeMap::new();
    let mut organisations: BTreeMap<Option<i64>, OrganisationTally> = BTreeMap::new();
    let mut heat_map = vec![[0u32; 24]; 7];
    let mut sla = Sla {
        first_response_met: None,
        unlock_met: None,
        first_response: SlaCounts { target_seconds: input.targets.first_response_seconds, ..SlaCounts::default() },
        unlock: SlaCounts { target_seconds: input.targets.unlock_seconds, ..SlaCounts::default() },
        breaches: Vec::new(),
    };
    let mut verification = VerificationOutcomes {
        by_method: VerificationMethod::ALL.map(|m| (m, 0)).to_vec(),
        spoof_suspected: 0,
        abandoned: 0,
        pending: 0,
    };

    input.fold_rows(|row| {
        totals.add(&row);
        if !per_day.is_empty() {
            let day = &mut per_day[day_of(row.received_at)];
            if row.received_in_hours {
                day.in_hours += 1
            } else {
                day.out_of_hours += 1
            }
            day.unlock.extend(row.unlock_business_seconds);
        }
        let local = row.received_at.with_timezone(&zone);
        heat_map[local.weekday().num_days_from_monday() as usize][local.hour() as usize] += 1;
        for agent in row.handled_by {
            let tally = agents.entry(*agent).or_default();
            tally.handled += 1;
            tally.first_responses += usize::from(row.first_response_by == Some(*agent));
            if row.unlocked_by == Some(*agent) {
                tally.unlock.extend(row.unlock_business_seconds);
            }
        }
        organisations.entry(row.organisation_id).or_default().add(&row);
        sla.first_response.count(row.first_response_sla);
        sla.unlock.count(row.unlock_sla);
        for (target, outcome, seconds, target_seconds) in [
            (
                SlaTarget::FirstResponse,
                row.first_response_sla,
                row.first_response_sla_seconds,
                input.targets.first_response_seconds,
            ),
            (SlaTarget::Unlock, row.unlock_sla, row.unlock_sla_seconds, input.targets.unlock_seconds),
        ] {
            if outcome == SlaOutcome::Breached {
                sla.breaches.push(Breach {
                    ticket_id: row.ticket_id,
                    target,
                    business_seconds: seconds,
                    target_seconds,
                    still_open: !row.status.is_resolved(),
                });
            }
        }
        match row.verification {
            Some(method) => {
                if let Some(entry) = verification.by_method.iter_mut().find(|(m, _)| *m == method) {
                    entry.1 += 1;
                }
            }
            None if row.status.is_resolved() => verification.abandoned += 1,
            None => verification.pending += 1,
        }
        verification.spoof_suspected += usize::from(row.spoof_suspected);
    });
    // Oldest ticket first, as the rows came before any were kept.
    sla.breaches.sort_by_key(|breach| (breach.ticket_id, breach.target == SlaTarget::Unlock));
    sla.first_response_met = sla.first_response.met_share();
    sla.unlock_met = sla.unlock.met_share();

    let backlog = backlog(input, &day_ends);
    ServiceHours {
        from: input.window.from,
        to: input.window.to,
        as_of: input.window.as_of,
        timezone: zone.name().to_owned(),
        working_hours: input.calendar.describe_hours(),
        received: totals.received,
        received_in_hours: totals.received - totals.out_of_hours,
        received_out_of_hours: totals.out_of_hours,
        still_open: totals.still_open,
        first_response_business_seconds: Summary::of(totals.first_response_business),
        first_response_calendar_seconds: Summary::of(totals.first_response_calendar),
        unlock_business_seconds: Summary::of(totals.unlock_business),
        unlock_calendar_seconds: Summary::of(totals.unlock_calendar),
        resolve_business_seconds: Summary::of(totals.resolve_business),
        resolve_calendar_seconds: Summary::of(totals.resolve_calendar),
        sla,
        days: days
            .into_iter()
            .zip(per_day)
            .zip(backlog)
            .map(|((date, tally), backlog_at_end)| DayFigures {
                date,
                received_in_hours: tally.in_hours,
                received_out_of_hours: tally.out_of_hours,
                backlog_at_end,
                unlock_business_seconds: Summary::of(tally.unlock),
            })
            .collect(),
        agents: agents
            .into_iter()
            .map(|(agent_id, tally)| AgentFigures {
                agent_id,
                tickets_handled: tally.handled,
                first_responses: tally.first_responses,
                unlocks: tally.unlock.len(),
                unlock_business_seconds: Summary::of(tally.unlock),
            })
            .collect(),
        organisations: organisations.into_iter().map(|(id, tally)| tally.figures(id)).collect(),
        arrivals_by_weekday_and_hour: heat_map,
        verification,
        unlocks: input.unlock_sources,
    }
}

/// Open tickets at each day's end: each open span adds one to the days it covers, through a
/// difference array, so a year of a million tickets is one pass.
fn backlog(input: &ReportInput, day_ends: &[DateTime<Utc>]) -> Vec<u32> {
    let mut change = vec![0i64; day_ends.len() + 1];
    let tickets = input.received.iter().chain(&input.carried_over).filter(|ticket| input.in_scope(ticket));
    let settled = input.settled.iter().filter(|ticket| input.handled_in_scope(ticket.handled_by()));
    let spans = tickets.flat_map(|ticket| ticket.open.iter().copied()).chain(settled.flat_map(SettledTicket::open));
    for span in spans {
        // Open at a day's end `e` when `start < e` and (no end, or `end > e`).
        let first = day_ends.partition_point(|end| *end <= span.start);
        let last = span.end.map_or(day_ends.len(), |closed| day_ends.partition_point(|end| *end < closed));
        if first < last {
            change[first] += 1;
            change[last] -= 1;
        }
    }
    let mut open = 0i64;
    change[..day_ends.len()]
        .iter()
        .map(|delta| {
            open += delta;
            u32::try_from(open).unwrap_or(0)
        })
        .collect()
}

#[derive(Default)]
struct Totals {
    received: usize,
    out_of_hours: usize,
    still_open: usize,
    first_response_business: Vec<i64>,
    first_response_calendar: Vec<i64>,
    unlock_business: Vec<i64>,
    unlock_calendar: Vec<i64>,
    resolve_business: Vec<i64>,
    resolve_calendar: Vec<i64>,
}

impl Totals {
    fn add(&mut self, row: &TicketRow) {
        self.received += 1;
        self.out_of_hours += usize::from(!row.received_in_hours);
        self.still_open += usize::from(!row.status.is_resolved());
        self.first_response_business.extend(row.first_response_business_seconds);
        self.first_response_calendar.extend(row.first_response_calendar_seconds);
        self.unlock_business.extend(row.unlock_business_seconds);
        self.unlock_calendar.extend(row.unlock_calendar_seconds);
        self.resolve_business.extend(row.resolve_business_seconds);
        self.resolve_calendar.extend(row.resolve_calendar_seconds);
    }
}

#[derive(Default)]
struct DayTally {
    in_hours: u32,
    out_of_hours: u32,
    unlock: Vec<i64>,
}

#[derive(Default)]
struct AgentTally {
    handled: usize,
    first_responses: usize,
    unlock: Vec<i64>,
}

#[derive(Default)]
struct OrganisationTally {
    received: usize,
    out_of_hours: usize,
    unlock: Vec<i64>,
    unlock_sla: SlaCounts,
}

impl OrganisationTally {
    fn add(&mut self, row: &TicketRow) {
        self.received += 1;
        self.out_of_hours += usize::from(!row.received_in_hours);
        self.unlock.extend(row.unlock_business_seconds);
        self.unlock_sla.count(row.unlock_sla);
    }

    fn figures(self, organisation_id: Option<i64>) -> OrganisationFigures {
        OrganisationFigures {
            organisation_id,
            received: self.received,
            received_out_of_hours: self.out_of_hours,
            unlocked: self.unlock.len(),
            unlock_met: self.unlock_sla.met_share(),
            unlock_business_seconds: Summary::of(self.unlock),
        }
    }
}
