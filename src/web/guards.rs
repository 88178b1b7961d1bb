//! Request guards: who is asking (session cookie or API token), from where, and with which
//! role. Role guards are built on `SignedIn`, so every page states its audience in its
//! signature.

use crate::app::Services;
use crate::store::{self, users::User};
use chrono::NaiveDateTime;
use keydesk_core::second_factor::SessionStage;
use keydesk_core::{PlainToken, Role};
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::time::Duration as CookieDuration;

pub const SESSION_COOKIE: &str = "keydesk_session";

/// The client's address, as Rocket sees it (set `ip_header` behind a proxy).
pub struct ClientIp(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientIp {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(ClientIp(req.client_ip().map(|ip| ip.to_string())))
    }
}

fn services<'r>(req: &'r Request<'_>) -> &'r Services {
    req.rocket().state::<Services>().expect("Services is managed from start-up")
}

/// A session cookie's session, at whatever stage of its sign-in: for the pages that finish
/// one (the authenticator's code, setting one up) and for logging out.
#[derive(Clone)]
pub struct AnySession {
    pub user: User,
    pub session: PlainToken,
    pub stage: SessionStage,
    pub second_factor_at: Option<NaiveDateTime>,
}

/// The request's session, looked up once however many guards ask.
struct CachedSession(Result<Option<AnySession>, String>);

async fn session_of<'r>(req: &'r Request<'_>) -> &'r Result<Option<AnySession>, String> {
    &req.local_cache_async(async {
        let Some(cookie) = req.cookies().get_private(SESSION_COOKIE) else { return CachedSession(Ok(None)) };
        let session = PlainToken::from_client(cookie.value());
        let hashed = session.hashed();
        let now = services(req).stored_now();
        let found = services(req)
            .db
            .run(move |conn| {
                let Some(stored) = store::sessions::find(conn, &hashed, now)? else { return Ok(None) };
                Ok::<_, crate::db::DbError>(store::users::find(conn, stored.user_id)?.map(|user| (user, stored)))
            })
            .await;
        CachedSession(match found {
            Ok(Some((user, stored))) => {
                Ok(Some(AnySession { user, session, stage: stored.stage, second_factor_at: stored.second_factor_at }))
            }
            Ok(None) => {
                req.cookies().remove_private(SESSION_COOKIE);
                Ok(None)
            }
            Err(error) => Err(error.to_string()),
        })
    })
    .await
    .0
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AnySession {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match session_of(req).await {
            Ok(Some(session)) => Outcome::Success(session.clone()),
            Ok(None) => Outcome::Error((Status::Unauthorized, ())),
            Err(error) => {
                tracing::error!("session lookup: {error}");
                Outcome::Error((Status::InternalServerError, ()))
            }
        }
    }
}

/// Where a session that has not finished signing in is sent instead of the page it asked
/// for (read by the 401 catcher).
pub struct UnfinishedSignIn(pub Option<SessionStage>);

/// A person signed in through the login page, second factor and all.
pub struct SignedIn {
    pub user: User,
    pub session: PlainToken,
    /// When this session last passed a second factor (for step-up).
    pub second_factor_at: Option<NaiveDateTime>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SignedIn {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match AnySession::from_request(req).await {
            Outcome::Success(AnySession { user, session, stage: SessionStage::SignedIn, second_factor_at }) => {
                Outcome::Success(SignedIn { user, session, second_factor_at })
            }
            Outcome::Success(unfinished) => {
                req.local_cache(|| UnfinishedSignIn(Some(unfinished.stage)));
                Outcome::Error((Status::Unauthorized, ()))
            }
            Outcome::Error(e) => Outcome::Error(e),
            Outcome::Forward(f) => Outcome::Forward(f),
        }
    }
}

