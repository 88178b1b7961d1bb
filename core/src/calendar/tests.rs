//! Table tests of the calendar's queries, around the dates that break naive arithmetic:
//! 2026's clock changes in London (29 March, 25 October) and New York (8 March, 1 November),
//! midnights that happen twice (Havana 2026, Goose Bay 2009), holidays, and the exact
//! opening and closing instants.

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};

use super::{BusinessCalendar, WorkingHoursConfig};

/// The calendars the tables use, by name. "london" is the default hours with Christmas
/// (a Friday) and the August bank holiday (a Monday) off.
pub(super) fn calendar(name: &str) -> BusinessCalendar {
    let mut config = WorkingHoursConfig {
        holidays: vec!["2026-12-25".into(), "2026-08-31".into()],
        ..WorkingHoursConfig::default()
    };
    fn set_hours(config: &mut WorkingHoursConfig, day: &str, hours: &str) {
        config.hours.insert(day.into(), hours.into());
    }
    match name {
        "london" => {}
        // Across both of London's 01:00 UTC changes.
        "london sunday night" => set_hours(&mut config, "sun", "00:30-03:00"),
        // Opens in the skipped hour in March, and in the repeated hour in October.
        "london sunday gap" => set_hours(&mut config, "sun", "01:30-02:30"),
        // Opens and closes inside the skipped hour: that Sunday never opens.
        "london sunday in gap" => set_hours(&mut config, "sun", "01:10-01:50"),
        // Closes in the repeated hour in October, and at the jump in March.
        "london sunday overlap" => set_hours(&mut config, "sun", "00:30-01:30"),
        "new york" => config.timezone = "America/New_York".into(),
        // Across both of New York's 02:00 local changes.
        "new york sunday night" => {
            config.timezone = "America/New_York".into();
            set_hours(&mut config, "sun", "01:00-04:00");
        }
        "new york sunday gap" => {
            config.timezone = "America/New_York".into();
            set_hours(&mut config, "sun", "02:30-05:00");
        }
        "24h weekdays" => (config.open, config.close) = ("00:00".into(), "24:00".into()),
        "24h every day" => {
            config.days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map(String::from).to_vec();
            (config.open, config.close, config.holidays) = ("00:00".into(), "24:00".into(), vec![]);
        }
        "never" => config.days.clear(),
        // Cuba falls back from 01:00 to 00:00: the first Sunday of November 2026 starts twice.
        "havana saturday" => {
            (config.timezone, config.days) = ("America/Havana".into(), vec![]);
            set_hours(&mut config, "sat", "00:00-24:00");
        }
        // Goose Bay fell back from 00:01 to 23:01 the day before until 2010: on 1 November
        // 2009 Sunday began, then Saturday's last hour came round again.
        "goose bay saturday" | "goose bay sunday" | "goose bay weekend" => {
            (config.timezone, config.days) = ("America/Goose_Bay".into(), vec![]);
            if name != "goose bay sunday" {
                set_hours(&mut config, "sat", "00:00-23:30");
            }
            if name != "goose bay saturday" {
                set_hours(&mut config, "sun", "00:00-24:00");
            }
        }
        other => panic!("no calendar named {other:?}"),
    }
    BusinessCalendar::from_config(&config).unwrap_or_else(|error| panic!("{name}: {error}"))
}

/// An instant: RFC 3339 in UTC ("2026-03-29T01:00:00Z"), or the calendar's wall clock
/// ("2026-03-02 09:00" or with seconds), which must then name one instant.
pub(super) fn at(calendar: &BusinessCalendar, text: &str) -> DateTime<Utc> {
    if let Ok(instant) = text.parse::<DateTime<Utc>>() {
        return instant;
    }
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"))
        .unwrap_or_else(|_| panic!("not an instant: {text}"));
    calendar
        .timezone()
        .from_local_datetime(&local)
        .single()
        .unwrap_or_else(|| panic!("{text} is not one instant"))
        .to_utc()
}

