//! Median, 90th percentile and mean of a set of durations in seconds.

use serde::Serialize;

/// `None` figures when there is nothing to summarise: an empty range shows dashes, not zeros
/// that look like instant service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Summary {
    pub count: usize,
    /// The middle value; for an even count, the mean of the two middle values, rounded down.
    pub median: Option<i64>,
    /// Nearest rank: the smallest value that at least 90% of the values do not exceed.
    pub p90: Option<i64>,
    /// Rounded to the nearest second.
    pub mean: Option<i64>,
}

impl Summary {
    /// Selects rather than sorts: a year of tickets is a million values, several times over.
    pub fn of(mut values: Vec<i64>) -> Summary {
        let count = values.len();
        if count == 0 {
            return Summary::default();
        }
        let total: i128 = values.iter().map(|v| i128::from(*v)).sum();
        let mean = (total * 2 + count as i128).div_euclid(2 * count as i128);
        let middle = count / 2;
        let (below, at_middle, above) = values.select_nth_unstable(middle);
        let upper_middle = *at_middle;
        let median = match below.iter().max() {
            Some(lower_middle) if count.is_multiple_of(2) => (lower_middle + upper_middle).div_euclid(2),
            _ => upper_middle,
        };
        // Nearest rank ⌈0.9 n⌉, never below the middle.
        let p90_index = (count * 9).div_ceil(10) - 1;
        let p90 = if p90_index == middle { upper_middle } else { *above.select_nth_unstable(p90_index - middle - 1).1 };
        Summary { count, median: Some(median), p90: Some(p90), mean: Some(mean as i64) }
    }
}

#[cfg(test)]
mod tests {
    use super::Summary;

    #[test]
    fn figures_by_hand() {
        // (values, count, median, p90, mean)
        type Case<'a> = (&'a [i64], usize, Option<i64>, Option<i64>, Option<i64>);
        let cases: &[Case] = &[
            (&[], 0, None, None, None),
            (&[60], 1, Some(60), Some(60), Some(60)),
            (&[30, 10], 2, Some(20), Some(30), Some(20)),
            (&[1, 2], 2, Some(1), Some(2), Some(2)),
            (&[5, 1, 4, 2, 3], 5, Some(3), Some(5), Some(3)),
            // Ten values: the 9th smallest is the 90th percentile.
            (&[1, 2, 3, 4, 5, 6, 7, 8, 9, 100], 10, Some(5), Some(9), Some(15)),
            // Eleven: rank ⌈9.9⌉ = 10.
            (&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 11, Some(6), Some(10), Some(6)),
            (&[9, 9, 1, 1], 4, Some(5), Some(9), Some(5)),
        ];
        for (values, count, median, p90, mean) in cases {
            // Any order gives the same figures.
            let mut reversed = values.to_vec();
            reversed.reverse();
            assert_eq!(Summary::of(reversed), Summary::of(values.to_vec()), "{values:?} reversed");
            let summary = Summary::of(values.to_vec());
            assert_eq!(
                (summary.count, summary.median, summary.p90, summary.mean),
                (*count, *median, *p90, *mean),
                "{values:?}"
            );
        }
    }

    proptest::proptest! {
        /// Selecting gives what sorting and reading off the ranks gives.
        #[test]
        fn selection_agrees_with_sorting(values in proptest::collection::vec(-1_000_000i64..1_000_000, 1..200)) {
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let n = sorted.len();
            let median = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]).div_euclid(2) };
            let summary = Summary::of(values);
            proptest::prop_assert_eq!(summary.median, Some(median));
            proptest::prop_assert_eq!(summary.p90, Some(sorted[(n * 9).div_ceil(10) - 1]));
        }
    }
}
