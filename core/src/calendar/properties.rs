//! Properties that hold for every calendar and instant, checked on the table tests'
//! calendars with instants drawn from 2025–2028 and, more densely, from the days around
//! clock changes.

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;

use super::tests::calendar;
use super::BusinessCalendar;

const CALENDARS: &[&str] = &[
    "london",
    "london sunday night",
    "london sunday gap",
    "london sunday in gap",
    "london sunday overlap",
    "new york",
    "new york sunday night",
    "new york sunday gap",
    "24h weekdays",
    "24h every day",
    "never",
    "havana saturday",
    "goose bay saturday",
    "goose bay sunday",
    "goose bay weekend",
];

/// Clock changes: London's and New York's in spring and autumn 2026, Havana's midnight that
/// came twice in 2026 and Goose Bay's Saturday hour that came after Sunday's midnight in 2009.
const CLOCK_CHANGES: &[&str] = &[
    "2026-03-29T01:00:00Z",
    "2026-10-25T01:00:00Z",
    "2026-03-08T07:00:00Z",
    "2026-11-01T06:00:00Z",
    "2026-11-01T05:00:00Z",
    "2009-11-01T03:01:00Z",
];

fn any_calendar() -> impl Strategy<Value = BusinessCalendar> {
    proptest::sample::select(CALENDARS).prop_map(calendar)
}

/// Whole seconds, as stored timestamps are: uniformly over four years, or within four days
/// of a clock change so that the odd days are well covered.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let four_years =
        (1_735_689_600i64..1_861_920_000).prop_map(|seconds| DateTime::from_timestamp(seconds, 0).unwrap());
    let near_a_change = (proptest::sample::select(CLOCK_CHANGES), -345_600i64..345_600)
        .prop_map(|(change, offset)| change.parse::<DateTime<Utc>>().unwrap() + Duration::seconds(offset));
    prop_oneof![four_years, near_a_change]
}

/// Up to three weeks, in whole seconds, often a whole number of hours.
fn span() -> impl Strategy<Value = Duration> {
    prop_oneof![(0i64..1_814_400).prop_map(Duration::seconds), (0i64..504).prop_map(Duration::hours)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn business_time_never_exceeds_calendar_time(calendar in any_calendar(), from in instant(), length in span()) {
        let business = calendar.business_duration(from, from + length);
        prop_assert!(business >= Duration::zero() && business <= length, "{business} of {length}");
    }

    #[test]
    fn business_time_adds_up_over_split_intervals(
        calendar in any_calendar(), a in instant(), first in span(), second in span(),
    ) {
        let (b, c) = (a + first, a + first + second);
        prop_assert_eq!(calendar.business_duration(a, c), calendar.business_duration(a, b) + calendar.business_duration(b, c));
    }

    #[test]
    fn no_business_time_passes_before_the_next_opening(calendar in any_calendar(), from in instant(), length in span()) {
        let Some(opens) = calendar.next_opening(from) else {
            // A desk that never opens accrues nothing, however long.
            prop_assert_eq!(calendar.business_duration(from, from + length), Duration::zero());
            return Ok(());
        };
        let to = (from + length).min(opens);
        prop_assert_eq!(calendar.business_duration(from, to), Duration::zero());
    }

    #[test]
    fn weekends_of_a_weekday_desk_accrue_nothing(
        name in proptest::sample::select(&["london", "new york", "24h weekdays"][..]),
        saturday in 0i64..208, into in 0i64..172_800, length in 0i64..172_800,
    ) {
        let calendar = calendar(name);
        // 2025-01-04 was a Saturday; a weekend is 48 hours of wall clock from its midnight.
        let saturday = chrono::NaiveDate::from_ymd_opt(2025, 1, 4).unwrap() + Duration::weeks(saturday);
        let midnight = super::tests::at(&calendar, &format!("{saturday} 00:00"));
        let sunday_end = super::tests::at(&calendar, &format!("{} 00:00", saturday + Duration::days(2)));
        let from = (midnight + Duration::seconds(into)).min(sunday_end);
        let to = (from + Duration::seconds(length)).min(sunday_end);
        prop_assert_eq!(calendar.business_duration(from, to), Duration::zero());
    }

    #[test]
    fn the_next_opening_is_open(calendar in any_calendar(), after in instant()) {
        if let Some(opens) = calendar.next_opening(after) {
            prop_assert!(opens >= after);
            prop_assert!(calendar.is_open(opens), "closed at {opens}");
        }
    }

    #[test]
    fn when_open_the_next_opening_is_now(calendar in any_calendar(), at in instant()) {
        if calendar.is_open(at) {
            prop_assert_eq!(calendar.next_opening(at), Some(at));
        }
    }

    #[test]
    fn open_means_business_time_passes(calendar in any_calendar(), at in instant()) {
        let next_second = calendar.business_duration(at, at + Duration::seconds(1));
        prop_assert_eq!(calendar.is_open(at), next_second == Duration::seconds(1));
    }

    #[test]
    fn the_next_closing_ends_an_unbroken_open_stretch(calendar in any_calendar(), at in instant()) {
        match calendar.next_closing(at) {
            Some(closes) if calendar.is_open(at) => {
                prop_assert!(closes > at);
                prop_assert!(!calendar.is_open(closes), "open at {closes}");
                prop_assert_eq!(calendar.business_duration(at, closes), closes - at);
            }
            Some(closes) => prop_assert_eq!(closes, at),
            None => prop_assert!(calendar.is_open(at)),
        }
    }

    #[test]
    fn a_desk_open_all_week_counts_every_second(from in instant(), length in span()) {
        let calendar = calendar("24h every day");
        prop_assert_eq!(calendar.business_duration(from, from + length), length);
    }
}
