//! `GET /metrics`, for Prometheus: this process's counters and the database's shared state,
//! in the Prometheus text format. Off until `metrics.token` is set — then it is answered
//! 404, like any address Keydesk does not have — and only for `Authorization: Bearer` with
//! that token (401 otherwise; never a redirect to the login page: a scraper has no session).

use super::guards::bearer_token;
use crate::app::Services;
use crate::metrics::{SharedState, CONTENT_TYPE};
use rocket::http::{ContentType, Header, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{self, Responder, Response};
use rocket::State;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Whether the caller showed the configured token; forwards (to the 404) when there is none.
pub struct Scraper {
    authorised: bool,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Scraper {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let services = req.rocket().state::<Services>().expect("Services is managed from start-up");
        let Some(expected) = &services.config.metrics.token else { return Outcome::Forward(Status::NotFound) };
        let given = bearer_token(req).unwrap_or("");
        // Compared as digests, in constant time: neither the token's bytes nor its length
        // can be learnt from how long a refusal takes.
        let authorised = Sha256::digest(given.as_bytes()).ct_eq(&Sha256::digest(expected.0.as_bytes())).into();
        Outcome::Success(Scraper { authorised })
    }
}

/// What a scrape is answered with.
pub enum Scrape {
    Metrics(String),
    Unauthorized,
    /// The database could not be read: no half-true figures.
    Unavailable,
}

impl<'r> Responder<'r, 'static> for Scrape {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Response::build();
        let body = match self {
            Scrape::Metrics(text) => {
                response.raw_header("Content-Type", CONTENT_TYPE);
                text
            }
            Scrape::Unauthorized => {
                response.status(Status::Unauthorized).header(ContentType::Plain);
                response.header(Header::new("WWW-Authenticate", "Bearer"));
                "a valid bearer token is required\n".to_owned()
            }
            Scrape::Unavailable => {
                response.status(Status::ServiceUnavailable).header(ContentType::Plain);
                "the database could not be read\n".to_owned()
            }
        };
        response.sized_body(body.len(), std::io::Cursor::new(body)).ok()
    }
}

#[rocket::get("/metrics")]
pub async fn metrics(scraper: Scraper, services: &State<Services>) -> Scrape {
    if !scraper.authorised {
        return Scrape::Unauthorized;
    }
    let now = services.stored_now();
    match services.db.run(move |conn| Ok::<_, crate::db::DbError>(SharedState::read(conn, now)?)).await {
        Ok(shared) => Scrape::Metrics(services.metrics.encode(&shared)),
        Err(error) => {
            tracing::error!("metrics: reading the shared state: {error}");
            Scrape::Unavailable
        }
    }
}
