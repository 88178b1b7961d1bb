//! Second factors on the pages: the "Security" page and setting up an authenticator (a QR
//! code drawn as inline SVG, the `otpauth://` address and the key as text, confirmed by a
//! first code, then ten recovery codes shown once); the code that finishes a sign-in; and the
//! step-up a sensitive action asks for before it carries on.

use super::csrf::{CsrfForm, TokenOnly};
use super::guards::{AnySession, ClientIp, SignedIn};
use super::page::Layout;
use crate::accounts::mfa::{self, CodeFor, CodeOutcome, Enrolled};
use crate::app::{AppError, Services};
use chrono::SubsecRound;
use keydesk_core::second_factor::SessionStage;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::State;
use rocket_dyn_templates::Template;
use serde_json::json;

/// The QR code of an `otpauth://` address, as an SVG element.
fn qr_svg(uri: &str) -> String {
    qrcode::QrCode::new(uri.as_bytes())
        .map(|code| code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(220, 220).quiet_zone(true).build())
        .unwrap_or_default()
}

/// A session still waiting for its code goes to finish signing in instead.
fn not_awaiting_code(session: &AnySession) -> Result<(), Redirect> {
    match session.stage {
        SessionStage::AwaitingCode => Err(Redirect::to("/login/code")),
        _ => Ok(()),
    }
}

#[rocket::get("/security")]
pub async fn overview(
    session: AnySession,
    layout: Layout,
    services: &State<Services>,
) -> Result<Result<Template, Redirect>, AppError> {
    if let Err(redirect) = not_awaiting_code(&session) {
        return Ok(Err(redirect));
    }
    let user = session.user.clone();
    let left = services.run(move |conn, _| Ok(crate::store::recovery_codes::unused(conn, user.id)?)).await?;
    let user = &session.user;
    Ok(Ok(layout.render(
        "security/overview",
        "Security",
        json!({
            "must_enrol": session.stage == SessionStage::MustEnrol,
            "enrolled": user.has_second_factor(),
            "enrolled_at": user.totp_enrolled_at.map(crate::queue::wording::when),
            "recovery_left": left,
            "step_up_minutes": services.config.mfa_policy().step_up_window.num_minutes(),
            "is_staff": user.role.is_staff(),
        }),
    )))
}

#[rocket::post("/security/totp/start", data = "<_form>")]
pub async fn start(_form: CsrfForm<TokenOnly>, session: AnySession) -> Result<Redirect, Redirect> {
    not_awaiting_code(&session)?;
    Ok(Redirect::to("/security/totp"))
}

#[rocket::get("/security/totp")]
pub async fn enrolment(
    session: AnySession,
    layout: Layout,
    services: &State<Services>,
) -> Result<Result<Template, Redirect>, AppError> {
    if let Err(redirect) = not_awaiting_code(&session) {
        return Ok(Err(redirect));
    }
    let user = session.user.clone();
    let enrolment = match services.run(move |conn, _| mfa::start_enrolment(conn, &user)).await {
        Err(AppError::Invalid(_)) => return Ok(Err(Redirect::to("/security"))),
        other => other?,
    };
    Ok(Ok(enrolment_page(&layout, &enrolment, None)))
}

fn enrolment_page(layout: &Layout, enrolment: &mfa::Enrolment, error: Option<&str>) -> Template {
    layout.render(
        "security/enrol",
        "Set up your authenticator app",
        json!({
            "qr_svg": qr_svg(&enrolment.otpauth_uri),
            "otpauth_uri": enrolment.otpauth_uri,
            "secret": enrolment.secret.to_base32(),
            "error": error,
        }),
    )
}

#[derive(FromForm)]
pub struct CodeForm {
    code: String,
}

#[rocket::post("/security/totp/confirm", data = "<form>")]
pub async fn confirm(
    form: CsrfForm<CodeForm>,
    session: AnySession,
    layout: Layout,
    ip: ClientIp,
    services: &State<Services>,
) -> Result<Result<Template, Redirect>, AppError> {
    if let Err(redirect) = not_awaiting_code(&session) {
        return Ok(Err(redirect));
    }
    let (user, token, code) = (session.user.clone(), session.session.clone(), form.0.code);
    let enrolled = services
        .run(move |conn, services| mfa::confirm_enrolment(conn, services, &user, &token, &code, ip.0.as_deref()))
        .await?;
    Ok(Ok(match enrolled {
        Enrolled::Done { recovery_codes } => layout.render(
            "security/recovery_codes",
            "Your recovery codes",
            json!({"recovery_codes": recovery_codes, "next": "/"}),
        ),
        Enrolled::WrongCode => {
            let user = session.user.clone();
            let enrolment = services.run(move |conn, _| mfa::start_enrolment(conn, &user)).await?;
            let error = "That is not the code the app shows now. Check the app's clock and try the next code.";
            enrolment_page(&layout, &enrolment, Some(error))
        }
    }))
}

