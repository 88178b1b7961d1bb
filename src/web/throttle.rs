//! Per-address throttle of failed logins. Lockout protects one account from guessing; this
//! stops one address from locking many accounts quickly (lockout as denial of service).
//! In memory and per process: a restart forgets it, which only errs towards letting people in.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginThrottle {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginThrottle {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        LoginThrottle { max_failures, window, failures: Mutex::new(HashMap::new()) }
    }

    /// How long this address must wait, if it has used up its failures.
    pub fn wait_for(&self, ip: &str) -> Option<Duration> {
        if self.max_failures == 0 {
            return None;
        }
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let recent = failures.get_mut(ip)?;
        while recent.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            recent.pop_front();
        }
        if recent.len() < self.max_failures as usize {
            return None;
        }
        recent.front().map(|oldest| self.window.saturating_sub(now.duration_since(*oldest)))
    }

    pub fn record_failure(&self, ip: &str) {
        if self.max_failures == 0 {
            return;
        }
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Forget idle addresses so the map cannot grow without bound.
        if failures.len() > 100_000 {
            let window = self.window;
            failures.retain(|_, times| times.back().is_some_and(|t| t.elapsed() < window));
        }
        failures.entry(ip.to_owned()).or_default().push_back(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_waits_after_its_allowance_and_others_do_not() {
        let throttle = LoginThrottle::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(throttle.wait_for("10.0.0.1").is_none());
            throttle.record_failure("10.0.0.1");
        }
        assert!(throttle.wait_for("10.0.0.1").is_some_and(|w| w <= Duration::from_secs(60)));
        assert!(throttle.wait_for("10.0.0.2").is_none());
    }

    #[test]
    fn zero_turns_it_off() {
        let throttle = LoginThrottle::new(0, Duration::from_secs(60));
        for _ in 0..10 {
            throttle.record_failure("10.0.0.1");
        }
        assert!(throttle.wait_for("10.0.0.1").is_none());
    }
}
