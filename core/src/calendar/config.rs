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
        let timezone = config
            .timezone
            .parse::<Tz>()
            .map_err(|_| CalendarError::UnknownTimeZone(config.timezone.clone()))?;

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
            let weekday =
                parse_weekday(day).ok_or_else(|| CalendarError::UnknownDay { key: "working_hours.days", day: day.clone() })?;
            weekly_hours[weekday.num_days_from_monday() as usize] = Some(DayHours { open, close });
        }
        // Overrides last: they win over `days`, and may open a day `days` leaves closed.
        for (day, range) in &config.hours {
            let weekday =
                parse_weekday(day).ok_or_else(|| CalendarError::UnknownDay { key: "working_hours.hours", day: day.clone() })?;
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
mod tests {
    use super::*;

    fn config_with(change: impl FnOnce(&mut WorkingHoursConfig)) -> WorkingHoursConfig {
        let mut config = WorkingHoursConfig::default();
        change(&mut config);
        config
    }

    #[test]
    fn each_invalid_setting_names_its_key() {
        // (case, config, expected key, expected message)
        type Case = (&'static str, WorkingHoursConfig, &'static str, &'static str);
        let cases: Vec<Case> = vec![
            (
                "unknown zone",
                config_with(|c| c.timezone = "Mars/Base".into()),
                "working_hours.timezone",
                r#"working_hours.timezone: unknown time zone "Mars/Base""#,
            ),
            (
                "zone names are case-sensitive, as in the IANA database",
                config_with(|c| c.timezone = "europe/london".into()),
                "working_hours.timezone",
                r#"working_hours.timezone: unknown time zone "europe/london""#,
            ),
            (
                "close before open",
                config_with(|c| c.close = "08:00".into()),
                "working_hours.close",
                "working_hours.close: closing time 08:00 must be after opening time 09:00",
            ),
            (
                "close equal to open",
                config_with(|c| c.close = "09:00".into()),
                "working_hours.close",
                "working_hours.close: closing time 09:00 must be after opening time 09:00",
            ),
            (
                "overnight hours are not one day's hours",
                config_with(|c| (c.open, c.close) = ("22:00".into(), "06:00".into())),
                "working_hours.close",
                "working_hours.close: closing time 06:00 must be after opening time 22:00",
            ),
            (
                "open at 24:00",
                config_with(|c| c.open = "24:00".into()),
                "working_hours.open",
                r#"working_hours.open: "24:00" is not a time of day (HH:MM, 00:00 to 23:59)"#,
            ),
            (
                "open not a time",
                config_with(|c| c.open = "9am".into()),
                "working_hours.open",
                r#"working_hours.open: "9am" is not a time of day (HH:MM, 00:00 to 23:59)"#,
            ),
            (
                "close past midnight",
                config_with(|c| c.close = "24:30".into()),
                "working_hours.close",
                r#"working_hours.close: "24:30" is not a time of day (HH:MM, 00:00 to 24:00)"#,
            ),
            (
                "minutes out of range",
                config_with(|c| c.close = "17:60".into()),
                "working_hours.close",
                r#"working_hours.close: "17:60" is not a time of day (HH:MM, 00:00 to 24:00)"#,
            ),
            (
                "month 13",
                config_with(|c| c.holidays = vec!["2026-12-25".into(), "2026-13-01".into()]),
                "working_hours.holidays",
                r#"working_hours.holidays: "2026-13-01" is not a date (YYYY-MM-DD)"#,
            ),
            (
                "unpadded date",
                config_with(|c| c.holidays = vec!["2026-1-5".into()]),
                "working_hours.holidays",
                r#"working_hours.holidays: "2026-1-5" is not a date (YYYY-MM-DD)"#,
            ),
            (
                "30 February",
                config_with(|c| c.holidays = vec!["2026-02-30".into()]),
                "working_hours.holidays",
                r#"working_hours.holidays: "2026-02-30" is not a date (YYYY-MM-DD)"#,
            ),
            (
                "unknown working day",
                config_with(|c| c.days.push("funday".into())),
                "working_hours.days",
                r#"working_hours.days: unknown day "funday""#,
            ),
            (
                "unknown day in the overrides",
                config_with(|c| _ = c.hours.insert("caturday".into(), "10:00-14:00".into())),
                "working_hours.hours",
                r#"working_hours.hours: unknown day "caturday""#,
            ),
            (
                "override without a range",
                config_with(|c| _ = c.hours.insert("sat".into(), "10:00".into())),
                "working_hours.hours.sat",
                r#"working_hours.hours.sat: expected HH:MM-HH:MM, got "10:00""#,
            ),
            (
                "override with a bad time",
                config_with(|c| _ = c.hours.insert("Saturday".into(), "10:00-25:00".into())),
                "working_hours.hours.sat",
                r#"working_hours.hours.sat: expected HH:MM-HH:MM, got "10:00-25:00""#,
            ),
            (
                "override closing before it opens",
                config_with(|c| _ = c.hours.insert("sun".into(), "14:00-10:00".into())),
                "working_hours.hours.sun",
                "working_hours.hours.sun: closing time 10:00 must be after opening time 14:00",
            ),
        ];
        for (case, config, key, message) in cases {
            let error = Schedule::from_config(&config).expect_err(case);
            assert_eq!(error.key(), key, "{case}");
            assert_eq!(error.to_string(), message, "{case}");
        }
    }

    #[test]
    fn accepted_spellings() {
        let hours = |open: u16, close: u16| Some(DayHours { open: TimeOfDay(open), close: TimeOfDay(close) });
        // (case, config, weekly hours Monday first)
        let cases = [
            ("the defaults", WorkingHoursConfig::default(), [hours(540, 1020), hours(540, 1020), hours(540, 1020), hours(540, 1020), hours(540, 1020), None, None]),
            (
                "full names, any case, a repeated day, one-digit hours, 24:00",
                config_with(|c| {
                    c.days = vec!["Monday".into(), "TUE".into(), "mon".into()];
                    (c.open, c.close) = ("0:00".into(), "24:00".into());
                }),
                [hours(0, 1440), hours(0, 1440), None, None, None, None, None],
            ),
            (
                "an override opens a day outside `days` and replaces another's hours",
                config_with(|c| {
                    c.hours.insert("sat".into(), "10:00-14:00".into());
                    c.hours.insert("fri".into(), " 09:00 - 12:30 ".into());
                }),
                [hours(540, 1020), hours(540, 1020), hours(540, 1020), hours(540, 1020), hours(540, 750), hours(600, 840), None],
            ),
            ("no working days is a desk that never opens", config_with(|c| c.days.clear()), [None; 7]),
        ];
        for (case, config, expected) in cases {
            assert_eq!(Schedule::from_config(&config).expect(case).weekly_hours, expected, "{case}");
        }
    }

    #[test]
    fn holidays_are_sorted_and_deduplicated() {
        let config = config_with(|c| c.holidays = vec!["2026-12-25".into(), "2026-01-01".into(), "2026-12-25".into()]);
        let dates: Vec<String> = Schedule::from_config(&config).unwrap().holidays.iter().map(|d| d.to_string()).collect();
        assert_eq!(dates, ["2026-01-01", "2026-12-25"]);
    }

    #[test]
    fn deserialises_from_the_documented_shape_with_defaults_for_missing_keys() {
        let config: WorkingHoursConfig = serde_json::from_value(serde_json::json!({
            "timezone": "America/New_York",
            "holidays": ["2026-12-25"],
            "hours": { "sat": "10:00-14:00" },
        }))
        .unwrap();
        assert_eq!(config.timezone, "America/New_York");
        assert_eq!(config.days, WorkingHoursConfig::default().days);
        assert_eq!((config.open.as_str(), config.close.as_str()), ("09:00", "17:00"));
        assert_eq!(config.hours.get("sat").map(String::as_str), Some("10:00-14:00"));

        let misspelt = serde_json::from_value::<WorkingHoursConfig>(serde_json::json!({ "hollidays": [] }));
        assert!(misspelt.unwrap_err().to_string().contains("hollidays"));
    }
}
