//! The service-level watch: every `sla.check_interval` (at most 30 s) while support is open,
//! each open ticket that has used 80% of a target alerts its assignee (or every agent when
//! nobody has it), and each one past a target alerts the managers — once per ticket, target
//! and level, claimed in the database in the same transaction as the emails are queued, so
//! a second process or a crash between the two can neither repeat nor lose one. Once a day,
//! when enabled, each manager gets a digest.

use super::standing::{next_step_view, standings, Standing};
use crate::app::{AppError, Services};
use crate::db::{write_transaction, DbConnection};
use crate::ids::{TicketNumber, UserId};
use crate::mail::emails::{DigestBreach, SlaAlert, SlaDigest};
use crate::reports::view::{duration_words, share_words};
use crate::store::{self, queue::QueueFilter, users::User};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use keydesk_core::reports::{build, Audience, ReportWindow, SlaLevel};
use keydesk_core::{Role, StaffRole, TicketStatus};
use std::collections::{HashMap, HashSet};

/// What one check sent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WatchReport {
    pub due_soon_alerts: usize,
    pub breach_alerts: usize,
    pub digests: usize,
}

/// One look at every open ticket (and at the clock, for the digest). Reads nothing more
/// while there is nothing to send: support closed and no digest due.
pub fn check_once(conn: &mut DbConnection, services: &Services, now: DateTime<Utc>) -> Result<WatchReport, AppError> {
    let mut report = WatchReport::default();
    let alerting = services.config.sla.alerts && services.calendar.is_open(now);
    let digest_day = digest_due(conn, services, now)?;
    if !alerting && digest_day.is_none() {
        return Ok(report);
    }
    let filter = QueueFilter { statuses: Some(TicketStatus::UNRESOLVED.to_vec()), ..QueueFilter::default() };
    let open = store::queue::tickets(conn, &filter)?;
    let people = store::queue::people_of(conn, &open)?;
    let standings = standings(conn, services, &open, &people, now)?;
    if alerting {
        (report.due_soon_alerts, report.breach_alerts) = send_alerts(conn, services, &open, &standings, now)?;
    }
    if let Some(day) = digest_day {
        report.digests = digest(conn, services, day, &open, &standings, now)?;
    }
    if report != WatchReport::default() {
        services.outbox_wake.notify_one();
    }
    Ok(report)
}

/// Alerts each ticket past 80% of a target, or past it, not alerted at that level yet; the
/// numbers of due-soon and breach alerts sent.
fn send_alerts(
    conn: &mut DbConnection,
    services: &Services,
    open: &[store::tickets::Ticket],
    standings: &HashMap<TicketNumber, Standing>,
    now: DateTime<Utc>,
) -> Result<(usize, usize), AppError> {
    let (mut due_soon, mut breaches) = (0, 0);
    let numbers: Vec<TicketNumber> = open.iter().map(|t| t.id).collect();
    let sent: HashSet<(TicketNumber, String, String)> =
        store::sla_alerts::sent_for(conn, &numbers)?.into_iter().collect();
    let staff = store::users::staff(conn)?;
    for ticket in open {
        let Some(standing) = standings.get(&ticket.id) else { continue };
        for target in standing.targets.iter().filter(|t| t.level.alerts()) {
            let key = (ticket.id, target.target.as_str().to_owned(), target.level.as_str().to_owned());
            if sent.contains(&key) {
                continue;
            }
            let breached = target.level == SlaLevel::Breached;
            let to = recipients(&staff, ticket.assignee_id, breached);
            let email = SlaAlert {
                ticket: ticket.id,
                subject: &ticket.subject,
                target: target.target.label(),
                breached,
                words: target.words(),
                target_words: duration_words(Some(target.target_seconds)),
                next_step: next_step_view(services, standing.next).label,
                ticket_link: format!("{}/tickets/{}", services.config.public_url, ticket.id),
            };
            let stored_now = now.naive_utc();
            // The claim and the emails commit together: a crash leaves neither, and a second
            // process's claim of the same alert inserts nothing, so it sends nothing.
            let claimed = write_transaction(conn, |conn| {
                if !store::sla_alerts::claim(conn, ticket.id, &key.1, &key.2, stored_now)? {
                    return Ok::<_, AppError>(false);
                }
                for person in &to {
                    services.outbox(stored_now).queue(conn, &person.email, &email)?;
                }
                Ok(true)
            })?;
            match (claimed, breached) {
                (true, true) => {
                    breaches += 1;
                    services.metrics.sla_breach(target.target);
                }
                (true, false) => due_soon += 1,
                (false, _) => {}
            }
        }
    }
    Ok((due_soon, breaches))
}

