//! Identity verification: the checks an agent sees, with their evidence, before unlocking
//! the account someone wrote in about.
//!
//! It owns the pure checks only: whether the registered email names a locked account,
//! whether the stated name is the account holder's, whether the sender is the registered
//! address and whether our receiving server authenticated it, plus the rule about who may
//! record a verification. Looking accounts up, recording verifications and unlocking belong
//! to the adapters and the web layer; nothing here does I/O. The checks only report: an
//! agent decides, and [`may_verify_ticket`] says when they may.

mod auth_results;
mod authentication;
mod method;
mod names;
#[cfg(test)]
mod tests;

pub use authentication::{domains_aligned, sender_authenticated, AuthenticatedBy, Authentication, NotAuthenticated};
pub use method::{
    may_verify_ticket, Requester, UnknownVerificationMethod, VerificationFacts, VerificationMethod, VerificationRefusal,
};
pub use names::names_match;

use crate::EmailAddress;
use serde::Serialize;

/// What the checks look at: the request's claims, the message's headers, and the account
/// the registered email names (if any).
#[derive(Debug, Clone, Copy)]
pub struct CheckInput<'a> {
    pub stated_full_name: Option<&'a str>,
    pub registered_email: Option<&'a EmailAddress>,
    /// The From address.
    pub sender: Option<&'a EmailAddress>,
    /// Raw `Authentication-Results` values, topmost (newest) first.
    pub authentication_results: &'a [String],
    /// The authserv-id our own receiving server writes in its `Authentication-Results`.
    pub trusted_authserv_id: &'a str,
    /// The account the registered email names.
    pub account: Option<AccountFacts<'a>>,
    /// The message judged came before the account's current lock began: whatever it proves
    /// is about an earlier request, not about who asks now.
    pub written_before_the_lock: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct AccountFacts<'a> {
    pub email: &'a EmailAddress,
    pub full_name: &'a str,
    pub locked: bool,
}

/// One check and the evidence people read, e.g. "From header jane@acme.test, registered
/// jane@acme.test".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    pub detail: String,
}

impl Check {
    pub const REGISTERED_EMAIL_HAS_ACCOUNT: &'static str = "registered_email_has_account";
    pub const ACCOUNT_LOCKED: &'static str = "account_locked";
    pub const NAME_MATCHES: &'static str = "name_matches";
    pub const SENDER_IS_REGISTERED_ADDRESS: &'static str = "sender_is_registered_address";
    pub const SENDER_AUTHENTICATED: &'static str = "sender_authenticated";

    /// The names of the checks, in the order [`run_checks`] returns them.
    pub const NAMES: [&'static str; 5] = [
        Check::REGISTERED_EMAIL_HAS_ACCOUNT,
        Check::ACCOUNT_LOCKED,
        Check::NAME_MATCHES,
        Check::SENDER_IS_REGISTERED_ADDRESS,
        Check::SENDER_AUTHENTICATED,
    ];

    fn new(name: &'static str, passed: bool, detail: impl Into<String>) -> Self {
        Check { name, passed, detail: detail.into() }
    }
}

/// The five checks, always all of them, in the order of [`Check::NAMES`].
pub fn run_checks(input: &CheckInput) -> Vec<Check> {
    // An account that is not the one the registered email names is no account at all here.
    let account = input.account.as_ref().filter(|account| Some(account.email) == input.registered_email);
    vec![
        registered_email_has_account(input),
        account_locked(account),
        name_matches(input.stated_full_name, account),
        sender_is_registered_address(input.sender, input.registered_email),
        sender_authenticated_check(input),
    ]
}

/// Whether the checks show the registered address itself sent the message: it is the From
/// address, and our server authenticated it. This is `sender_authenticated` for [`may_verify_ticket`].
pub fn registered_sender_authenticated(checks: &[Check]) -> bool {
    let passed = |name| checks.iter().any(|check| check.name == name && check.passed);
    passed(Check::SENDER_IS_REGISTERED_ADDRESS) && passed(Check::SENDER_AUTHENTICATED)
}

fn sender_authenticated_check(input: &CheckInput) -> Check {
    if input.written_before_the_lock {
        let detail = "the newest message came before the account's current lock began: only mail written since can show who asks now";
        return Check::new(Check::SENDER_AUTHENTICATED, false, detail);
    }
    let from_domain = input.sender.map(EmailAddress::domain).unwrap_or_default();
    let verdict = sender_authenticated(input.authentication_results, input.trusted_authserv_id, from_domain);
    Check::new(Check::SENDER_AUTHENTICATED, verdict.passed(), verdict.to_string())
}

