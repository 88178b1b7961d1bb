//! Closed sets stored as text. The core's enums read themselves back from a `String`
//! (`TryFrom<String>`), so a non-null column needs only `#[diesel(deserialize_as = String)]`;
//! a nullable one reads through [`OptionalText`]. An unknown stored name fails the read with
//! the enum's own error — never a silent default. Writes store `as_str()`.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromStaticSqlRow, Queryable};
use diesel::sql_types::{Nullable, Text};
use std::str::FromStr;

/// A nullable text column on its way to an `Option` of a closed set:
/// `#[diesel(deserialize_as = OptionalText)] pub method: Option<VerificationMethod>`.
pub struct OptionalText(Option<String>);

impl<DB> Queryable<Nullable<Text>, DB> for OptionalText
where
    DB: Backend,
    Option<String>: FromStaticSqlRow<Nullable<Text>, DB>,
{
    type Row = Option<String>;

    fn build(row: Option<String>) -> deserialize::Result<Self> {
        Ok(OptionalText(row))
    }
}

impl<T> TryFrom<OptionalText> for Option<T>
where
    T: FromStr,
{
    type Error = T::Err;

    fn try_from(text: OptionalText) -> Result<Self, Self::Error> {
        text.0.map(|text| text.parse()).transpose()
    }
}
