//! The account store's actions: logging in, locking, unlocking, resetting passwords and
//! managing users. One file per action. Each takes plain values, runs its change, its audit
//! event and its emails in one transaction, and returns an outcome for the web layer to show.

pub mod api_tokens;
pub mod attempts;
pub mod login;
pub mod mfa;
pub mod password_reset;
pub mod passwords;
pub mod throttle;
pub mod unlock;
pub mod users;
pub mod verification;