#[test]
fn open_or_closed_at_an_instant() {
    // (case, calendar, instant, open)
    let cases = [
        ("opens at 09:00:00 inclusive", "london", "2026-03-02 09:00:00", true),
        ("a second before opening", "london", "2026-03-02 08:59:59", false),
        ("a second before closing", "london", "2026-03-02 16:59:59", true),
        ("closed at 17:00:00 exclusive", "london", "2026-03-02 17:00:00", false),
        ("midnight on a working day", "london", "2026-03-02 00:00", false),
        ("09:00 BST is 08:00 UTC", "london", "2026-06-01T08:00:00Z", true),
        ("08:59:59 BST", "london", "2026-06-01T07:59:59Z", false),
        ("17:00 BST is 16:00 UTC", "london", "2026-06-01T16:00:00Z", false),
        ("Saturday", "london", "2026-03-07 12:00", false),
        ("Sunday", "london", "2026-03-08 12:00", false),
        ("Christmas, a Friday holiday", "london", "2026-12-25 12:00", false),
        ("the day before it", "london", "2026-12-24 16:59", true),
        ("a Monday holiday", "london", "2026-08-31 09:00", false),
        ("spring: 00:30 GMT", "london sunday night", "2026-03-29T00:30:00Z", true),
        ("spring: a second before", "london sunday night", "2026-03-29T00:29:59Z", false),
        ("spring: 00:59:59 GMT, just before the jump", "london sunday night", "2026-03-29T00:59:59Z", true),
        ("spring: 02:00 BST, just after the jump", "london sunday night", "2026-03-29T01:00:00Z", true),
        ("spring: 02:59:59 BST", "london sunday night", "2026-03-29T01:59:59Z", true),
        ("spring: 03:00 BST closes", "london sunday night", "2026-03-29T02:00:00Z", false),
        ("autumn: 00:30 BST, still Saturday in UTC", "london sunday night", "2026-10-24T23:30:00Z", true),
        ("autumn: a second before", "london sunday night", "2026-10-24T23:29:59Z", false),
        ("autumn: 01:30 BST", "london sunday night", "2026-10-25T00:30:00Z", true),
        ("autumn: 01:30 GMT, the hour again", "london sunday night", "2026-10-25T01:30:00Z", true),
        ("autumn: 02:59:59 GMT", "london sunday night", "2026-10-25T02:59:59Z", true),
        ("autumn: 03:00 GMT closes", "london sunday night", "2026-10-25T03:00:00Z", false),
        (
            "autumn: 01:29:59 GMT, in the hour that came round again",
            "london sunday overlap",
            "2026-10-25T01:29:59Z",
            true,
        ),
        ("autumn: the last 01:30 (GMT) closes", "london sunday overlap", "2026-10-25T01:30:00Z", false),
        ("01:30 never happens: closed before the jump", "london sunday gap", "2026-03-29T00:59:59Z", false),
        ("01:30 never happens: opens at the jump to 02:00 BST", "london sunday gap", "2026-03-29T01:00:00Z", true),
        ("02:30 BST closes", "london sunday gap", "2026-03-29T01:30:00Z", false),
        ("the first 01:30 opens", "london sunday gap", "2026-10-25T00:30:00Z", true),
        ("the clock goes back to 01:00 GMT: still open", "london sunday gap", "2026-10-25T01:00:00Z", true),
        ("02:29:59 GMT", "london sunday gap", "2026-10-25T02:29:59Z", true),
        ("02:30 GMT closes", "london sunday gap", "2026-10-25T02:30:00Z", false),
        ("open and close both skipped: never open", "london sunday in gap", "2026-03-29T01:00:00Z", false),
        ("the next Sunday opens as usual", "london sunday in gap", "2026-04-05T00:10:00Z", true),
        ("New York spring: 01:00 EST", "new york sunday night", "2026-03-08T06:00:00Z", true),
        ("New York spring: 03:59:59 EDT", "new york sunday night", "2026-03-08T07:59:59Z", true),
        ("New York spring: 04:00 EDT closes", "new york sunday night", "2026-03-08T08:00:00Z", false),
        ("New York autumn: the first 01:00 (EDT) opens", "new york sunday night", "2026-11-01T05:00:00Z", true),
        ("New York autumn: a second before", "new york sunday night", "2026-11-01T04:59:59Z", false),
        ("New York autumn: 03:59:59 EST", "new york sunday night", "2026-11-01T08:59:59Z", true),
        ("New York autumn: 04:00 EST closes", "new york sunday night", "2026-11-01T09:00:00Z", false),
        ("New York Friday 09:00 EST", "new york", "2026-03-06T14:00:00Z", true),
        ("New York Monday 09:00 EDT", "new york", "2026-03-09T13:00:00Z", true),
        ("New York Monday 08:59:59 EDT", "new york", "2026-03-09T12:59:59Z", false),
        ("24h: Monday's midnight", "24h weekdays", "2026-03-02 00:00", true),
        ("24h: Friday's last second", "24h weekdays", "2026-03-06 23:59:59", true),
        ("24h: Saturday's midnight", "24h weekdays", "2026-03-07 00:00", false),
        ("24h: Sunday's last second", "24h weekdays", "2026-03-01 23:59:59", false),
        ("never open", "never", "2026-03-02 12:00", false),
        ("Havana: Saturday's last second", "havana saturday", "2026-11-01T03:59:59Z", true),
        (
            "Havana: Saturday to 24:00 ends at the first of two midnights",
            "havana saturday",
            "2026-11-01T04:00:00Z",
            false,
        ),
        (
            "Goose Bay: Sunday 00:00:30 ADT, inside Saturday's hours to the last 23:30",
            "goose bay saturday",
            "2009-11-01T03:00:30Z",
            true,
        ),
        ("Goose Bay: the last 23:30 closes", "goose bay saturday", "2009-11-01T03:30:00Z", false),
        ("Goose Bay: a second before Sunday's first midnight", "goose bay sunday", "2009-11-01T02:59:59Z", false),
        ("Goose Bay: Saturday 23:15 AST again, after Sunday began", "goose bay sunday", "2009-11-01T03:15:00Z", true),
    ];
    for (case, name, instant, expected) in cases {
        let calendar = calendar(name);
        assert_eq!(calendar.is_open(at(&calendar, instant)), expected, "{case} ({name}, {instant})");
    }
}

