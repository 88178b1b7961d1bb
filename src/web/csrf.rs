//! CSRF protection for every form: a random token in a private cookie, repeated in a hidden
//! field, compared in constant time. `CsrfForm<T>` is the data guard every state-changing
//! form goes through, so a handler cannot forget the check. (No maintained CSRF crate
//! exists for Rocket 0.5.)

use keydesk_core::PlainToken;
use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::form::{Form, FromForm};
use rocket::http::{Cookie, RawStr, SameSite, Status};
use rocket::request::{FromRequest, Outcome, Request};
use subtle::ConstantTimeEq;

const CSRF_COOKIE: &str = "keydesk_csrf";
pub const CSRF_FIELD: &str = "csrf_token";

/// The token to put in this page's forms; issues the cookie when the visitor has none.
pub struct CsrfToken(pub String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CsrfToken {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        if let Some(cookie) = req.cookies().get_private(CSRF_COOKIE) {
            return Outcome::Success(CsrfToken(cookie.value().to_owned()));
        }
        let token = PlainToken::generate().expose().to_owned();
        let secure = req.rocket().state::<crate::app::Services>().is_some_and(|s| s.config.secure_cookies());
        let cookie = Cookie::build((CSRF_COOKIE, token.clone()))
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(secure)
            .path("/");
        req.cookies().add_private(cookie);
        Outcome::Success(CsrfToken(token))
    }
}

/// A form with no fields of its own (a confirmation button, logout).
#[derive(FromForm)]
pub struct TokenOnly {
    csrf_token: String,
}

/// A form whose CSRF token matched. Anything else is refused with 403 before the handler.
pub struct CsrfForm<T>(pub T);

#[derive(Debug)]
pub enum CsrfFormError {
    Refused,
    Invalid(String),
}

#[rocket::async_trait]
impl<'r, T> FromData<'r> for CsrfForm<T>
where
    T: for<'a> FromForm<'a> + Send + 'static,
{
    type Error = CsrfFormError;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let limit = req.limits().get("form").unwrap_or_else(|| 32.kibibytes());
        let body = match data.open(limit).into_string().await {
            Ok(body) if body.is_complete() => body.into_inner(),
            Ok(_) => {
                return data::Outcome::Error((Status::PayloadTooLarge, CsrfFormError::Invalid("form too large".into())))
            }
            Err(e) => return data::Outcome::Error((Status::BadRequest, CsrfFormError::Invalid(e.to_string()))),
        };
        let expected = req.cookies().get_private(CSRF_COOKIE).map(|c| c.value().to_owned());
        let sent = Form::<TokenOnly>::parse_encoded(RawStr::new(&body)).ok().map(|t| t.csrf_token);
        let matches = match (expected, sent) {
            (Some(expected), Some(sent)) => bool::from(expected.as_bytes().ct_eq(sent.as_bytes())),
            _ => false,
        };
        if !matches {
            return data::Outcome::Error((Status::Forbidden, CsrfFormError::Refused));
        }
        match Form::<T>::parse_encoded(RawStr::new(&body)) {
            Ok(value) => data::Outcome::Success(CsrfForm(value)),
            Err(errors) => {
                data::Outcome::Error((Status::UnprocessableEntity, CsrfFormError::Invalid(errors.to_string())))
            }
        }
    }
}
