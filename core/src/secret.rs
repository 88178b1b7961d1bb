//! Secrets handed to people (session ids, API tokens, reset links, PINs). Only their hashes
//! are stored, so a copy of the database lets nobody log in or unlock.

use rand::{rngs::OsRng, Rng, RngCore};
use sha2::{Digest, Sha256};
use std::fmt;

/// A random secret as given to its holder: 32 bytes, URL-safe hex.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainToken(String);

/// What is stored: the SHA-256 of the plain token (the tokens are random and long, so a
/// fast hash suffices; passwords get Argon2id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedToken(pub String);

impl PlainToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        PlainToken(hex::encode(bytes))
    }

    /// Wraps a token received from a client.
    pub fn from_client(value: &str) -> Self {
        PlainToken(value.trim().to_owned())
    }

    pub fn hashed(&self) -> HashedToken {
        HashedToken(sha256_hex(self.0.as_bytes()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Never print a secret by accident.
impl fmt::Debug for PlainToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainToken(..)")
    }
}

/// A six-digit PIN. Its hash is salted with the id of the challenge it answers, so that the
/// same PIN never hashes alike twice; tries and expiry bound guessing.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

impl Pin {
    pub const DIGITS: usize = 6;

    pub fn generate() -> Self {
        Pin(format!("{:06}", OsRng.gen_range(0..1_000_000u32)))
    }

    /// A PIN as typed: spaces are forgiven, anything but six digits is not a PIN.
    pub fn from_input(input: &str) -> Option<Self> {
        let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        (digits.len() == Self::DIGITS && digits.chars().all(|c| c.is_ascii_digit())).then_some(Pin(digits))
    }

    pub fn hashed(&self, salt: &str) -> HashedToken {
        HashedToken(sha256_hex(format!("{salt}:{}", self.0).as_bytes()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(..)")
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hash_stably() {
        let a = PlainToken::generate();
        let b = PlainToken::generate();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 64);
        assert_eq!(a.hashed(), PlainToken::from_client(a.expose()).hashed());
        assert_ne!(a.hashed().0, a.expose());
        assert_eq!(format!("{a:?}"), "PlainToken(..)");
    }

    #[test]
    fn pins_are_six_digits() {
        for _ in 0..100 {
            let pin = Pin::generate();
            assert_eq!(pin.expose().len(), 6);
            assert!(Pin::from_input(pin.expose()).is_some());
        }
        assert_eq!(Pin::from_input(" 693 029 ").unwrap().expose(), "693029");
        for bad in ["", "12345", "1234567", "12a456"] {
            assert!(Pin::from_input(bad).is_none(), "{bad:?}");
        }
        let pin = Pin::from_input("693029").unwrap();
        assert_ne!(pin.hashed("1"), pin.hashed("2"));
    }
}

/// What a new password must satisfy. Length is what matters (NIST SP 800-63B); no
/// composition rules.
pub fn check_new_password(password: &str) -> Result<(), &'static str> {
    let length = password.chars().count();
    if length < 10 {
        Err("use at least 10 characters")
    } else if length > 512 {
        Err("use at most 512 characters")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod password_tests {
    #[test]
    fn new_passwords_need_ten_characters() {
        assert!(super::check_new_password("short").is_err());
        assert!(super::check_new_password("ten chars!").is_ok());
        assert!(super::check_new_password(&"x".repeat(513)).is_err());
    }
}