#[test]
fn next_opening_at_or_after_an_instant() {
    // (case, calendar, after, next opening)
    let cases = [
        ("Friday 17:00 → Monday 09:00", "london", "2026-03-06 17:00", Some("2026-03-09 09:00")),
        ("open now: the instant itself", "london", "2026-03-06 16:59:59", Some("2026-03-06 16:59:59")),
        ("exactly at opening", "london", "2026-03-02 09:00", Some("2026-03-02 09:00")),
        ("before opening", "london", "2026-03-02 08:00", Some("2026-03-02 09:00")),
        ("midnight", "london", "2026-03-02 00:00", Some("2026-03-02 09:00")),
        ("over the spring change: 09:00 BST", "london", "2026-03-27 17:00", Some("2026-03-30T08:00:00Z")),
        ("over the autumn change: 09:00 GMT", "london", "2026-10-23 17:00", Some("2026-10-26T09:00:00Z")),
        ("Christmas Eve evening → Monday", "london", "2026-12-24 17:00", Some("2026-12-28 09:00")),
        ("during a holiday", "london", "2026-12-25 10:00", Some("2026-12-28 09:00")),
        ("over a Monday holiday", "london", "2026-08-28 17:00", Some("2026-09-01 09:00")),
        ("opens at the jump past 01:30", "london sunday gap", "2026-03-28 12:00", Some("2026-03-29T01:00:00Z")),
        ("an empty Sunday is skipped", "london sunday in gap", "2026-03-28 12:00", Some("2026-03-30T08:00:00Z")),
        (
            "New York Friday evening → Sunday 01:00 EST",
            "new york sunday night",
            "2026-03-06 17:00",
            Some("2026-03-08T06:00:00Z"),
        ),
        (
            "New York autumn → the first 01:00",
            "new york sunday night",
            "2026-10-31 12:00",
            Some("2026-11-01T05:00:00Z"),
        ),
        ("24h weekdays: Saturday → Monday's midnight", "24h weekdays", "2026-03-07 12:00", Some("2026-03-09 00:00")),
        (
            "Goose Bay: Sunday's first midnight",
            "goose bay sunday",
            "2009-10-31T12:00:00Z",
            Some("2009-11-01T03:00:00Z"),
        ),
        ("never open", "never", "2026-03-02 12:00", None),
    ];
    for (case, name, after, expected) in cases {
        let calendar = calendar(name);
        let expected = expected.map(|text| at(&calendar, text));
        assert_eq!(calendar.next_opening(at(&calendar, after)), expected, "{case} ({name}, {after})");
    }
}

