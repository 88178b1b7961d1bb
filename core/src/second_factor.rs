//! Second factors: a time-based code from an authenticator app (TOTP, RFC 6238, through the
//! `totp-rs` crate), and single-use recovery codes for when the phone is lost; plus who must
//! have one and when a session's second factor is fresh enough to unlock.

use crate::secret::HashedToken;
use crate::Role;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Codes are six digits, a new one every 30 seconds; one step either way is accepted, for
/// a phone whose clock drifts.
const DIGITS: u8 = 6;
const STEP_SECONDS: u64 = 30;
const SKEW_STEPS: u16 = 1;
/// 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
/// Recovery codes a user gets at enrolment.
pub const RECOVERY_CODES: usize = 10;

/// An authenticator's shared secret, stored as base32 (what the apps show and accept).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeRefusal {
    #[error("that is not the current code")]
    Wrong,
    #[error("that code was used already: wait for the next one")]
    Reused,
}

impl TotpSecret {
    pub fn generate() -> TotpSecret {
        let mut bytes = vec![0u8; SECRET_BYTES];
        rand::rngs::OsRng.fill(bytes.as_mut_slice());
        TotpSecret(bytes)
    }

    pub fn from_base32(text: &str) -> Option<TotpSecret> {
        Secret::try_from_base32(text.trim()).ok().map(|secret| TotpSecret(secret.as_bytes().to_vec()))
    }

    pub fn to_base32(&self) -> String {
        Secret::from(self.0.clone()).to_base32()
    }

    fn totp(&self, account: &str) -> Totp {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS)
            .with_skew(SKEW_STEPS)
            .with_step_duration(STEP_SECONDS)
            .with_secret(Secret::from(self.0.clone()))
            .with_issuer(Some("Keydesk"))
            .with_account_name(account.replace(':', ""))
            .build_noncompliant()
    }

    /// The `otpauth://` address an authenticator app reads from the QR code.
    pub fn otpauth_uri(&self, account: &str) -> String {
        self.totp(account).to_url().unwrap_or_default()
    }

    /// The code an app shows at `at` (for tests and the browser test's "phone").
    pub fn code_at(&self, at: DateTime<Utc>) -> String {
        self.totp("").generate(seconds(at)).to_string()
    }

    /// Checks a typed code at `now`: right within one step either way, and from a later step
    /// than the last code accepted (each code works once). The step to remember on success.
    pub fn verify(&self, typed: &str, now: DateTime<Utc>, last_used_step: Option<i64>) -> Result<i64, CodeRefusal> {
        let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
        let step = self.totp("").check(&typed, seconds(now)).ok_or(CodeRefusal::Wrong)?;
        let step = i64::try_from(step).map_err(|_| CodeRefusal::Wrong)?;
        match last_used_step {
            Some(last) if step <= last => Err(CodeRefusal::Reused),
            _ => Ok(step),
        }
    }
}

fn seconds(at: DateTime<Utc>) -> u64 {
    u64::try_from(at.timestamp()).unwrap_or(0)
}

/// A recovery code as shown once to its owner: two groups of five, easy to read and type.
pub fn generate_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut group =
                || (0..5).map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())])).collect::<String>();
            format!("{}-{}", group(), group())
        })
        .collect()
}

/// How a recovery code is stored: the hash of its canonical form (case, spaces and dashes
/// ignored), so typing it loosely still matches.
pub fn recovery_code_hash(typed: &str) -> HashedToken {
    let canonical: String = typed.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase();
    crate::PlainToken::from_client(&canonical).hashed()
}

/// Whether a typed second factor looks like a recovery code rather than an app's code.
pub fn is_recovery_code(typed: &str) -> bool {
    typed.chars().filter(|c| c.is_ascii_alphanumeric()).count() == 10
}

/// Who must have a second factor: the roles in `[mfa] required_for`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaPolicy {
    pub required_for: Vec<Role>,
    /// How long a second factor entered at sign-in (or since) lets its session unlock and
    /// verify without asking again.
    pub step_up_window: Duration,
}

impl MfaPolicy {
    pub fn requires(&self, role: Role) -> bool {
        self.required_for.contains(&role)
    }

