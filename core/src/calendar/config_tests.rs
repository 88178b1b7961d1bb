//! Unit tests for reading `[working_hours]`, kept beside config.rs so that file stays readable.

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
        (
            "the defaults",
            WorkingHoursConfig::default(),
            [hours(540, 1020), hours(540, 1020), hours(540, 1020), hours(540, 1020), hours(540, 1020), None, None],
        ),
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
            [
                hours(540, 1020),
                hours(540, 1020),
                hours(540, 1020),
                hours(540, 1020),
                hours(540, 750),
                hours(600, 840),
                None,
            ],
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