#[test]
fn next_closing_at_or_after_an_instant() {
    // (case, calendar, after, next closing)
    let cases = [
        ("open: the end of the day", "london", "2026-03-02 10:00", Some("2026-03-02 17:00")),
        ("a second before closing", "london", "2026-03-02 16:59:59", Some("2026-03-02 17:00")),
        ("closed now: the instant itself", "london", "2026-03-02 17:00", Some("2026-03-02 17:00")),
        ("weekend: the instant itself", "london", "2026-03-07 12:00", Some("2026-03-07 12:00")),
        (
            "17:00 BST on the Friday before the autumn change",
            "london",
            "2026-10-23 10:00",
            Some("2026-10-23T16:00:00Z"),
        ),
        ("days that run into each other are one stretch", "24h weekdays", "2026-03-02 10:00", Some("2026-03-07 00:00")),
        ("never closes", "24h every day", "2026-03-02 10:00", None),
        ("Goose Bay: the last 23:30", "goose bay saturday", "2009-11-01T03:00:30Z", Some("2009-11-01T03:30:00Z")),
        (
            "Goose Bay: overlapping days are one stretch",
            "goose bay weekend",
            "2009-10-31T12:00:00Z",
            Some("2009-11-02T04:00:00Z"),
        ),
        ("the latest 02:30", "london sunday gap", "2026-10-25T01:00:00Z", Some("2026-10-25T02:30:00Z")),
        ("never open", "never", "2026-03-02 12:00", Some("2026-03-02 12:00")),
    ];
    for (case, name, after, expected) in cases {
        let calendar = calendar(name);
        let expected = expected.map(|text| at(&calendar, text));
        assert_eq!(calendar.next_closing(at(&calendar, after)), expected, "{case} ({name}, {after})");
    }
}

