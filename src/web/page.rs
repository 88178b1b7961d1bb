//! The shared layout's context: who is signed in, the CSRF token for forms, the flash
//! message. Every page renders through `Layout::render`, so they share one navigation and
//! one way of showing messages.

use super::csrf::CsrfToken;
use super::guards::{AnySession, SignedIn};
use rocket::request::{FlashMessage, FromRequest, Outcome, Request};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

pub struct Layout {
    pub signed_in: Option<SignedIn>,
    /// Someone who typed their password but has a second factor still to type or set up:
    /// the navigation offers them only "Log out".
    halfway: Option<String>,
    csrf: CsrfToken,
    flash: Option<(String, String)>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Layout {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let signed_in = SignedIn::from_request(req).await.succeeded();
        let halfway = match &signed_in {
            Some(_) => None,
            None => AnySession::from_request(req).await.succeeded().map(|session| session.user.full_name),
        };
        let csrf = match CsrfToken::from_request(req).await {
            Outcome::Success(token) => token,
            _ => unreachable!("CsrfToken never fails"),
        };
        let flash = req
            .guard::<Option<FlashMessage<'_>>>()
            .await
            .succeeded()
            .flatten()
            .map(|f| (f.kind().to_owned(), f.message().to_owned()));
        Outcome::Success(Layout { signed_in, halfway, csrf, flash })
    }
}

impl Layout {
    /// Renders `template` with the page's own `context` (a JSON object) and the layout's.
    pub fn render(&self, template: &'static str, title: &str, context: Value) -> Template {
        let user = self.signed_in.as_ref().map(|s| {
            let role = s.user.role;
            json!({
                "id": s.user.id,
                "full_name": s.user.full_name,
                "email": s.user.email,
                "role": role.as_str(),
                "may_manage_users": role.may_manage_users(),
                "may_view_activities": role.may_view_activities(),
                "is_staff": role.is_staff(),
                "may_read_all_accounts": role.may_read_all_accounts(),
                "may_view_reports": role.may_view_reports(),
            })
        });
        let mut all = json!({
            "title": title,
            "csrf_token": self.csrf.0,
            "user": user,
            "halfway": self.halfway,
            "flash": self.flash.as_ref().map(|(kind, message)| json!({"kind": kind, "message": message})),
        });
        if let (Some(all), Value::Object(own)) = (all.as_object_mut(), context) {
            all.extend(own);
        }
        // Templates are registered as `name.html` (see `web::assets`).
        Template::render(format!("{template}.html"), all)
    }
}
