//! Argon2id password hashing with OWASP's parameters (m = 19 MiB, t = 2, p = 1).

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::PasswordHasher;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use subtle::ConstantTimeEq;

pub struct Passwords {
    argon2: Argon2<'static>,
    /// Checked against when there is no real hash to check (unknown email, locked
    /// account), so every failed login costs the same time.
    dummy_hash: String,
    memory: WorkingMemory,
    /// Verifications run by this process, real and dummy.
    verifications: AtomicU64,
}

/// Argon2's working memory (19 MiB), kept between verifications. Allocated afresh, it cost
/// each verification its page faults and zeroing — the more on a blocking thread whose
/// allocator arena held none (a login verified 10-40% slower there than on a warm thread).
/// At most one buffer per core is kept; more concurrent verifications allocate their own.
struct WorkingMemory {
    free: Mutex<Vec<Vec<Block>>>,
    keep: usize,
}

impl WorkingMemory {
    fn new() -> Self {
        let keep = std::thread::available_parallelism().map_or(2, |n| n.get());
        WorkingMemory { free: Mutex::new(Vec::new()), keep }
    }

    /// Runs `work` with at least `blocks` blocks. Every block Argon2 reads it has written in
    /// the same run, so a buffer needs no clearing between uses.
    fn with<T>(&self, blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
        let kept = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut memory = kept.filter(|m| m.len() >= blocks).unwrap_or_else(|| vec![Block::default(); blocks]);
        let result = work(&mut memory);
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if free.len() < self.keep {
            free.push(memory);
        }
        result
    }
}

impl Passwords {
    pub fn new() -> Self {
        let params = Params::new(19_456, 2, 1, None).expect("constant Argon2 parameters are valid");
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy_hash =
            argon2.hash_password(b"keydesk dummy password").expect("hashing a constant cannot fail").to_string();
        Passwords { argon2, dummy_hash, memory: WorkingMemory::new(), verifications: AtomicU64::new(0) }
    }

    pub fn hash(&self, password: &str) -> String {
        self.argon2
            .hash_password(password.as_bytes())
            .expect("Argon2 hashing with valid parameters cannot fail")
            .to_string()
    }

    /// True when `password` matches `hash`. A malformed stored hash never matches, and costs
    /// one verification all the same: an account whose owner has not chosen a password yet
    /// (`unusable_hash`) must not answer sooner than one that has, or than none at all.
    pub fn verify(&self, password: &str, hash: &str) -> bool {
        self.try_verify(password, hash).unwrap_or_else(|| {
            let _ = self.try_verify(password, &self.dummy_hash);
            false
        })
    }

    /// What `argon2`'s `PasswordVerifier` does — hash again with the stored hash's algorithm,
    /// version, parameters and salt, and compare in constant time — in kept memory. None
    /// when `hash` is not a hash this can check.
    fn try_verify(&self, password: &str, hash: &str) -> Option<bool> {
        let parsed = PasswordHash::new(hash).ok()?;
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else { return None };
        let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).ok()?;
        let version = parsed.version.map_or(Ok(Version::default()), Version::try_from).ok()?;
        let params = Params::try_from(&parsed).ok()?;
        let blocks = params.block_count();
        let argon2 = Argon2::new(algorithm, version, params);
        let mut computed = vec![0u8; expected.len()];
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let hashed = self.memory.with(blocks, |memory| {
            argon2.hash_password_into_with_memory(password.as_bytes(), salt, &mut computed, memory).is_ok()
        });
        Some(hashed && bool::from(computed.ct_eq(expected.as_bytes())))
    }

    /// Spends the time of one verification and learns nothing.
    pub fn verify_dummy(&self, password: &str) {
        let _ = self.verify(password, &self.dummy_hash);
    }

    /// How many verifications this process has run (each costs a core about 14 ms): what a
    /// refusal that should cost none can be checked against.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// A hash no password matches: for accounts whose owner will choose a password by link.
    pub fn unusable_hash() -> String {
        "!unset".to_owned()
    }
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let passwords = Passwords::new();
        let hash = passwords.hash("correct horse battery");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(passwords.verify("correct horse battery", &hash));
        assert!(!passwords.verify("wrong horse battery", &hash));
        assert!(!passwords.verify("anything", &Passwords::unusable_hash()));
    }

    #[test]
    fn a_hash_no_password_matches_costs_one_verification_like_any_other() {
        let passwords = Passwords::new();
        let hash = passwords.hash("correct horse battery");
        for stored in [hash.as_str(), &Passwords::unusable_hash(), "", "$argon2id$v=19$m=19456,t=2,p=1$cut"] {
            let before = passwords.verifications();
            assert!(!passwords.verify("guess", stored));
            assert_eq!(passwords.verifications() - before, 1, "Argon2 ran once for {stored:?}");
        }
    }

    #[test]
    fn verification_in_kept_memory_agrees_with_the_argon2_crate() {
        use argon2::password_hash::PasswordVerifier;
        let passwords = Passwords::new();
        // Other parameters and versions than Keydesk's own: what the stored hash says is used.
        let small = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(1024, 1, 1, Some(16)).unwrap());
        let old = Argon2::new(Algorithm::Argon2i, Version::V0x10, Params::new(2048, 3, 1, None).unwrap());
        let hashes = [
            passwords.hash("correct horse battery"),
            small.hash_password(b"correct horse battery").unwrap().to_string(),
            old.hash_password(b"correct horse battery").unwrap().to_string(),
        ];
        for hash in &hashes {
            let parsed = PasswordHash::new(hash).unwrap();
            for typed in ["correct horse battery", "correct horse batterz", ""] {
                let crate_says = passwords.argon2.verify_password(typed.as_bytes(), &parsed).is_ok();
                assert_eq!(passwords.verify(typed, hash), crate_says, "{typed:?} against {hash}");
            }
            assert!(passwords.verify("correct horse battery", hash));
        }
        // A tampered output or salt never matches; nor a hash cut short.
        let tampered = hashes[0].replacen("$argon2id$v=19$m=19456,t=2,p=1$", "$argon2id$v=19$m=19456,t=3,p=1$", 1);
        assert!(!passwords.verify("correct horse battery", &tampered));
        assert!(!passwords.verify("correct horse battery", &hashes[0][..hashes[0].len() - 4]));
        // Many at once share the kept buffers without mixing them up.
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| assert!(passwords.verify("correct horse battery", &hashes[0])));
                scope.spawn(|| assert!(!passwords.verify("wrong", &hashes[0])));
            }
        });
    }
}
