//! The weekly hours in words, for emails and pages: "Monday to Friday, 9:00–17:00
//! (Europe/London)". Holidays are not listed; the sentence is about an ordinary week.

use chrono::{DateTime, Utc, Weekday};
use chrono_tz::Tz;

use super::config::{DayHours, Schedule};

pub(super) fn describe_hours(schedule: &Schedule) -> String {
    // Days sharing the same hours, in week order (Monday first), grouped by their first day.
    let mut groups: Vec<(DayHours, Vec<Weekday>)> = Vec::new();
    for (weekday, hours) in week().zip(schedule.weekly_hours) {
        let Some(hours) = hours else { continue };
        match groups.iter_mut().find(|(h, _)| *h == hours) {
            Some((_, days)) => days.push(weekday),
            None => groups.push((hours, vec![weekday])),
        }
    }
    let hours = if groups.is_empty() {
        "Closed every day".to_string()
    } else {
        let described: Vec<String> = groups
            .iter()
            .map(|(hours, days)| format!("{}, {}–{}", describe_days(days), hours.open, hours.close))
            .collect();
        described.join("; ")
    };
    format!("{hours} ({})", schedule.timezone.name())
}

pub(super) fn describe_closed(zone: Tz, next_opening: Option<DateTime<Utc>>) -> String {
    match next_opening {
        Some(at) => format!("Support is closed; opens {}", describe_instant(zone, at)),
        None => "Support is closed, and does not open within the next two years (check the working hours).".into(),
    }
}

/// "Mon 23 Nov 09:00 Europe/London": an instant as the desk's own clock reads it.
pub(super) fn describe_instant(zone: Tz, at: DateTime<Utc>) -> String {
    format!("{} {}", at.with_timezone(&zone).format("%a %-d %b %H:%M"), zone.name())
}

fn week() -> impl Iterator<Item = Weekday> {
    std::iter::successors(Some(Weekday::Mon), |day| (*day != Weekday::Sun).then(|| day.succ()))
}

/// "Every day", "Monday to Friday", "Saturday and Sunday", "Monday, Wednesday and Friday":
/// three or more days in a row read as a range.
fn describe_days(days: &[Weekday]) -> String {
    if days.len() == 7 {
        return "Every day".to_string();
    }
    let mut runs: Vec<&[Weekday]> = Vec::new();
    let mut rest = days;
    while !rest.is_empty() {
        let length = 1 + rest.windows(2).take_while(|pair| pair[0].succ() == pair[1]).count();
        runs.push(&rest[..length]);
        rest = &rest[length..];
    }
    let mut names: Vec<String> = Vec::new();
    for run in runs {
        match run {
            [first, .., last] if run.len() >= 3 => names.push(format!("{} to {}", day_name(*first), day_name(*last))),
            _ => names.extend(run.iter().map(|day| day_name(*day).to_string())),
        }
    }
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, others)) => format!("{} and {last}", others.join(", ")),
        None => String::new(),
    }
}

fn day_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

#[cfg(test)]
mod tests {
    use super::super::WorkingHoursConfig;
    use super::*;

    #[test]
    fn weekly_hours_in_words() {
        let config =
            |timezone: &str, days: &[&str], open: &str, close: &str, hours: &[(&str, &str)]| WorkingHoursConfig {
                timezone: timezone.to_string(),
                days: days.iter().map(|d| d.to_string()).collect(),
                open: open.to_string(),
                close: close.to_string(),
                hours: hours.iter().map(|(d, h)| (d.to_string(), h.to_string())).collect(),
                ..WorkingHoursConfig::default()
            };
        let weekdays = ["mon", "tue", "wed", "thu", "fri"];
        let all_week = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        // (config, expected description)
        let cases = [
            (WorkingHoursConfig::default(), "Monday to Friday, 9:00–17:00 (Europe/London)"),
            (
                config("Europe/London", &weekdays, "09:00", "17:00", &[("sat", "10:00-14:00")]),
                "Monday to Friday, 9:00–17:00; Saturday, 10:00–14:00 (Europe/London)",
            ),
            (
                config("America/New_York", &["mon", "wed", "fri"], "08:30", "16:45", &[]),
                "Monday, Wednesday and Friday, 8:30–16:45 (America/New_York)",
            ),
            (config("UTC", &["sat", "sun"], "00:00", "24:00", &[]), "Saturday and Sunday, 0:00–24:00 (UTC)"),
            (config("UTC", &all_week, "00:00", "24:00", &[]), "Every day, 0:00–24:00 (UTC)"),
            (
                config("Europe/Paris", &weekdays, "09:00", "17:00", &[("wed", "09:00-12:00")]),
                "Monday, Tuesday, Thursday and Friday, 9:00–17:00; Wednesday, 9:00–12:00 (Europe/Paris)",
            ),
            (
                config("Asia/Jerusalem", &["sun", "mon", "tue", "wed", "thu"], "09:00", "17:00", &[]),
                "Monday to Thursday and Sunday, 9:00–17:00 (Asia/Jerusalem)",
            ),
            (config("Europe/London", &[], "09:00", "17:00", &[]), "Closed every day (Europe/London)"),
        ];
        for (config, expected) in cases {
            let schedule = Schedule::from_config(&config).unwrap();
            assert_eq!(describe_hours(&schedule), expected);
        }
    }
}