    /// Whether a sensitive action (unlock, verify, approve) needs a fresh code first: for
    /// anyone with an authenticator, or whose role requires one, whose session last passed a
    /// second factor more than the window ago (or never).
    pub fn needs_step_up(
        &self,
        role: Role,
        enrolled: bool,
        second_factor_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> bool {
        (enrolled || self.requires(role)) && second_factor_at.is_none_or(|at| now - at > self.step_up_window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OrgRole, StaffRole};

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_code_works_within_one_step_either_way_and_only_once() {
        let secret = TotpSecret::generate();
        let now = at("2026-11-24T12:00:10Z");
        let code = secret.code_at(now);
        assert_eq!(code.len(), 6);
        let step = secret.verify(&code, now, None).unwrap();
        // A phone 30 seconds slow or fast still works.
        assert_eq!(secret.verify(&secret.code_at(now - Duration::seconds(30)), now, None), Ok(step - 1));
        assert_eq!(secret.verify(&secret.code_at(now + Duration::seconds(30)), now, None), Ok(step + 1));
        // Two steps off does not.
        assert_eq!(secret.verify(&secret.code_at(now - Duration::seconds(61)), now, None), Err(CodeRefusal::Wrong));
        // Each code once: the same step, or an earlier one, is refused after it was used.
        assert_eq!(secret.verify(&code, now, Some(step)), Err(CodeRefusal::Reused));
        assert_eq!(
            secret.verify(&secret.code_at(now - Duration::seconds(30)), now, Some(step)),
            Err(CodeRefusal::Reused)
        );
        assert_eq!(
            secret.verify(&format!(" {} {} ", &code[..3], &code[3..]), now, None),
            Ok(step),
            "spaces are ignored"
        );
        assert_eq!(secret.verify("12345", now, None), Err(CodeRefusal::Wrong));
        assert_eq!(secret.verify("abcdef", now, None), Err(CodeRefusal::Wrong));
    }

    #[test]
    fn a_secret_survives_base32_and_makes_an_otpauth_uri() {
        let secret = TotpSecret::generate();
        let text = secret.to_base32();
        assert_eq!(TotpSecret::from_base32(&text), Some(secret.clone()));
        let uri = secret.otpauth_uri("jane@acme.test");
        assert!(uri.starts_with("otpauth://totp/Keydesk:jane%40acme.test?"), "{uri}");
        assert!(uri.contains(&format!("secret={text}")), "{uri}");
        assert_eq!(format!("{secret:?}"), "TotpSecret(***)", "never in a log line");
    }

    #[test]
    fn recovery_codes_are_ten_single_strings_matched_loosely() {
        let codes = generate_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        let code = &codes[0];
        assert!(is_recovery_code(code) && !is_recovery_code("123456"));
        assert_eq!(recovery_code_hash(code), recovery_code_hash(&code.to_uppercase().replace('-', " ")));
    }

    #[test]
    fn who_may_reset_a_second_factor() {
        let manager = Role::Staff(StaffRole::Manager);
        let agent = Role::Staff(StaffRole::Agent);
        let owner = Role::Org(OrgRole::Owner);
        let admin = Role::Org(OrgRole::Admin);
        let cases = [
            ((1, manager, None), (2, agent, None), true),
            ((1, manager, None), (3, manager, None), true),
            ((1, manager, None), (1, manager, None), false),
            ((1, manager, None), (4, owner, Some(7)), false),
            ((5, owner, Some(7)), (6, admin, Some(7)), true),
            ((5, owner, Some(7)), (6, admin, Some(8)), false),
            ((6, admin, Some(7)), (9, Role::Org(OrgRole::Member), Some(7)), false),
            ((2, agent, None), (3, agent, None), false),
        ];
        for (actor, target, expected) in cases {
            assert_eq!(may_reset_second_factor(actor, target), expected, "{actor:?} resets {target:?}");
        }
    }

    #[test]
    fn step_up_asks_those_with_a_second_factor_whose_last_one_is_old() {
        let policy = MfaPolicy {
            required_for: vec![Role::Staff(StaffRole::Agent), Role::Org(OrgRole::Owner)],
            step_up_window: Duration::minutes(10),
        };
        let now = at("2026-11-24T12:00:00Z");
        let agent = Role::Staff(StaffRole::Agent);
        let member = Role::Org(OrgRole::Member);
        assert!(!policy.needs_step_up(agent, true, Some(now - Duration::minutes(9)), now));
        assert!(policy.needs_step_up(agent, true, Some(now - Duration::minutes(11)), now));
        assert!(policy.needs_step_up(agent, false, None, now), "required and never entered");
        assert!(!policy.needs_step_up(member, false, None, now), "not required, not enrolled: the password session");
        assert!(policy.needs_step_up(member, true, None, now), "enrolled: asked like everyone else");
    }
}

/// Whether `actor` may reset `target`'s second factor (after a lost phone): a manager for
/// support staff, an organisation's owner for the people of their organisation. Nobody resets
/// their own: that is what a second person is for.
pub fn may_reset_second_factor(actor: (i64, Role, Option<i64>), target: (i64, Role, Option<i64>)) -> bool {
    use crate::{OrgRole, StaffRole};
    let ((actor_id, actor_role, actor_org), (target_id, target_role, target_org)) = (actor, target);
    actor_id != target_id
        && match (actor_role, target_role) {
            (Role::Staff(StaffRole::Manager), Role::Staff(_)) => true,
            (Role::Org(OrgRole::Owner), Role::Org(_)) => actor_org.is_some() && actor_org == target_org,
            _ => false,
        }
}

crate::stored_as_text! {
    /// How far a session's sign-in has got.
    pub enum SessionStage / UnknownSessionStage ("session stage") {
        /// Signed in: the password, and the second factor when there is one.
        SignedIn = "signed_in", "Signed in";
        /// The password was right; the authenticator's code is still to come.
        AwaitingCode = "awaiting_code", "Waiting for the code";
        /// The password was right, but the role requires a second factor and none is set up:
        /// the session may only set one up (or log out).
        MustEnrol = "must_enrol", "Must set up a second factor";
    }
}
