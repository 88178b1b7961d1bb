//! Throttles in use: the buckets Keydesk counts in (`store::throttle`) and what their counts
//! mean (`keydesk_core::throttle`). Each `take` counts and checks in one statement, in a
//! transaction that need not wait for the disk (`db::unflushed_transaction`): a count is a
//! rate limit, and losing one to a crash of the database gives one event back.

use crate::app::{AppError, Services};
use crate::db::{in_transaction, unflushed_transaction, AnyWrite, DbConnection};
use crate::ids::UserId;
use crate::store;
use keydesk_core::throttle::ThrottlePolicy;

/// What is counted, and for whom.
pub enum Bucket<'a> {
    /// Logins from one client address (the socket's, or a trusted proxy's `ip_header`).
    LoginsFrom(Option<&'a str>),
    /// Forgot-password requests from one client address.
    ResetRequestsFrom(Option<&'a str>),
    /// Reset emails sent to one account.
    ResetEmailsTo(UserId),
    /// Automatic acknowledgements sent to one sender address.
    AcknowledgementsTo(&'a str),
}

impl Bucket<'_> {
    fn name(&self) -> String {
        let address = |ip: &Option<&str>| ip.unwrap_or("unknown").to_owned();
        match self {
            Bucket::LoginsFrom(ip) => format!("login:{}", address(ip)),
            Bucket::ResetRequestsFrom(ip) => format!("reset-request:{}", address(ip)),
            Bucket::ResetEmailsTo(user) => format!("reset-email:{user}"),
            Bucket::AcknowledgementsTo(sender) => format!("acknowledgement:{sender}"),
        }
    }
}

/// Counts one event in `bucket`; `Err(wait)` when that was over the limit.
pub fn take(
    conn: &mut DbConnection,
    services: &Services,
    bucket: &Bucket<'_>,
    policy: ThrottlePolicy,
) -> Result<Result<(), chrono::Duration>, AppError> {
    if policy.is_off() {
        return Ok(Ok(()));
    }
    let buckets = std::slice::from_ref(bucket);
    let take = |conn: &mut DbConnection| take_many(conn, services, buckets, policy);
    // One statement, whole on its own: inside another transaction (the login's count, a
    // reset email's) it needs no savepoint, which would cost two more round trips.
    let verdicts = if in_transaction(conn) { take(conn)? } else { unflushed_transaction(conn, take)? };
    verdicts.into_iter().next().ok_or_else(|| diesel::result::Error::NotFound.into())
}

/// As [`take`], one event in each of several distinct buckets under one policy, counted in one
/// statement inside the caller's transaction (intake's batch); the verdicts in their order.
pub fn take_many(
    conn: &mut DbConnection,
    services: &Services,
    buckets: &[Bucket<'_>],
    policy: ThrottlePolicy,
) -> Result<Vec<Result<(), chrono::Duration>>, AppError> {
    if policy.is_off() {
        return Ok(buckets.iter().map(|_| Ok(())).collect());
    }
    let now = services.stored_now();
    let names: Vec<String> = buckets.iter().map(Bucket::name).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let counted = store::throttle::count_many(conn, &names, now, policy.expired_before(now))?;
    let by_name: std::collections::HashMap<&str, store::throttle::Counted> =
        counted.iter().map(|c| (c.bucket.as_str(), c.counted)).collect();
    names
        .iter()
        .map(|name| {
            // Every bucket's row comes back from the upsert; one missing is the database's fault.
            let counted = by_name.get(name).ok_or(diesel::result::Error::NotFound)?;
            Ok(policy.verdict(counted.count, counted.window_start, now))
        })
        .collect()
}

/// The statement that gives back one event counted in `bucket` (none with the throttle off),
/// sent with the other writes of what turned out right.
pub fn give_back_write(bucket: &Bucket<'_>, policy: ThrottlePolicy) -> Option<AnyWrite<'static>> {
    (!policy.is_off()).then(|| Box::new(store::throttle::uncount_write(bucket.name())) as AnyWrite<'static>)
}