/// Sets the session cookie: private (encrypted and signed), HttpOnly, SameSite=Lax (so the
/// link in an email still arrives signed in), Secure when served over https.
pub fn start_session(cookies: &CookieJar<'_>, services: &Services, session: &PlainToken) {
    let cookie = Cookie::build((SESSION_COOKIE, session.expose().to_owned()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(services.config.secure_cookies())
        .path("/")
        .max_age(CookieDuration::seconds(i64::try_from(services.config.session_ttl.as_secs()).unwrap_or(43_200)));
    cookies.add_private(cookie);
}

macro_rules! role_guard {
    ($(#[$doc:meta])* $name:ident, $allowed:expr) => {
        $(#[$doc])*
        pub struct $name(pub SignedIn);

        #[rocket::async_trait]
        impl<'r> FromRequest<'r> for $name {
            type Error = ();
            async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
                let allowed: fn(Role) -> bool = $allowed;
                match SignedIn::from_request(req).await {
                    Outcome::Success(signed_in) if allowed(signed_in.user.role) => Outcome::Success($name(signed_in)),
                    Outcome::Success(_) => Outcome::Error((Status::Forbidden, ())),
                    Outcome::Error(e) => Outcome::Error(e),
                    Outcome::Forward(f) => Outcome::Forward(f),
                }
            }
        }
    };
}

role_guard!(
    /// An organisation's admin or owner: Manage Users.
    UserManager,
    Role::may_manage_users
);
role_guard!(
    /// Whoever may read an activity log: their organisation's, or all for agents and managers.
    ActivityViewer,
    Role::may_view_activities
);

role_guard!(
    /// Support staff: agents, managers and operators.
    Staff,
    Role::is_staff
);

role_guard!(
    /// Agents and managers: the queue, its tickets and everyone's accounts.
    Agent,
    Role::may_read_all_accounts
);

role_guard!(
    /// Support's managers: approvals, the staff and their second factors.
    Manager,
    |role| role == Role::Staff(keydesk_core::StaffRole::Manager)
);

role_guard!(
    /// Managers, agents and organisation owners: the service-hours reports, each scoped.
    ReportViewer,
    Role::may_view_reports
);

/// The token of an `Authorization: Bearer TOKEN` header, if the request has one.
pub fn bearer_token<'r>(req: &'r Request<'_>) -> Option<&'r str> {
    req.headers().get_one("Authorization").and_then(|h| h.strip_prefix("Bearer "))
}

/// A staff member calling the JSON API with `Authorization: Bearer TOKEN`.
pub struct ApiCaller(pub User);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ApiCaller {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let Some(token) = bearer_token(req) else {
            return Outcome::Error((Status::Unauthorized, ()));
        };
        let token = PlainToken::from_client(token);
        // A token speaks for its user only while the user is unlocked, still exists and still
        // has the role it was issued for, and until it expires or is revoked.
        let found = services(req)
            .run(move |conn, services| crate::accounts::api_tokens::user_for(conn, services, &token))
            .await;
        match found {
            Ok(Some(user)) => Outcome::Success(ApiCaller(user)),
            Ok(None) => Outcome::Error((Status::Unauthorized, ())),
            Err(error) => {
                tracing::error!("API token lookup: {error}");
                Outcome::Error((Status::InternalServerError, ()))
            }
        }
    }
}

/// A staff member whose role may read everyone's accounts and tickets (agents and managers),
/// calling the JSON API. Every API route asks for this guard, so none can forget the
/// check; an operator's token gets 403 (`{"error": "forbidden"}` from the API catcher).
pub struct ApiAgent(pub User);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ApiAgent {
    type Error = ();
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match ApiCaller::from_request(req).await {
            Outcome::Success(ApiCaller(user)) if user.role.may_read_all_accounts() => Outcome::Success(ApiAgent(user)),
            Outcome::Success(_) => Outcome::Error((Status::Forbidden, ())),
            Outcome::Error(e) => Outcome::Error(e),
            Outcome::Forward(f) => Outcome::Forward(f),
        }
    }
}
