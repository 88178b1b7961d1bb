//! The `[working_hours]` settings as written, and their validation into the weekly schedule a
//! [`BusinessCalendar`](super::BusinessCalendar) runs on. Every error names the key at fault so
//! that a bad setting stops start-up with a message an operator can act on.

use std::collections::BTreeMap;

use chrono::{NaiveDate, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;

/// `[default.working_hours]` as written in the config file. Missing keys take the defaults:
/// Monday to Friday, 09:00 to 17:00, Europe/London, no holidays.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkingHoursConfig {
    /// An IANA zone name such as "Europe/London"; the hours below are wall-clock times there.
    pub timezone: String,
    /// Working days: "mon" … "sun" (full names and any case accepted).
    pub days: Vec<String>,
    /// "HH:MM", 00:00 to 23:59.
    pub open: String,
    /// "HH:MM", after `open`; "24:00" means the end of the day.
    pub close: String,
    /// Whole local dates on which the desk is closed, "YYYY-MM-DD".
    pub holidays: Vec<String>,
    /// Per-day hours, "HH:MM-HH:MM", keyed by day name. A day listed here is open with these
    /// hours whether or not it is in `days`.
    pub hours: BTreeMap<String, String>,
}

impl Default for WorkingHoursConfig {
    fn default() -> Self {
        WorkingHoursConfig {
            timezone: "Europe/London".to_string(),
            days: ["mon", "tue", "wed", "thu", "fri"].map(str::to_string).to_vec(),
            open: "09:00".to_string(),
            close: "17:00".to_string(),
            holidays: Vec::new(),
            hours: BTreeMap::new(),
        }
    }
}

/// Why a `[working_hours]` section was refused. The message starts with the key at fault;
/// [`CalendarError::key`] gives it alone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("working_hours.timezone: unknown time zone {0:?}")]
    UnknownTimeZone(String),
    #[error("{key}: unknown day {day:?}")]
    UnknownDay { key: &'static str, day: String },
    #[error("{key}: {value:?} is not a time of day (HH:MM, {range})")]
    NotATime { key: &'static str, value: String, range: &'static str },
    #[error("{key}: expected HH:MM-HH:MM, got {value:?}")]
    NotAnHoursRange { key: &'static str, value: String },
    #[error("{key}: closing time {close} must be after opening time {open}")]
    CloseNotAfterOpen { key: &'static str, open: String, close: String },
    #[error("working_hours.holidays: {0:?} is not a date (YYYY-MM-DD)")]
    NotADate(String),
}

impl CalendarError {
    /// The config key at fault, e.g. "working_hours.hours.sat".
    pub fn key(&self) -> &'static str {
        match self {
            CalendarError::UnknownTimeZone(_) => "working_hours.timezone",
            CalendarError::NotADate(_) => "working_hours.holidays",
            CalendarError::UnknownDay { key, .. }
            | CalendarError::NotATime { key, .. }
            | CalendarError::NotAnHoursRange { key, .. }
            | CalendarError::CloseNotAfterOpen { key, .. } => key,
        }
    }
}

/// A wall-clock time as minutes after local midnight, 0 to 1440; 1440 is "24:00", the start
/// of the next local day, and is only ever a closing time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct TimeOfDay(u16);

impl TimeOfDay {
    pub(super) const MIDNIGHT: TimeOfDay = TimeOfDay(0);
    pub(super) const END_OF_DAY: TimeOfDay = TimeOfDay(24 * 60);

    pub(super) fn hour(self) -> u32 {
        u32::from(self.0 / 60)
    }

    pub(super) fn minute(self) -> u32 {
        u32::from(self.0 % 60)
    }

    /// "H:MM" or "HH:MM"; hours 0 to 23, or exactly "24:00".
    pub(super) fn parse(text: &str) -> Option<TimeOfDay> {
        let (hours, minutes) = text.trim().split_once(':')?;
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !(all_digits(hours) && hours.len() <= 2 && all_digits(minutes) && minutes.len() == 2) {
            return None;
        }
        let (hours, minutes): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
        let valid = (hours < 24 && minutes < 60) || (hours, minutes) == (24, 0);
        valid.then_some(TimeOfDay(hours * 60 + minutes))
    }
}

impl std::fmt::Display for TimeOfDay {
    /// "9:00", "17:30", "24:00": the way the hours read in an email.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{:02}", self.hour(), self.minute())
    }
}

/// One day's opening hours on the wall clock. `open < close` always holds, so an opening
/// period never runs past midnight: overnight shifts are two days' hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DayHours {
    pub(super) open: TimeOfDay,
    pub(super) close: TimeOfDay,
}

