//! What every request leaves behind: its count and duration in the metrics, labelled by the
//! route's template (`/tickets/<number>`) — never the path asked for, which holds ids, tokens
//! and addresses — or `unmatched` when no route matched.

use crate::app::Services;
use crate::metrics::UNMATCHED_ROUTE;
use rocket::fairing::{Fairing, Info, Kind};
use rocket::{Data, Request, Response};
use std::time::Instant;

/// The fairing; attached once, in `build`.
pub struct Telemetry;

/// When the request arrived.
struct Arrived(Instant);

/// The matched route's template, or [`UNMATCHED_ROUTE`].
pub fn route_template<'r>(req: &'r Request<'_>) -> &'r str {
    req.route().map_or(UNMATCHED_ROUTE, |route| route.uri.path())
}

#[rocket::async_trait]
impl Fairing for Telemetry {
    fn info(&self) -> Info {
        Info { name: "Request metrics", kind: Kind::Request | Kind::Response }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        req.local_cache(|| Arrived(Instant::now()));
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let took = req.local_cache(|| Arrived(Instant::now())).0.elapsed();
        if let Some(services) = req.rocket().state::<Services>() {
            services.metrics.http_request(req.method().as_str(), route_template(req), res.status().code, took);
        }
    }
}
