//! Typed ids for what crosses module boundaries — a ticket's number, a user's id, an intake
//! ledger row — so one can never be passed where another is meant. Each is stored as the
//! database's integer (through `diesel-derive-newtype`), serialised as a plain number, and
//! read from a route's path segment (`FromParam`), where anything but a positive number is
//! simply not a match (404).

use diesel_derive_newtype::DieselNewType;
use rocket::request::FromParam;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, DieselNewType, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl<'a> FromParam<'a> for $name {
            type Error = &'a str;
            fn from_param(param: &'a str) -> Result<Self, Self::Error> {
                match param.parse::<i64>() {
                    Ok(id) if id > 0 => Ok($name(id)),
                    _ => Err(param),
                }
            }
        }
    };
}

typed_id!(
    /// A ticket's number, as its subject tag `[#N]` and its page `/tickets/N` show it.
    TicketNumber
);
typed_id!(
    /// A person's account.
    UserId
);
typed_id!(
    /// A row of the intake ledger: one message taken in.
    LedgerId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_positive_numbers_are_ids() {
        assert_eq!(TicketNumber::from_param("42"), Ok(TicketNumber(42)));
        for bad in ["0", "-1", "4.2", "42abc", "", "99999999999999999999"] {
            assert!(TicketNumber::from_param(bad).is_err(), "{bad:?}");
        }
        assert_eq!(serde_json::to_string(&UserId(7)).unwrap(), "7");
        assert_eq!(TicketNumber(42).to_string(), "42");
    }
}
