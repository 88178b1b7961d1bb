//! How the agents' pages put a ticket into words: ages in business hours and days, times,
//! the verification state, sentences made from a reason.

use crate::store::tickets::Ticket;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use keydesk_core::calendar::BusinessCalendar;
use serde::Serialize;

/// How far a ticket has got with proving who wrote.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Verification {
    /// "verified", "mailbox_confirmed" or "not_verified" (a CSS class too).
    pub state: &'static str,
    /// "Verified (call back)", "Mailbox confirmed", "Not verified".
    pub label: String,
}

pub fn verification_of(ticket: &Ticket) -> Verification {
    match (&ticket.verified_at, &ticket.mailbox_confirmed_at) {
        (Some(_), _) => Verification {
            state: "verified",
            label: format!("Verified ({})", ticket.verification_method.map_or("other", |m| m.label())),
        },
        (None, Some(_)) => Verification { state: "mailbox_confirmed", label: "Mailbox confirmed".into() },
        (None, None) => Verification { state: "not_verified", label: "Not verified".into() },
    }
}

/// The open hours of an ordinary working day: the commonest non-zero open time of the next
/// fortnight's local dates (holidays and short days aside). `None` when support never opens.
pub fn typical_business_day(calendar: &BusinessCalendar, now: DateTime<Utc>) -> Option<Duration> {
    let zone = calendar.timezone();
    let midnight = |date: NaiveDate| {
        zone.from_local_datetime(&date.and_hms_opt(0, 0, 0)?).earliest().map(|t| t.with_timezone(&Utc))
    };
    let mut seen: Vec<(Duration, usize)> = Vec::new();
    for date in now.with_timezone(&zone).date_naive().iter_days().take(14) {
        let (Some(start), Some(end)) = (midnight(date), date.succ_opt().and_then(midnight)) else { continue };
        let open = calendar.business_duration(start, end);
        if open <= Duration::zero() {
            continue;
        }
        match seen.iter_mut().find(|(length, _)| *length == open) {
            Some((_, count)) => *count += 1,
            None => seen.push((open, 1)),
        }
    }
    seen.into_iter().max_by_key(|(length, count)| (*count, *length)).map(|(length, _)| length)
}

/// "under 1 business hour", "3 business hours", "2 business days" (whole days of `business_day`).
pub fn business_age(open: Duration, business_day: Option<Duration>) -> String {
    let plural = |n: i64, unit: &str| if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") };
    if open < Duration::hours(1) {
        return "under 1 business hour".into();
    }
    match business_day.filter(|day| *day > Duration::zero() && open >= *day) {
        Some(day) => plural(open.num_minutes() / day.num_minutes().max(1), "business day"),
        None => plural(open.num_hours(), "business hour"),
    }
}

/// Capitalised, with one full stop (for reasons worded to follow a colon).
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    format!("{first}{}.", chars.as_str().trim_end_matches('.'))
}

/// "2026-11-24 09:15 UTC".
pub fn when(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// "812 bytes", "4.2 KB", "30.0 MB": a size as people read it (1 KB = 1024 bytes).
pub fn readable_size(bytes: i64) -> String {
    const UNITS: [&str; 3] = ["KB", "MB", "GB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut size = bytes as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit < UNITS.len() - 1 {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;
    use keydesk_core::calendar::WorkingHoursConfig;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn london_office() -> BusinessCalendar {
        BusinessCalendar::from_config(&WorkingHoursConfig::default()).unwrap()
    }

    #[test]
    fn ages_read_in_business_hours_then_days() {
        let day = Some(Duration::hours(8));
        let cases = [
            (Duration::minutes(0), "under 1 business hour"),
            (Duration::minutes(59), "under 1 business hour"),
            (Duration::minutes(60), "1 business hour"),
            (Duration::minutes(3 * 60 + 59), "3 business hours"),
            (Duration::hours(7), "7 business hours"),
            (Duration::hours(8), "1 business day"),
            (Duration::hours(17), "2 business days"),
        ];
        for (open, expected) in cases {
            assert_eq!(business_age(open, day), expected, "{open:?}");
        }
        assert_eq!(business_age(Duration::hours(30), None), "30 business hours");
    }

    #[test]
    fn a_business_day_is_the_calendars_usual_open_hours() {
        // Monday 24 November 2026, 9:00–17:00 London, weekends closed.
        assert_eq!(typical_business_day(&london_office(), at("2026-11-24T12:00:00Z")), Some(Duration::hours(8)));
        let never = WorkingHoursConfig { days: vec![], ..WorkingHoursConfig::default() };
        assert_eq!(
            typical_business_day(&BusinessCalendar::from_config(&never).unwrap(), at("2026-11-24T12:00:00Z")),
            None
        );
    }

    #[test]
    fn reasons_become_sentences() {
        assert_eq!(sentence("the ticket is resolved already"), "The ticket is resolved already.");
        assert_eq!(sentence("done."), "Done.");
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(readable_size(812), "812 bytes");
        assert_eq!(readable_size(4_300), "4.2 KB");
        assert_eq!(readable_size(31_457_280), "30.0 MB");
    }
}
