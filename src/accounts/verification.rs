//! A login's password verification, run on its own thread beside the attempt's count.
//!
//! Argon2 takes about 14 ms; counting the attempt takes four round trips to the database.
//! Run one after the other, the round trips add to every login's time (on PostgreSQL, about
//! 0.7 ms of it). So on PostgreSQL the verification starts as soon as the account's hash is
//! read, and the count runs meanwhile. (On SQLite the count takes about 0.1 ms, less than
//! starting a thread, so there the count comes first and the verification after it.)
//!
//! Its verdict is still *used* only as `attempts` says: once the count allows the attempt,
//! and never for an attempt the count refused (a locked account, a throttled address). A
//! verdict nobody reads tells nobody anything, and every refusal waits for its verification
//! all the same, so refusals still cost one verification's time.
//!
//! What this must not give away is the throttle's protection of the processor: an address
//! that has used up its attempts gets a quick refusal, not a verification. So a process that
//! has refused an address recently runs that address's next attempts the old way, counted
//! first and verified only if allowed. What a throttled address can still cost is the
//! verifications of the attempts it had in flight when this process first refused it.

use super::passwords::Passwords;
use chrono::NaiveDateTime;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Mutex;
use std::thread::{Scope, ScopedJoinHandle};

/// One password's verification against one stored hash (or, with no account, the dummy one).
pub struct Verification<'a, 'scope> {
    passwords: &'a Passwords,
    password: &'a str,
    hash: Option<&'a str>,
    state: Cell<State<'scope>>,
}

enum State<'scope> {
    /// Not started: run it where the verdict is asked for.
    Waiting,
    Running(ScopedJoinHandle<'scope, bool>),
    /// Its verdict was read (a second read gets `false`: no attempt is checked twice).
    Read,
}

impl<'a, 'scope> Verification<'a, 'scope> {
    /// Starts the verification on a thread of `scope` when `beside_the_count`, else prepares
    /// it to run when asked.
    pub fn start<'env>(
        scope: &'scope Scope<'scope, 'env>,
        passwords: &'a Passwords,
        password: &'a str,
        hash: Option<&'a str>,
        beside_the_count: bool,
    ) -> Self
    where
        'a: 'scope,
    {
        let state = if beside_the_count {
            State::Running(scope.spawn(move || verify(passwords, password, hash)))
        } else {
            State::Waiting
        };
        Verification { passwords, password, hash, state: Cell::new(state) }
    }

    /// Whether the password is right (false with no account), waiting for it if it runs.
    pub fn verdict(&self) -> bool {
        match self.state.replace(State::Read) {
            State::Waiting => verify(self.passwords, self.password, self.hash),
            // A panic in Argon2 stays a panic, as it was when it ran here.
            State::Running(running) => running.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            State::Read => false,
        }
    }

    /// Spends the verification's time without reading its verdict (a refused attempt).
    pub fn spend(&self) {
        self.verdict();
    }
}

fn verify(passwords: &Passwords, password: &str, hash: Option<&str>) -> bool {
    match hash {
        Some(hash) => passwords.verify(password, hash),
        None => {
            passwords.verify_dummy(password);
            false
        }
    }
}

/// Addresses this process has recently refused as throttled, each until its wait ends: their
/// next attempts are not verified beside the count. A hint, never a verdict (the database's
/// count decides), so it need not be shared between processes or survive a restart.
#[derive(Default)]
pub struct ThrottledAddresses {
    until: Mutex<HashMap<String, NaiveDateTime>>,
}

/// Enough for any real burst of throttled addresses; past it, the ended waits are dropped,
/// and if none has ended, all are (a few attempts then verify beside the count once more).
const MOST_REMEMBERED: usize = 10_000;

impl ThrottledAddresses {
    pub fn refused(&self, ip: Option<&str>, until: NaiveDateTime, now: NaiveDateTime) {
        let mut remembered = self.until.lock().unwrap_or_else(|e| e.into_inner());
        if remembered.len() >= MOST_REMEMBERED {
            remembered.retain(|_, until| *until > now);
            if remembered.len() >= MOST_REMEMBERED {
                remembered.clear();
            }
        }
        remembered.insert(key(ip).to_owned(), until);
    }

    pub fn is_throttled(&self, ip: Option<&str>, now: NaiveDateTime) -> bool {
        let remembered = self.until.lock().unwrap_or_else(|e| e.into_inner());
        remembered.get(key(ip)).is_some_and(|until| *until > now)
    }
}

fn key(ip: Option<&str>) -> &str {
    ip.unwrap_or("unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap().and_hms_opt(9, minute, 0).unwrap()
    }

    #[test]
    fn an_address_is_throttled_until_its_wait_ends() {
        let throttled = ThrottledAddresses::default();
        throttled.refused(Some("192.0.2.1"), at(15), at(0));
        assert!(throttled.is_throttled(Some("192.0.2.1"), at(14)));
        assert!(!throttled.is_throttled(Some("192.0.2.1"), at(15)));
        assert!(!throttled.is_throttled(Some("192.0.2.2"), at(1)));
        assert!(!throttled.is_throttled(None, at(1)));
    }

    #[test]
    fn remembering_more_addresses_than_the_most_keeps_the_newest_and_stays_bounded() {
        let throttled = ThrottledAddresses::default();
        for n in 0..MOST_REMEMBERED + 5 {
            throttled.refused(Some(&format!("10.0.{}.{}", n / 256, n % 256)), at(30), at(0));
        }
        assert!(throttled.until.lock().unwrap().len() <= MOST_REMEMBERED);
        let newest = MOST_REMEMBERED + 4;
        assert!(throttled.is_throttled(Some(&format!("10.0.{}.{}", newest / 256, newest % 256)), at(1)));
    }

    #[test]
    fn a_verdict_is_read_once_whether_it_ran_beside_or_here() {
        let passwords = Passwords::new();
        let hash = passwords.hash("right");
        for beside in [true, false] {
            std::thread::scope(|scope| {
                let right = Verification::start(scope, &passwords, "right", Some(&hash), beside);
                assert!(right.verdict());
                assert!(!right.verdict(), "a second read of a verdict is never a pass");
                let wrong = Verification::start(scope, &passwords, "wrong", Some(&hash), beside);
                assert!(!wrong.verdict());
                let no_account = Verification::start(scope, &passwords, "right", None, beside);
                assert!(!no_account.verdict());
            });
        }
    }
}
