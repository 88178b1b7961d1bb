//! Argon2id password hashing with OWASP's parameters (m = 19 MiB, t = 2, p = 1).

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

pub struct Passwords {
    argon2: Argon2<'static>,
    /// Checked against when there is no real hash to check (unknown email, locked
    /// account), so every failed login costs the same time.
    dummy_hash: String,
}

impl Passwords {
    pub fn new() -> Self {
        let params = Params::new(19_456, 2, 1, None).expect("constant Argon2 parameters are valid");
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy_hash =
            argon2.hash_password(b"keydesk dummy password").expect("hashing a constant cannot fail").to_string();
        Passwords { argon2, dummy_hash }
    }

    pub fn hash(&self, password: &str) -> String {
        self.argon2
            .hash_password(password.as_bytes())
            .expect("Argon2 hashing with valid parameters cannot fail")
            .to_string()
    }

    /// True when `password` matches `hash`. A malformed stored hash never matches.
    pub fn verify(&self, password: &str, hash: &str) -> bool {
        PasswordHash::new(hash).is_ok_and(|parsed| self.argon2.verify_password(password.as_bytes(), &parsed).is_ok())
    }

    /// Spends the time of one verification and learns nothing.
    pub fn verify_dummy(&self, password: &str) {
        let _ = self.verify(password, &self.dummy_hash);
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
}