fn registered_email_has_account(input: &CheckInput) -> Check {
    let (passed, detail) = match (input.registered_email, &input.account) {
        (None, _) => (false, "no registered email was stated".to_string()),
        (Some(registered), None) => (false, format!("no account has the registered email {registered}")),
        (Some(registered), Some(account)) if account.email != registered => {
            (false, format!("the account found is {}, not the registered email {registered}", account.email))
        }
        (Some(registered), Some(account)) => {
            (true, format!("registered {registered} is the account of \"{}\"", account.full_name))
        }
    };
    Check::new(Check::REGISTERED_EMAIL_HAS_ACCOUNT, passed, detail)
}

fn account_locked(account: Option<&AccountFacts>) -> Check {
    let (passed, detail) = match account {
        None => (false, "no account to check".to_string()),
        Some(account) if account.locked => (true, format!("account {} is locked", account.email)),
        Some(account) => (false, format!("account {} is not locked: there is nothing to unlock", account.email)),
    };
    Check::new(Check::ACCOUNT_LOCKED, passed, detail)
}

fn name_matches(stated: Option<&str>, account: Option<&AccountFacts>) -> Check {
    let (passed, detail) = match (stated, account) {
        (None, _) => (false, "no full name was stated".to_string()),
        (Some(stated), None) => (false, format!("stated \"{stated}\"; no account to compare it with")),
        (Some(stated), Some(account)) => names::name_evidence(stated, account.full_name),
    };
    Check::new(Check::NAME_MATCHES, passed, detail)
}

fn sender_is_registered_address(sender: Option<&EmailAddress>, registered: Option<&EmailAddress>) -> Check {
    let (passed, detail) = match (sender, registered) {
        (None, _) => (false, "no From address".to_string()),
        (Some(sender), None) => (false, format!("From header {sender}; no registered email was stated")),
        // Both are canonical (trimmed, NFKC, lower-case): anything else that differs is
        // another mailbox, plus-addressing and look-alike letters included.
        (Some(sender), Some(registered)) if sender == registered => {
            (true, format!("From header {sender}, registered {registered}"))
        }
        (Some(sender), Some(registered)) => (
            false,
            format!("From header {sender}, registered {registered}: {}", address_difference(sender, registered)),
        ),
    };
    Check::new(Check::SENDER_IS_REGISTERED_ADDRESS, passed, detail)
}

/// What differs between two addresses, spelling out letters that merely look alike.
fn address_difference(sender: &EmailAddress, registered: &EmailAddress) -> String {
    let local = |address: &EmailAddress| {
        address.as_str().rsplit_once('@').map(|(local, _)| local.to_string()).unwrap_or_default()
    };
    let mut differences = Vec::new();
    if local(sender) != local(registered) {
        differences.push(format!("the local part {} is not {}", local(sender), local(registered)));
    }
    if sender.domain() != registered.domain() {
        differences.push(format!("the domain {} is not {}", sender.domain(), registered.domain()));
    }
    let mut unusual: Vec<char> = Vec::new();
    for c in sender.as_str().chars() {
        if !c.is_ascii() && !registered.as_str().contains(c) && !unusual.contains(&c) {
            unusual.push(c);
        }
    }
    if !unusual.is_empty() {
        let listed: Vec<String> = unusual.iter().map(|&c| format!("U+{:04X} '{c}'", u32::from(c))).collect();
        differences.push(format!("the From address has characters the registered one lacks: {}", listed.join(", ")));
    }
    differences.join("; ")
}

/// Why the message looks forged, when it does: the From header is the account's registered
/// address, and our receiving server checked the sender and found it failing (DMARC failed,
/// or nothing aligned passed). Missing results are not suspicious by themselves: plenty of
/// honest mail arrives without them, and the checks already ask for the challenge then.
pub fn spoof_suspected(
    sender: Option<&EmailAddress>,
    account_email: Option<&EmailAddress>,
    authentication_results: &[String],
    trusted_authserv_id: &str,
) -> Option<String> {
    let sender = sender?;
    if Some(sender) != account_email {
        return None;
    }
    match sender_authenticated(authentication_results, trusted_authserv_id, sender.domain()) {
        verdict @ Authentication::Failed(
            NotAuthenticated::DmarcFailed { .. }
            | NotAuthenticated::DmarcForOtherDomain { .. }
            | NotAuthenticated::NothingAligned { .. },
        ) => Some(verdict.to_string()),
        _ => None,
    }
}