/// Due soon: the assignee (if still an agent or manager), else every agent (every manager
/// when there are no agents). Breached: every manager.
fn recipients(staff: &[User], assignee: Option<UserId>, breached: bool) -> Vec<&User> {
    let with_role = |role: StaffRole| staff.iter().filter(move |u| u.role == Role::Staff(role)).collect::<Vec<_>>();
    if breached {
        return with_role(StaffRole::Manager);
    }
    if let Some(person) = assignee.and_then(|id| staff.iter().find(|u| u.id == id)) {
        if person.role.may_read_all_accounts() {
            return vec![person];
        }
    }
    let agents = with_role(StaffRole::Agent);
    if agents.is_empty() {
        with_role(StaffRole::Manager)
    } else {
        agents
    }
}

/// The local date whose digest is due now: enabled, past `sla.digest_time` on the desk's
/// clock, and not sent yet today (read first, so the report is built once a day, not at
/// every check).
fn digest_due(conn: &mut DbConnection, services: &Services, now: DateTime<Utc>) -> Result<Option<NaiveDate>, AppError> {
    let calendar = &services.calendar;
    let Some(at) = services.config.sla.digest_time().filter(|_| services.config.sla.daily_digest) else {
        return Ok(None);
    };
    let today = calendar.local_date(now);
    if now.with_timezone(&calendar.timezone()).time() < at || store::sla_alerts::digest_sent(conn, today)? {
        return Ok(None);
    }
    Ok(Some(today))
}

/// Yesterday's figures and the open breaches, to each manager, once for `today` (claimed
/// with the emails). The number of digests queued.
fn digest(
    conn: &mut DbConnection,
    services: &Services,
    today: NaiveDate,
    open: &[store::tickets::Ticket],
    standings: &HashMap<TicketNumber, Standing>,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let calendar = &services.calendar;
    let yesterday = today - Duration::days(1);
    let window =
        ReportWindow::new(calendar, yesterday, yesterday, now).map_err(|e| AppError::Invalid(e.to_string()))?;
    let scope = Audience::Everything.scope(None, None).map_err(|e| AppError::Invalid(e.to_string()))?;
    let targets = services.config.sla.targets();
    let input = crate::reports::load(conn, None, calendar, targets, window, scope, crate::reports::Reading::Figures)?;
    let summary = build(&input);
    let breaches: Vec<DigestBreach> = open
        .iter()
        .filter_map(|t| {
            let standing = standings.get(&t.id)?;
            let worst = standing.targets.iter().find(|s| s.level == SlaLevel::Breached)?;
            Some(DigestBreach { ticket: t.id, subject: t.subject.clone(), words: worst.words() })
        })
        .collect();
    let day = yesterday.format("%A %-d %B %Y").to_string();
    let received: u32 = summary.days.iter().map(|d| d.received_in_hours + d.received_out_of_hours).sum();
    let out_of_hours: u32 = summary.days.iter().map(|d| d.received_out_of_hours).sum();
    let email = SlaDigest {
        day: &day,
        received,
        received_out_of_hours: out_of_hours,
        first_response_met: share_words(summary.sla.first_response_met),
        unlock_met: share_words(summary.sla.unlock_met),
        unlocked: input.unlock_sources.support,
        open_breaches: &breaches,
        reports_link: format!("{}/reports", services.config.public_url),
    };
    let managers: Vec<User> =
        store::users::staff(conn)?.into_iter().filter(|u| u.role == Role::Staff(StaffRole::Manager)).collect();
    let stored_now = now.naive_utc();
    write_transaction(conn, |conn| {
        if !store::sla_alerts::claim_digest(conn, today, stored_now)? {
            return Ok::<_, AppError>(0);
        }
        for manager in &managers {
            services.outbox(stored_now).queue(conn, &manager.email, &email)?;
        }
        Ok(managers.len())
    })
}

/// Checks every `sla.check_interval`, for as long as the process runs; a failed check is
/// logged and the next one tries again.
pub async fn run_forever(services: Services) {
    loop {
        let now = services.now();
        let checked = services.run(move |conn, services| check_once(conn, services, now)).await;
        if let Err(error) = checked {
            tracing::error!("SLA check: {error}");
        }
        rocket::tokio::time::sleep(services.config.sla.check_interval).await;
    }
}