/// A validated `[working_hours]`: what the calendar's arithmetic reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Schedule {
    pub(super) timezone: Tz,
    /// Indexed by `Weekday::num_days_from_monday`; `None` is a closed day.
    pub(super) weekly_hours: [Option<DayHours>; 7],
    /// Sorted, without duplicates, for binary search.
    pub(super) holidays: Vec<NaiveDate>,
}

const OPEN_RANGE: &str = "00:00 to 23:59";
const CLOSE_RANGE: &str = "00:00 to 24:00";

impl Schedule {
    pub(super) fn from_config(config: &WorkingHoursConfig) -> Result<Schedule, CalendarError> {
        let timezone =
            config.timezone.parse::<Tz>().map_err(|_| CalendarError::UnknownTimeZone(config.timezone.clone()))?;

        let open = parse_time(&config.open, "working_hours.open", OPEN_RANGE)?;
        let close = parse_time(&config.close, "working_hours.close", CLOSE_RANGE)?;
        if open == TimeOfDay::END_OF_DAY {
            return Err(not_a_time(&config.open, "working_hours.open", OPEN_RANGE));
        }
        if close <= open {
            return Err(CalendarError::CloseNotAfterOpen {
                key: "working_hours.close",
                open: config.open.clone(),
                close: config.close.clone(),
            });
        }

        let mut weekly_hours = [None; 7];
        for day in &config.days {
            let weekday = parse_weekday(day)
                .ok_or_else(|| CalendarError::UnknownDay { key: "working_hours.days", day: day.clone() })?;
            weekly_hours[weekday.num_days_from_monday() as usize] = Some(DayHours { open, close });
        }
        // Overrides last: they win over `days`, and may open a day `days` leaves closed.
        for (day, range) in &config.hours {
            let weekday = parse_weekday(day)
                .ok_or_else(|| CalendarError::UnknownDay { key: "working_hours.hours", day: day.clone() })?;
            let hours = parse_hours_range(range, hours_key(weekday))?;
            weekly_hours[weekday.num_days_from_monday() as usize] = Some(hours);
        }

        let mut holidays = config.holidays.iter().map(|text| parse_date(text)).collect::<Result<Vec<_>, _>>()?;
        holidays.sort_unstable();
        holidays.dedup();

        Ok(Schedule { timezone, weekly_hours, holidays })
    }
}

fn not_a_time(value: &str, key: &'static str, range: &'static str) -> CalendarError {
    CalendarError::NotATime { key, value: value.to_string(), range }
}

fn parse_time(value: &str, key: &'static str, range: &'static str) -> Result<TimeOfDay, CalendarError> {
    TimeOfDay::parse(value).ok_or_else(|| not_a_time(value, key, range))
}

/// "10:00-14:00" (spaces around the dash allowed), closing after opening.
fn parse_hours_range(value: &str, key: &'static str) -> Result<DayHours, CalendarError> {
    let not_a_range = || CalendarError::NotAnHoursRange { key, value: value.to_string() };
    let (open, close) = value.split_once('-').ok_or_else(not_a_range)?;
    let open = TimeOfDay::parse(open).filter(|t| *t != TimeOfDay::END_OF_DAY).ok_or_else(not_a_range)?;
    let close = TimeOfDay::parse(close).ok_or_else(not_a_range)?;
    if close <= open {
        return Err(CalendarError::CloseNotAfterOpen { key, open: open.to_string(), close: close.to_string() });
    }
    Ok(DayHours { open, close })
}

/// Strictly "YYYY-MM-DD": a looser format would let "2026-1-5" and "5/1/2026" mean
/// different things to different readers.
fn parse_date(text: &str) -> Result<NaiveDate, CalendarError> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() });
    shaped
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| CalendarError::NotADate(text.to_string()))
}

/// "mon" or "monday", any case.
fn parse_weekday(text: &str) -> Option<Weekday> {
    use Weekday::*;
    let day = match text.trim().to_ascii_lowercase().as_str() {
        "mon" | "monday" => Mon,
        "tue" | "tuesday" => Tue,
        "wed" | "wednesday" => Wed,
        "thu" | "thursday" => Thu,
        "fri" | "friday" => Fri,
        "sat" | "saturday" => Sat,
        "sun" | "sunday" => Sun,
        _ => return None,
    };
    Some(day)
}

/// The key an override's error names, spelled the way the documentation spells it.
fn hours_key(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "working_hours.hours.mon",
        Weekday::Tue => "working_hours.hours.tue",
        Weekday::Wed => "working_hours.hours.wed",
        Weekday::Thu => "working_hours.hours.thu",
        Weekday::Fri => "working_hours.hours.fri",
        Weekday::Sat => "working_hours.hours.sat",
        Weekday::Sun => "working_hours.hours.sun",
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
