//! The few kinds of chance the demo history is made of: yes/no with a probability, a
//! delay around a typical value, and a pick by weight.

use chrono::Duration;
use rand::Rng;

/// True with probability `p`.
pub fn chance(rng: &mut impl Rng, p: f64) -> bool {
    rng.gen::<f64>() < p
}

/// A delay whose median is `median_minutes`, spread log-normally: most near the median, a
/// few much longer, as response times are. `spread` 1.0 makes one in six more than 2.7
/// times the median. Whole seconds, at least one.
pub fn delay(rng: &mut impl Rng, median_minutes: f64, spread: f64) -> Duration {
    let minutes = median_minutes * (spread * standard_normal(rng)).exp();
    Duration::seconds(((minutes * 60.0).round() as i64).max(1))
}

/// One draw from N(0, 1) (Box–Muller).
fn standard_normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = 1.0 - rng.gen::<f64>(); // (0, 1]: ln is finite
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Picks an index with probability proportional to its weight.
#[derive(Debug, Clone)]
pub struct WeightedPick {
    /// Running totals of the weights.
    cumulative: Vec<f64>,
}

impl WeightedPick {
    /// Panics when no weight is positive: a caller's constant is wrong.
    pub fn new(weights: impl IntoIterator<Item = f64>) -> WeightedPick {
        let mut total = 0.0;
        let cumulative: Vec<f64> = weights
            .into_iter()
            .map(|w| {
                total += w.max(0.0);
                total
            })
            .collect();
        assert!(total > 0.0, "at least one weight must be positive");
        WeightedPick { cumulative }
    }

    pub fn pick(&self, rng: &mut impl Rng) -> usize {
        let total = *self.cumulative.last().expect("non-empty");
        let target = rng.gen::<f64>() * total;
        self.cumulative.partition_point(|&running| running <= target).min(self.cumulative.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn picks_follow_the_weights_and_never_a_zero_weight() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let pick = WeightedPick::new([1.0, 0.0, 3.0]);
        let mut counts = [0; 3];
        for _ in 0..40_000 {
            counts[pick.pick(&mut rng)] += 1;
        }
        assert_eq!(counts[1], 0);
        let ratio = counts[2] as f64 / counts[0] as f64;
        assert!((2.8..3.2).contains(&ratio), "{counts:?}");
    }

    #[test]
    fn delays_centre_on_their_median() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut delays: Vec<i64> = (0..10_001).map(|_| delay(&mut rng, 30.0, 0.8).num_seconds()).collect();
        delays.sort_unstable();
        let median = delays[5_000];
        assert!((1_650..1_950).contains(&median), "median {median} s");
        assert!(delays[0] >= 1);
    }
}
