//! Keydesk's Prometheus metrics: one registry per process, held in `Services` (never a
//! global), and recorded through small named functions (`metrics.login(Login::Locked)`) by
//! the code that did the thing, after its transaction has committed — a rolled-back lock is
//! not a lock.
//!
//! Counters count what *this process* did; Prometheus sums them across processes. What
//! describes shared state (open tickets, the outbox, intake health) is never counted here:
//! each scrape reads it from the database ([`SharedState`]), so every process reports the
//! same truth. Label values come from closed sets (route templates, enums), never from a
//! request's path or a person, so the series stay few and hold no personal data.

mod shared;

pub use shared::SharedState;

use keydesk_core::intake::LedgerOutcome;
use keydesk_core::reports::SlaTarget;
use prometheus_client::encoding::{prometheus_text, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::time::Duration;

/// The `Content-Type` of what [`Metrics::encode`] writes (Prometheus text, version 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// The route label of a request that matched no route (a 404 before any handler ran).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// How metrics and log lines name a request's route: the matched route's template
/// (`/tickets/<number>`), or [`UNMATCHED_ROUTE`]; never the path asked for.
pub fn route_template<'r>(req: &'r rocket::Request<'_>) -> &'r str {
    req.route().map_or(UNMATCHED_ROUTE, |route| route.uri.path())
}

keydesk_core::stored_as_text! {
    /// How one login step ended, as `keydesk_logins_total{outcome}` counts it. A sign-in
    /// with an authenticator is two steps: `second_factor_required`, then `success`.
    pub enum Login / UnknownLogin ("login outcome") {
        /// Signed in (password alone, or the code that completes a sign-in).
        Success = "success", "Signed in";
        /// The password was right; an authenticator code comes next.
        SecondFactorRequired = "second_factor_required", "Password right, code to come";
        WrongPassword = "wrong_password", "Wrong password";
        /// A wrong (or reused) authenticator or recovery code at sign-in.
        WrongSecondFactor = "wrong_second_factor", "Wrong second factor";
        /// The account is locked: nothing was checked.
        Locked = "locked", "Account locked";
        /// No account has that address.
        UnknownAccount = "unknown_account", "Unknown account";
        /// The client's address used up its failed logins for now.
        Throttled = "throttled", "Throttled";
    }
}

keydesk_core::stored_as_text! {
    /// Who or what unlocked an account, as `keydesk_unlocks_total{source}` counts it.
    pub enum UnlockSource / UnknownUnlockSource ("unlock source") {
        /// An organisation's admin or owner, from Manage Users.
        Admin = "admin", "Manage Users";
        /// The owner, with the PIN emailed to them (the `owner_pin` policy).
        OwnerPin = "owner_pin", "Owner with a PIN";
        /// Support, from the ticket page.
        Helpdesk = "helpdesk", "Support (ticket page)";
        /// Support, through the JSON API.
        Api = "api", "Support (API)";
        /// A temporary lock ran out (`lockout.auto_unlock_after`).
        Auto = "auto", "Lock expired";
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpRequest {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpRoute {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Source {
    source: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Target {
    target: &'static str,
}

/// Seconds: from a fast page to a slow report (a login's password hash takes a few tenths).
const DURATION_BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// This process's counters, and the registry they are encoded from.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpRequest, Counter>,
    http_durations: Family<HttpRoute, Histogram, fn() -> Histogram>,
    logins: Family<Outcome, Counter>,
    accounts_locked: Counter,
    unlocks: Family<Source, Counter>,
    intake_messages: Family<Outcome, Counter>,
    sla_breaches: Family<Target, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let http_requests = Family::<HttpRequest, Counter>::default();
        registry.register(
            "keydesk_http_requests",
            "HTTP requests answered, by method, route template and status",
            http_requests.clone(),
        );
        let http_durations =
            Family::<HttpRoute, Histogram, fn() -> Histogram>::new_with_constructor(duration_histogram);
        registry.register_with_unit(
            "keydesk_http_request_duration",
            "Time from a request's arrival to its response, by method and route template",
            Unit::Seconds,
            http_durations.clone(),
        );
        let logins = Family::<Outcome, Counter>::default();
        registry.register("keydesk_logins", "Login steps, by outcome", logins.clone());
        let accounts_locked = Counter::default();
        registry.register(
            "keydesk_accounts_locked",
            "Accounts locked by too many failed logins or codes",
            accounts_locked.clone(),
        );
        let unlocks = Family::<Source, Counter>::default();
        registry.register("keydesk_unlocks", "Accounts unlocked, by who or what unlocked them", unlocks.clone());
        let intake_messages = Family::<Outcome, Counter>::default();
        registry.register(
            "keydesk_intake_messages",
            "Messages taken in from the mail source, by what became of them",
            intake_messages.clone(),
        );
        let sla_breaches = Family::<Target, Counter>::default();
        registry.register(
            "keydesk_sla_breaches",
            "Tickets that passed a service-level target (each alerted once, by one process)",
            sla_breaches.clone(),
        );
        let metrics = Metrics {
            registry,
            http_requests,
            http_durations,
            logins,
            accounts_locked,
            unlocks,
            intake_messages,
            sla_breaches,
        };
        metrics.start_at_zero();
        metrics
    }

    /// Every series of a closed set exists from the start, at 0: a rate over a series that
    /// appears with its first event misses that event.
    fn start_at_zero(&self) {
        for outcome in Login::ALL {
            self.logins.get_or_create_owned(&Outcome { outcome: outcome.as_str() });
        }
        for source in UnlockSource::ALL {
            self.unlocks.get_or_create_owned(&Source { source: source.as_str() });
        }
        for outcome in INTAKE_OUTCOMES {
            self.intake_messages.get_or_create_owned(&Outcome { outcome: outcome.as_str() });
        }
        for target in SlaTarget::BOTH {
            self.sla_breaches.get_or_create_owned(&Target { target: target.as_str() });
        }
    }

    /// One answered request. `route` is the matched route's template (`/tickets/<number>`)
    /// or [`UNMATCHED_ROUTE`], never the path asked for.
    pub fn http_request(&self, method: &'static str, route: &str, status: u16, took: Duration) {
        let route = route.to_owned();
        self.http_durations.get_or_create(&HttpRoute { method, route: route.clone() }).observe(took.as_secs_f64());
        self.http_requests.get_or_create(&HttpRequest { method, route, status }).inc();
    }

    /// One login step's outcome.
    pub fn login(&self, outcome: Login) {
        self.logins.get_or_create(&Outcome { outcome: outcome.as_str() }).inc();
    }

    /// An account was locked (its lock committed).
    pub fn account_locked(&self) {
        self.accounts_locked.inc();
    }

    /// An account was unlocked (its unlock committed).
    pub fn unlock(&self, source: UnlockSource) {
        self.unlocks.get_or_create(&Source { source: source.as_str() }).inc();
    }

    /// A message was taken in (its ledger row committed) and became `outcome`.
    pub fn intake_message(&self, outcome: LedgerOutcome) {
        self.intake_messages.get_or_create(&Outcome { outcome: outcome.as_str() }).inc();
    }

    /// A ticket's breach of `target` was claimed (and its alert queued) by this process.
    pub fn sla_breach(&self, target: SlaTarget) {
        self.sla_breaches.get_or_create(&Target { target: target.as_str() }).inc();
    }

    /// The scrape: this process's counters, then the shared state read from the database.
    pub fn encode(&self, shared: &SharedState) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        prometheus_text::encode(&mut text, &self.registry).expect("metrics encode into a string");
        prometheus_text::encode(&mut text, &shared.registry()).expect("metrics encode into a string");
        text
    }
}

/// What intake's take-in can end as (re-processing and discarding are staff actions on
/// quarantined messages, not intake).
const INTAKE_OUTCOMES: [LedgerOutcome; 5] = [
    LedgerOutcome::Ticket,
    LedgerOutcome::Threaded,
    LedgerOutcome::Ignored,
    LedgerOutcome::Quarantined,
    LedgerOutcome::Duplicate,
];
