//! How long to wait before trying an undelivered email again.

use std::time::Duration;

/// Exponential back-off from 10 s, doubling per failed attempt, capped at `max`.
/// `attempts` counts the tries already made (1 after the first failure).
pub fn backoff_after(attempts: u32, max: Duration) -> Duration {
    let base = Duration::from_secs(10);
    let factor = 1u32.checked_shl(attempts.saturating_sub(1)).unwrap_or(u32::MAX);
    base.checked_mul(factor).unwrap_or(max).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_caps() {
        let max = Duration::from_secs(900);
        let waits: Vec<u64> = (1..=9).map(|n| backoff_after(n, max).as_secs()).collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 900, 900]);
        assert_eq!(backoff_after(200, max), max);
        assert_eq!(backoff_after(0, max).as_secs(), 10);
    }
}
