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
/// login cost it 0.2-0.4 ms more than one kept waiting (the bench's breakdown).
///
/// Keydesk's own threads (tokio's blocking pool, in a runtime of their own), not the ones
/// the requests' runtime runs blocking work on: a login waits on one of those for its
/// verdict, so a burst of logins could fill them all with waiters whose verifications could
/// then never start. A verifier waits for nothing but Argon2.
pub struct Verifiers {
    passwords: Arc<Passwords>,
    /// Only its blocking pool is used. An `Option` so that dropping it never blocks (a
    /// runtime dropped where the requests' runtime runs would panic).
    runtime: Option<rocket::tokio::runtime::Runtime>,
}

/// How long a thread waits for the next verification before it ends: long enough that the
/// logins of a quiet hour still find one waiting.
const VERIFIER_KEPT_FOR: Duration = Duration::from_secs(3600);

impl Verifiers {
    /// Verifiers for `passwords`, as many at once as `most`: the database pool's size, since
    /// a login holds one of its connections while its verification runs (any more would wait
    /// for a connection anyway).
    pub fn new(passwords: Arc<Passwords>, most: usize) -> Self {
        let runtime = rocket::tokio::runtime::Builder::new_current_thread()
            .max_blocking_threads(most.max(1))
            .thread_keep_alive(VERIFIER_KEPT_FOR)
            .thread_name("keydesk-verifier")
            .build()
            .expect("a runtime with no I/O or timers starts");
        Verifiers { passwords, runtime: Some(runtime) }
    }

    /// Starts `work` on a kept thread; [`Running::wait`] gives its result, or its panic.
    fn start<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Running<T> {
        let (tell, told) = mpsc::sync_channel(1);
        let runtime = self.runtime.as_ref().expect("the verifiers run until dropped");
        runtime.spawn_blocking(move || {
            // Caught, so the thread stays kept and the login gets the panic. Sending fails only
            // when nobody waits any more, and then there is nobody to tell.
            let _ = tell.send(catch_unwind(AssertUnwindSafe(work)));
        });
        Running(told)
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
    verifiers: &'a Verifiers,
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
    pub fn start(verifiers: &'a Verifiers, password: &'a str, hash: Option<&'a str>, beside_the_count: bool) -> Self {
        let state = if beside_the_count {
            let passwords = Arc::clone(&verifiers.passwords);
            let (password, hash) = (password.to_owned(), hash.map(str::to_owned));
            State::Running(verifiers.start(move || verify(&passwords, &password, hash.as_deref())))
        } else {
            State::Waiting
        };
        Verification { verifiers, password, hash, state: Cell::new(state) }
    }

    /// Whether the password is right (false with no account), waiting for it if it runs.
    pub fn verdict(&self) -> bool {
        match self.state.replace(State::Read) {
            State::Waiting => verify(&self.verifiers.passwords, self.password, self.hash),
            State::Running(running) => running.wait(),
            State::Read => false,
        }
    }

    /// Spends the verification's time without reading its verdict (a refused attempt).
    pub fn spend(&self) {
        self.verdict();
    }
}

/// A login that ends before it reads its verdict (a throttled address, an account an older
/// version left past the limit, a database error) still waits for a running verification,
/// as every refusal does: its answer takes no less time than the others', no more
/// verifications run than logins hold connections, and the password's copy goes with it.
impl Drop for Verification<'_> {
    fn drop(&mut self) {
        if let State::Running(running) = self.state.replace(State::Read) {
            // Its verdict, or its panic, is nobody's now.
            let _ = running.0.recv();
        }
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

    fn verifiers() -> Verifiers {
        Verifiers::new(Arc::new(Passwords::new()), 8)
    }

    #[test]
    fn a_verdict_is_read_once_whether_it_ran_beside_or_here() {
        let verifiers = verifiers();
        let hash = verifiers.passwords.hash("right");
        for beside in [true, false] {
            let right = Verification::start(&verifiers, "right", Some(&hash), beside);
            assert!(right.verdict());
            assert!(!right.verdict(), "a second read of a verdict is never a pass");
            let wrong = Verification::start(&verifiers, "wrong", Some(&hash), beside);
            assert!(!wrong.verdict());
            let no_account = Verification::start(&verifiers, "right", None, beside);
            assert!(!no_account.verdict());
        }
    }

    #[test]
    fn verifications_beside_the_count_run_on_kept_threads_which_outlive_a_panic() {
        let verifiers = verifiers();
        let name = || std::thread::current().name().map(str::to_owned);
        assert_eq!(verifiers.start(name).wait().as_deref(), Some("keydesk-verifier"), "not where the login runs");
        let panicked = catch_unwind(AssertUnwindSafe(|| verifiers.start(|| panic!("argon2")).wait()));
        assert!(panicked.is_err(), "the login gets the verifier's panic");
        assert_eq!(verifiers.start(|| 7).wait(), 7, "and the verifiers still verify");
        // More at once than there are verifiers: the rest wait their turn, none is lost.
        let all: Vec<_> = (0..20).map(|n| verifiers.start(move || n)).collect();
        assert_eq!(all.into_iter().map(Running::wait).sum::<i32>(), 190);
    }

    #[test]
    fn a_verification_left_unread_is_waited_for_so_the_refusal_takes_its_time() {
        let verifiers = verifiers();
        let hash = verifiers.passwords.hash("right");
        let before = verifiers.passwords.verifications();
        drop(Verification::start(&verifiers, "wrong", Some(&hash), true));
        assert_eq!(verifiers.passwords.verifications() - before, 1, "it had run by the time the login ended");
        drop(Verification::start(&verifiers, "wrong", Some(&hash), false));
        assert_eq!(verifiers.passwords.verifications() - before, 1, "one never started is not run");
    }
}