/// The page that asks for a code: to finish signing in, or before an action.
pub struct CodePage<'a> {
    pub heading: &'a str,
    pub explanation: &'a str,
    pub action: &'a str,
    pub button: &'a str,
    /// The action's own fields, carried through the code page.
    pub fields: Vec<(&'a str, String)>,
    pub error: Option<&'a str>,
}

pub fn code_page(layout: &Layout, page: CodePage<'_>) -> Template {
    layout.render(
        "security/code",
        page.heading,
        json!({
            "heading": page.heading,
            "explanation": page.explanation,
            "action": page.action,
            "button": page.button,
            "fields": page.fields,
            "error": page.error,
        }),
    )
}

const WRONG_CODE: &str = "That code did not work. Type the code your app shows now (each code works once).";

fn sign_in_code_page(layout: &Layout, error: Option<&str>) -> Template {
    code_page(
        layout,
        CodePage {
            heading: "Enter your code",
            explanation:
                "Your password was right. To finish signing in, type the six-digit code from your authenticator app.",
            action: "/login/code",
            button: "Sign in",
            fields: vec![],
            error,
        },
    )
}

#[rocket::get("/login/code")]
pub fn sign_in_code(session: AnySession, layout: Layout) -> Result<Template, Redirect> {
    match session.stage {
        SessionStage::AwaitingCode => Ok(sign_in_code_page(&layout, None)),
        _ => Err(Redirect::to("/")),
    }
}

#[rocket::post("/login/code", data = "<form>")]
pub async fn sign_in_code_submit(
    form: CsrfForm<CodeForm>,
    session: AnySession,
    layout: Layout,
    ip: ClientIp,
    services: &State<Services>,
) -> Result<Result<Redirect, (Status, Template)>, AppError> {
    if session.stage != SessionStage::AwaitingCode {
        return Ok(Ok(Redirect::to("/")));
    }
    let (user, token, code) = (session.user, session.session, form.0.code);
    let outcome = services
        .run(move |conn, services| {
            mfa::check_second_factor(conn, services, &user, &token, &code, CodeFor::SignIn, ip.0.as_deref())
        })
        .await?;
    Ok(match outcome {
        CodeOutcome::Passed => Ok(Redirect::to("/start")),
        // A wrong code counts like a wrong password; if it locked the account, the session is
        // gone and the next request starts at the login page.
        CodeOutcome::Refused => Err((Status::Ok, sign_in_code_page(&layout, Some(WRONG_CODE)))),
    })
}

/// Before a sensitive action (unlock, verify, approve): whether the person may go ahead now,
/// or must first type a fresh code — in which case this is the page that asks, carrying the
/// action's `fields` through. `code` is what that page sent back, if anything.
pub async fn step_up(
    signed_in: &SignedIn,
    services: &Services,
    layout: &Layout,
    code: Option<String>,
    ip: Option<String>,
    action: &str,
    fields: Vec<(&str, String)>,
) -> Result<Result<(), (Status, Template)>, AppError> {
    let now = services.now();
    let enrolled = signed_in.user.has_second_factor();
    let last = signed_in.second_factor_at.map(|at| at.and_utc().trunc_subsecs(6));
    if !services.config.mfa_policy().needs_step_up(signed_in.user.role, enrolled, last, now) {
        return Ok(Ok(()));
    }
    let mut error = None;
    if let Some(code) = code.filter(|c| !c.trim().is_empty()) {
        let (user, token) = (signed_in.user.clone(), signed_in.session.clone());
        let outcome = services
            .run(move |conn, services| {
                mfa::check_second_factor(conn, services, &user, &token, &code, CodeFor::StepUp, ip.as_deref())
            })
            .await?;
        if outcome == CodeOutcome::Passed {
            return Ok(Ok(()));
        }
        error = Some(WRONG_CODE);
    }
    let page = CodePage {
        heading: "Confirm it is you",
        explanation: "Unlocking and verifying accounts, and changing who can sign in, is what impostors are after. Type a fresh code from your authenticator app and Keydesk carries on with what you asked.",
        action,
        button: "Confirm and carry on",
        fields,
        error,
    };
    Ok(Err((Status::Ok, code_page(layout, page))))
}

/// Where a request that needed a signed-in person goes (the 401 catcher asks): whoever has
/// not finished signing in, on to finish it; anyone else, to log in.
pub fn finish_sign_in(stage: Option<SessionStage>) -> Result<Flash<Redirect>, Redirect> {
    match stage {
        Some(SessionStage::AwaitingCode) => {
            Ok(Flash::warning(Redirect::to("/login/code"), "Enter your code to finish signing in."))
        }
        Some(SessionStage::MustEnrol) => {
            Ok(Flash::warning(Redirect::to("/security"), "Set up an authenticator app first: your role requires it."))
        }
        _ => Err(Redirect::to("/login")),
    }
}
