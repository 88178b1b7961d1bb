//! What every request leaves behind: a request id, on every log line written while it is
//! handled and in its `X-Request-Id` response header; one log line when it is answered; and
//! its count and duration in the metrics. All of them name the route by its template
//! (`/tickets/<number>`) — never the path asked for, which holds ids, tokens and addresses —
//! or `unmatched` when no route matched.
//!
//! The id is made here, unless a trusted proxy sent one: `X-Request-Id` is taken only when
//! `ip_header` is set (the operator says a proxy in front sets headers), and only when it
//! looks like an id.

use crate::app::Services;
use crate::metrics::route_template;
use rocket::fairing::{Fairing, Info, Kind};
use rocket::route::{Handler, Outcome, Route};
use rocket::{Data, Request, Response};
use std::time::Instant;
use tracing::Instrument;

pub const REQUEST_ID_HEADER: &str = "X-Request-Id";

/// The fairing; attached once, in `build`.
pub struct Telemetry;

/// One request's id and span, and when it arrived.
struct RequestTrace {
    id: String,
    span: tracing::Span,
    arrived: Instant,
}

impl RequestTrace {
    fn of<'r>(req: &'r Request<'_>) -> &'r RequestTrace {
        req.local_cache(|| RequestTrace::new(fresh_id()))
    }

    fn new(id: String) -> RequestTrace {
        // At the highest level, so that it is on whenever any line is written.
        let span = tracing::error_span!("request", request_id = %id);
        RequestTrace { id, span, arrived: Instant::now() }
    }
}

/// 128 random bits, as 32 hex digits.
fn fresh_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// A proxy's id, if it can be one: 1 to 128 letters, digits and `-_.:`.
fn usable_id(value: &str) -> Option<&str> {
    let fits = |c: char| c.is_ascii_alphanumeric() || "-_.:".contains(c);
    (!value.is_empty() && value.len() <= 128 && value.chars().all(fits)).then_some(value)
}

#[rocket::async_trait]
impl Fairing for Telemetry {
    fn info(&self) -> Info {
        Info { name: "Request ids, log lines and metrics", kind: Kind::Request | Kind::Response }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        let trusted = req.rocket().config().ip_header.is_some();
        let forwarded = trusted.then(|| req.headers().get_one(REQUEST_ID_HEADER).and_then(usable_id)).flatten();
        let id = forwarded.map(str::to_owned).unwrap_or_else(fresh_id);
        req.local_cache(|| RequestTrace::new(id));
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let trace = RequestTrace::of(req);
        let took = trace.arrived.elapsed();
        let (method, route, status) = (req.method().as_str(), route_template(req), res.status());
        res.set_raw_header(REQUEST_ID_HEADER, trace.id.clone());
        trace.span.in_scope(|| {
            let duration_ms = took.as_secs_f64() * 1000.0;
            if status.class().is_server_error() {
                tracing::warn!(method, route, status = status.code, duration_ms, "answered");
            } else {
                tracing::info!(method, route, status = status.code, duration_ms, "answered");
            }
        });
        if let Some(services) = req.rocket().state::<Services>() {
            services.metrics.http_request(method, route, status.code, took);
        }
    }
}

/// `routes` with each handler run inside its request's span, so that every line written while
/// handling it (guards included) carries the request id.
pub fn in_request_spans(routes: impl Into<Vec<Route>>) -> Vec<Route> {
    let mut routes = routes.into();
    for route in &mut routes {
        route.handler = Box::new(InRequestSpan(route.handler.clone()));
    }
    routes
}

#[derive(Clone)]
struct InRequestSpan(Box<dyn Handler>);

#[rocket::async_trait]
impl Handler for InRequestSpan {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        let span = RequestTrace::of(req).span.clone();
        self.0.handle(req, data).instrument(span).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxys_id_is_used_only_when_it_looks_like_one() {
        assert_eq!(usable_id("0f8fad5b-d9cb-469f-a165-70867728950e"), Some("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert_eq!(usable_id("req:42.a_b"), Some("req:42.a_b"));
        for bad in ["", "two words", "jane@example.test", "line\nbreak", &"x".repeat(129)] {
            assert_eq!(usable_id(bad), None, "{bad:?}");
        }
        assert!(fresh_id().len() == 32 && fresh_id().chars().all(|c| c.is_ascii_hexdigit()));
    }
}