#[test]
fn business_time_between_two_instants() {
    // (case, calendar, from, to, expected (hours, minutes))
    let cases = [
        ("within one day", "london", "2026-03-02 10:00", "2026-03-02 11:30", (1, 30)),
        ("the whole of one day", "london", "2026-03-02 08:00", "2026-03-02 18:00", (8, 0)),
        ("exactly opening to closing", "london", "2026-03-02 09:00", "2026-03-02 17:00", (8, 0)),
        ("overnight is closed", "london", "2026-03-02 17:00", "2026-03-03 09:00", (0, 0)),
        ("a weekend is closed", "london", "2026-03-07 00:00", "2026-03-09 00:00", (0, 0)),
        ("a holiday is closed", "london", "2026-12-25 08:00", "2026-12-25 18:00", (0, 0)),
        ("backwards is zero", "london", "2026-03-02 11:00", "2026-03-02 10:00", (0, 0)),
        ("empty is zero", "london", "2026-03-02 11:00", "2026-03-02 11:00", (0, 0)),
        ("Friday 16:00 GMT → Monday 10:00 BST", "london", "2026-03-27 16:00", "2026-03-30 10:00", (2, 0)),
        ("Friday 16:00 BST → Monday 10:00 GMT", "london", "2026-10-23 16:00", "2026-10-26 10:00", (2, 0)),
        ("a week across the spring change", "london", "2026-03-23 09:00", "2026-03-30 09:00", (40, 0)),
        ("eight days across the autumn change", "london", "2026-10-19 00:00", "2026-10-26 23:59", (48, 0)),
        (
            "Friday 16:00 → Tuesday 10:00 over a Monday holiday",
            "london",
            "2026-08-28 16:00",
            "2026-09-01 10:00",
            (2, 0),
        ),
        ("all of 2026: 261 weekdays less 2 holidays", "london", "2026-01-01 00:00", "2027-01-01 00:00", (259 * 8, 0)),
        ("spring Sunday 00:30 GMT–03:00 BST", "london sunday night", "2026-03-28 00:00", "2026-03-30 00:00", (1, 30)),
        ("autumn Sunday 00:30 BST–03:00 GMT", "london sunday night", "2026-10-24 00:00", "2026-10-26 00:00", (3, 30)),
        (
            "spring: 02:00 BST (the jump)–02:30 BST",
            "london sunday gap",
            "2026-03-28 00:00",
            "2026-03-30 00:00",
            (0, 30),
        ),
        ("autumn: 01:30 BST–02:30 GMT", "london sunday gap", "2026-10-24 00:00", "2026-10-26 00:00", (2, 0)),
        (
            "a Sunday opening and closing in the skipped hour",
            "london sunday in gap",
            "2026-03-28 00:00",
            "2026-03-30 00:00",
            (0, 0),
        ),
        (
            "spring: 00:30 GMT–the jump past 01:30",
            "london sunday overlap",
            "2026-03-28 00:00",
            "2026-03-30 00:00",
            (0, 30),
        ),
        (
            "autumn: 00:30 BST–the last 01:30 (GMT)",
            "london sunday overlap",
            "2026-10-24 00:00",
            "2026-10-26 00:00",
            (2, 0),
        ),
        ("New York Friday 16:00 EST → Monday 10:00 EDT", "new york", "2026-03-06 16:00", "2026-03-09 10:00", (2, 0)),
        ("New York Friday 16:00 EDT → Monday 10:00 EST", "new york", "2026-10-30 16:00", "2026-11-02 10:00", (2, 0)),
        (
            "New York spring Sunday 01:00 EST–04:00 EDT",
            "new york sunday night",
            "2026-03-07 00:00",
            "2026-03-09 00:00",
            (2, 0),
        ),
        (
            "New York autumn Sunday 01:00 EDT–04:00 EST",
            "new york sunday night",
            "2026-10-31 00:00",
            "2026-11-02 00:00",
            (4, 0),
        ),
        (
            "New York spring: 03:00 EDT (the jump)–05:00 EDT",
            "new york sunday gap",
            "2026-03-07 00:00",
            "2026-03-09 00:00",
            (2, 0),
        ),
        (
            "New York autumn: 02:30 EST–05:00 EST",
            "new york sunday gap",
            "2026-10-31 00:00",
            "2026-11-02 00:00",
            (2, 30),
        ),
        (
            "24h weekdays: Monday to Saturday's midnight",
            "24h weekdays",
            "2026-03-02 00:00",
            "2026-03-07 00:00",
            (120, 0),
        ),
        ("24h weekdays: Friday noon → Monday noon", "24h weekdays", "2026-03-06 12:00", "2026-03-09 12:00", (24, 0)),
        ("24h: London's spring Sunday has 23 hours", "24h every day", "2026-03-29 00:00", "2026-03-30 00:00", (23, 0)),
        ("24h: London's autumn Sunday has 25 hours", "24h every day", "2026-10-25 00:00", "2026-10-26 00:00", (25, 0)),
        ("never open", "never", "2026-03-02 00:00", "2026-04-02 00:00", (0, 0)),
        (
            "Havana: Saturday to 24:00 is 24 hours, though midnight comes twice",
            "havana saturday",
            "2026-10-31T00:00:00Z",
            "2026-11-02T12:00:00Z",
            (24, 0),
        ),
        (
            "Goose Bay: overlapping days counted once",
            "goose bay weekend",
            "2009-10-31T03:00:00Z",
            "2009-11-02T04:00:00Z",
            (49, 0),
        ),
        (
            "Goose Bay: `to` reads Saturday, but Sunday had begun",
            "goose bay sunday",
            "2009-11-01T02:00:00Z",
            "2009-11-01T03:15:00Z",
            (0, 15),
        ),
        (
            "Goose Bay: `from` reads Sunday, but Saturday goes on",
            "goose bay saturday",
            "2009-11-01T03:00:00Z",
            "2009-11-01T04:00:00Z",
            (0, 30),
        ),
    ];
    for (case, name, from, to, (hours, minutes)) in cases {
        let calendar = calendar(name);
        let duration = calendar.business_duration(at(&calendar, from), at(&calendar, to));
        assert_eq!(duration, Duration::hours(hours) + Duration::minutes(minutes), "{case} ({name}, {from} → {to})");
    }
}

