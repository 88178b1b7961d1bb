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
    pub fn of(mut values: Vec<i64>) -> Summary {
        let count = values.len();
        if count == 0 {
            return Summary::default();
        }
        values.sort_unstable();
        let median = if count % 2 == 1 { values[count / 2] } else { (values[count / 2 - 1] + values[count / 2]).div_euclid(2) };
        let rank = (count * 9).div_ceil(10);
        let total: i128 = values.iter().map(|v| i128::from(*v)).sum();
        let mean = (total * 2 + count as i128).div_euclid(2 * count as i128);
        Summary { count, median: Some(median), p90: Some(values[rank - 1]), mean: Some(mean as i64) }
    }
}

#[cfg(test)]
mod tests {
    use super::Summary;

    #[test]
    fn figures_by_hand() {
        let cases: &[(&[i64], usize, Option<i64>, Option<i64>, Option<i64>)] = &[
            (&[], 0, None, None, None),
            (&[60], 1, Some(60), Some(60), Some(60)),
            (&[30, 10], 2, Some(20), Some(30), Some(20)),
            (&[1, 2], 2, Some(1), Some(2), Some(2)),
            (&[5, 1, 4, 2, 3], 5, Some(3), Some(5), Some(3)),
            // Ten values: the 9th smallest is the 90th percentile.
            (&[1, 2, 3, 4, 5, 6, 7, 8, 9, 100], 10, Some(5), Some(9), Some(15)),
            // Eleven: rank ⌈9.9⌉ = 10.
            (&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 11, Some(6), Some(10), Some(6)),
        ];
        for (values, count, median, p90, mean) in cases {
            let summary = Summary::of(values.to_vec());
            assert_eq!((summary.count, summary.median, summary.p90, summary.mean), (*count, *median, *p90, *mean), "{values:?}");
        }
    }
}
