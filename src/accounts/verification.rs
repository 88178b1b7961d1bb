//! A login's password verification, run on a kept thread beside the attempt's count.
//!
//! Argon2 takes about 14-20 ms; counting the attempt takes four round trips to the database.
//! Run one after the other, the round trips add to every login's time (on PostgreSQL, about
//! 0.5 ms of it). So on PostgreSQL the verification starts as soon as the account's hash is
//! read, on one of the threads [`Verifiers`] keeps waiting for work, and the count runs
//! meanwhile. (On SQLite the count takes about 0.1 ms, less than handing work to another
//! thread, so there the count comes first and the verification after it, where the login
//! runs.)
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
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// Threads kept waiting to verify passwords beside a login's count. A thread started for each
/// login cost it 0.4-0.9 ms (its start, and its first run on the other core); one kept
/// waiting costs about half that.
///
/// Keydesk's own threads (tokio's blocking pool, in a runtime of their own), not the ones
/// the requests' runtime runs blocking work on: a login waits on one of those for its
/// verdict, so a burst of logins could fill them all with waiters whose verifications could
/// then never start. A verifier waits for nothing but Argon2.
pub struct Verifiers {
    /// Only its blocking pool is used. An `Option` so that dropping it never blocks (a
    /// runtime dropped where the requests' runtime runs would panic).
    runtime: Option<rocket::tokio::runtime::Runtime>,
}

/// More than ever verify at once: each login holds one of the pool's connections while its
/// verification runs.
const MOST_VERIFIERS: usize = 64;
/// How long a thread waits for the next verification before it ends: long enough that the
/// logins of a quiet hour still find one waiting.
const VERIFIER_KEPT_FOR: Duration = Duration::from_secs(3600);

impl Verifiers {
    pub fn new() -> Self {
        let runtime = rocket::tokio::runtime::Builder::new_current_thread()
            .max_blocking_threads(MOST_VERIFIERS)
            .thread_keep_alive(VERIFIER_KEPT_FOR)
            .thread_name("keydesk-verifier")
            .build()
            .expect("a runtime with no I/O or timers starts");
        Verifiers { runtime: Some(runtime) }
    }

    /// Starts `work` on a kept thread; [`Running::wait`] gives its result, or its panic.
    fn start<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Running<T> {
        let (tell, told) = mpsc::sync_channel(1);
        let runtime = self.runtime.as_ref().expect("the verifiers run until dropped");
        runtime.spawn_blocking(move || {
            // Caught, so the thread stays kept and the login gets the panic.
            let _ = tell.send(catch_unwind(AssertUnwindSafe(work)));
        });
        Running(told)
    }
}

impl Default for Verifiers {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Verifiers {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Work running on a verifier.
struct Running<T>(mpsc::Receiver<std::thread::Result<T>>);

impl<T> Running<T> {
    fn wait(self) -> T {
        match self.0.recv() {
            Ok(Ok(result)) => result,
            // A panic in Argon2 stays a panic, as it was when it ran here.
            Ok(Err(panic)) => resume_unwind(panic),
            Err(mpsc::RecvError) => panic!("the verifiers stopped before the verification ran"),
        }
    }
}

/// One password's verification against one stored hash (or, with no account, the dummy one).
pub struct Verification<'a> {
    passwords: &'a Arc<Passwords>,
    password: &'a str,
    hash: Option<&'a str>,
    state: Cell<State>,
}

enum State {
    /// Not started: run it where the verdict is asked for.
    Waiting,
    Running(Running<bool>),
    /// Its verdict was read (a second read gets `false`: no attempt is checked twice).
    Read,
}

impl<'a> Verification<'a> {
    /// Starts the verification on a verifier when `beside_the_count`, else prepares it to run
    /// when asked.
    pub fn start(
        verifiers: &Verifiers,
        passwords: &'a Arc<Passwords>,
        password: &'a str,
        hash: Option<&'a str>,
        beside_the_count: bool,
    ) -> Self {
        let state = if beside_the_count {
            let (passwords, password, hash) = (Arc::clone(passwords), password.to_owned(), hash.map(str::to_owned));
            State::Running(verifiers.start(move || verify(&passwords, &password, hash.as_deref())))
        } else {
            State::Waiting
        };
        Verification { passwords, password, hash, state: Cell::new(state) }
    }

    /// Whether the password is right (false with no account), waiting for it if it runs.
    pub fn verdict(&self) -> bool {
        match self.state.replace(State::Read) {
            State::Waiting => verify(self.passwords, self.password, self.hash),
            State::Running(running) => running.wait(),
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
        let passwords = Arc::new(Passwords::new());
        let verifiers = Verifiers::new();
        let hash = passwords.hash("right");
        for beside in [true, false] {
            let right = Verification::start(&verifiers, &passwords, "right", Some(&hash), beside);
            assert!(right.verdict());
            assert!(!right.verdict(), "a second read of a verdict is never a pass");
            let wrong = Verification::start(&verifiers, &passwords, "wrong", Some(&hash), beside);
            assert!(!wrong.verdict());
            let no_account = Verification::start(&verifiers, &passwords, "right", None, beside);
            assert!(!no_account.verdict());
        }
    }

    #[test]
    fn verifications_beside_the_count_run_on_kept_threads_which_outlive_a_panic() {
        let verifiers = Verifiers::new();
        let thread = || std::thread::current().id();
        let first = verifiers.start(thread).wait();
        assert_ne!(first, thread(), "beside: not where the login runs");
        assert_eq!(verifiers.start(thread).wait(), first, "the same thread, kept waiting");
        let panicked = catch_unwind(AssertUnwindSafe(|| verifiers.start(|| panic!("argon2")).wait()));
        assert!(panicked.is_err(), "the login gets the verifier's panic");
        assert_eq!(verifiers.start(|| 7).wait(), 7, "and the verifiers still verify");
        // Many at once: none waits for another login's verdict to start.
        let all: Vec<_> = (0..8).map(|n| verifiers.start(move || n)).collect();
        assert_eq!(all.into_iter().map(Running::wait).sum::<i32>(), 28);
    }
}