#[test]
fn the_zone_is_the_configured_one() {
    assert_eq!(calendar("london").timezone(), chrono_tz::Europe::London);
    assert_eq!(calendar("new york").timezone(), chrono_tz::America::New_York);
    assert_eq!(calendar("new york").describe_hours(), "Monday to Friday, 9:00–17:00 (America/New_York)");
}

#[test]
fn closed_support_names_the_next_opening_in_its_own_zone() {
    let london = calendar("london");
    // Saturday evening: next Monday 09:00 London (GMT in November).
    let saturday = at(&london, "2026-11-21T19:00:00Z");
    assert_eq!(
        london.describe_closed(london.next_opening(saturday)),
        "Support is closed; opens Mon 23 Nov 09:00 Europe/London"
    );
    // In summer the same wall-clock opening is 08:00 UTC.
    let summer = at(&london, "2026-07-04T19:00:00Z");
    assert_eq!(london.next_opening(summer), Some(at(&london, "2026-07-06T08:00:00Z")));
    assert_eq!(
        london.describe_closed(london.next_opening(summer)),
        "Support is closed; opens Mon 6 Jul 09:00 Europe/London"
    );
    assert_eq!(
        london.describe_closed(None),
        "Support is closed, and does not open within the next two years (check the working hours)."
    );
}

/// Timing sanity for reports over ~1,000,000 tickets. Run with
/// `cargo test -p keydesk-core --release -- --ignored business_duration_is_fast`.
#[test]
#[ignore]
fn business_duration_is_fast() {
    let calendar = calendar("london");
    let start = at(&calendar, "2026-03-02 10:17");
    let calls = 1_000_000;
    let began = std::time::Instant::now();
    let mut total = Duration::zero();
    for i in 0..calls {
        // Spans of a few hours to four days, starting at varied times of the week.
        let from = start + Duration::minutes(i % 10_080);
        total += calendar.business_duration(from, from + Duration::minutes(300 + (i % 5_760)));
    }
    let per_call = began.elapsed() / calls as u32;
    eprintln!("business_duration: {per_call:?} per call (total {} hours)", total.num_hours());
    if !cfg!(debug_assertions) {
        assert!(per_call < std::time::Duration::from_micros(1), "{per_call:?} per call");
    }
}
