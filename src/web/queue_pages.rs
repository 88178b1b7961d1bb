//! The agents' pages: the queue (oldest first, filtered) and one ticket with its thread,
//! checks, history and the actions that work it. Agents and managers only. Each action is a
//! form answered with a flash back on the ticket; a refusal is an error flash with its reason.

use super::csrf::{CsrfForm, TokenOnly};
use super::guards::{Agent, ClientIp};
use super::page::Layout;
use super::security::step_up;
use crate::app::{AppError, Services};
use crate::ids::TicketNumber;
use crate::queue::approve::ApproveOutcome;
use crate::queue::listing::{self, QueueForm, QueueQuery};
use crate::queue::unlock::TicketUnlock;
use crate::queue::verify::VerifyOutcome;
use crate::queue::wording::sentence;
use crate::queue::work;
use keydesk_core::verification::VerificationMethod;
use keydesk_core::TicketStatus;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::State;
use rocket_dyn_templates::Template;
use serde_json::json;

#[derive(FromForm, Default)]
pub struct QueueParams {
    status: Option<String>,
    org: Option<String>,
    verified: Option<String>,
    hours: Option<String>,
    mine: Option<String>,
    q: Option<String>,
    sort: Option<String>,
}

#[rocket::get("/queue?<params..>")]
pub async fn queue(
    params: QueueParams,
    agent: Agent,
    layout: Layout,
    services: &State<Services>,
) -> Result<Template, AppError> {
    fn text(value: &Option<String>) -> &str {
        value.as_deref().unwrap_or_default()
    }
    let query = QueueQuery::from_form(&QueueForm {
        status: text(&params.status),
        organisation: text(&params.org),
        verified: text(&params.verified),
        hours: text(&params.hours),
        mine: text(&params.mine),
        q: text(&params.q),
        sort: text(&params.sort),
    });
    let me = agent.0.user;
    let filters = query.form_values();
    let now = services.now();
    let queue = services.run(move |conn, services| listing::queue(conn, services, &me, &query, now)).await?;
    Ok(layout.render(
        "queue/list",
        "Queue",
        json!({
            "rows": queue.rows,
            "matched": queue.matched,
            "max_rows": listing::MAX_ROWS,
            "organisations": queue.organisations,
            "statuses": TicketStatus::ALL.iter().map(|s| json!({"value": s, "label": s.label()})).collect::<Vec<_>>(),
            "filters": filters,
            "hours": services.calendar.describe_hours(),
        }),
    ))
}

/// The ticket page; `?canned=<id>` fills the reply box with that canned reply (the way it
/// works without JavaScript).
#[rocket::get("/tickets/<number>?<canned>")]
pub async fn ticket(
    number: TicketNumber,
    canned: Option<i64>,
    agent: Agent,
    layout: Layout,
    services: &State<Services>,
) -> Result<Template, AppError> {
    ticket_page(number, agent, layout, services, Draft { canned, ..Draft::default() }).await
}

/// What the reply box holds when the page is shown again.
#[derive(Default)]
struct Draft {
    canned: Option<i64>,
    text: Option<String>,
    /// Why the reply was not sent (the thread moved on meanwhile).
    warning: Option<String>,
}

async fn ticket_page(
    number: TicketNumber,
    agent: Agent,
    layout: Layout,
    services: &State<Services>,
    draft: Draft,
) -> Result<Template, AppError> {
    let me = agent.0.user;
    let now = services.now();
    let canned = draft.canned;
    let view = services
        .run(move |conn, services| {
            let view = crate::queue::ticket_view::ticket_view(conn, services, &me, number, canned, now)?;
            crate::queue::presence::seen(conn, number, me.id, now)?;
            Ok(view)
        })
        .await?;
    Ok(layout.render(
        "queue/ticket",
        &format!("Ticket #{number}"),
        json!({"ticket": view, "draft": draft.text, "reply_warning": draft.warning}),
    ))
}

/// Who else has the ticket open, and its newest message id (the page's poll).
#[rocket::get("/tickets/<number>/presence")]
pub async fn presence(
    number: TicketNumber,
    agent: Agent,
    services: &State<Services>,
) -> Result<rocket::serde::json::Json<crate::queue::presence::Presence>, AppError> {
    let me = agent.0.user;
    let now = services.now();
    let found = services.run(move |conn, _| crate::queue::presence::poll(conn, number, me.id, now)).await?;
    Ok(rocket::serde::json::Json(found))
}

/// The most urgent open ticket after `after` (the "Next ticket" link): by next step, then
/// oldest, preferring the viewer's own and unassigned ones; the queue when none is left.
#[rocket::get("/queue/next?<after>")]
pub async fn next_ticket(after: Option<i64>, agent: Agent, services: &State<Services>) -> Result<Redirect, AppError> {
    let me = agent.0.user;
    let now = services.now();
    let next = services
        .run(move |conn, services| {
            let queue = listing::queue(conn, services, &me, &QueueQuery::default(), now)?;
            // Tickets someone can move on now: not those waiting on the user.
            let waiting = ["waiting_on_user", "awaiting_mailbox_confirmation"];
            let others =
                || queue.rows.iter().filter(|r| Some(r.number.0) != after && !waiting.contains(&r.next_step.code));
            Ok(others()
                .find(|r| r.assigned_to_me || r.assignee.is_none())
                .or_else(|| others().next())
                .map(|r| r.number))
        })
        .await?;
    Ok(match next {
        Some(number) => Redirect::to(format!("/tickets/{number}")),
        None => Redirect::to("/queue"),
    })
}

/// One of a ticket's attachments, as a download (never shown inline: see `download`).
#[rocket::get("/tickets/<number>/attachments/<id>")]
pub async fn attachment(
    number: TicketNumber,
    id: i64,
    _agent: Agent,
    services: &State<Services>,
) -> Result<super::download::Download, AppError> {
    let found = services.run(move |conn, _| Ok(crate::store::attachments::download(conn, number, id)?)).await?;
    let (listed, bytes) = found.ok_or(AppError::NotFound)?;
    Ok(super::download::Download::new(bytes, &listed.filename, &listed.content_type))
}

fn back(number: TicketNumber) -> Redirect {
    Redirect::to(format!("/tickets/{number}"))
}

/// A refusal the agent can act on (`Invalid`) is an error flash; anything else propagates.
fn refusal_as_flash(
    number: TicketNumber,
    result: Result<Flash<Redirect>, AppError>,
) -> Result<Flash<Redirect>, AppError> {
    match result {
        Err(AppError::Invalid(reason)) => Ok(Flash::error(back(number), sentence(&reason))),
        other => other,
    }
}

#[rocket::post("/tickets/<number>/take", data = "<_form>")]
pub async fn take(
    number: TicketNumber,
    _form: CsrfForm<TokenOnly>,
    agent: Agent,
    services: &State<Services>,
) -> Result<Flash<Redirect>, AppError> {
    let me = agent.0.user;
    services.run(move |conn, services| work::take(conn, services, &me, number)).await?;
    Ok(Flash::success(back(number), format!("Ticket #{number} is assigned to you.")))
}

#[derive(FromForm)]
pub struct TextForm {
    text: String,
}

#[rocket::post("/tickets/<number>/note", data = "<form>")]
pub async fn note(
    number: TicketNumber,
    form: CsrfForm<TextForm>,
    agent: Agent,
    services: &State<Services>,
) -> Result<Flash<Redirect>, AppError> {
    let me = agent.0.user;
    let text = form.0.text;
    let result = services.run(move |conn, services| work::add_note(conn, services, &me, number, &text)).await;
    refusal_as_flash(
        number,
        result.map(|_| Flash::success(back(number), "Internal note added. The user does not see it.")),
    )
}

#[derive(FromForm)]
pub struct ReplyForm {
    text: String,
    /// The newest message id of the thread the agent read (the stale-reply check).
    seen_last: Option<i64>,
}

/// Sends a reply, or, when the thread moved on since the page was loaded, shows the page
/// again (409) with the draft kept and a warning, and sends nothing.
#[rocket::post("/tickets/<number>/reply", data = "<form>")]
pub async fn reply(
    number: TicketNumber,
    form: CsrfForm<ReplyForm>,
    agent: Agent,
    layout: Layout,
    services: &State<Services>,
) -> Result<Result<Flash<Redirect>, (Status, Template)>, AppError> {
    let me = agent.0.user.clone();
    let ReplyForm { text, seen_last } = form.0;
    let draft = text.clone();
    let result = services
        .run(move |conn, services| {
            let outcome = work::reply(conn, services, &me, number, &text, seen_last)?;
            Ok((outcome, crate::queue::ticket(conn, number)?.sender))
        })
        .await;
    match result {
        Ok((work::ReplyOutcome::ThreadMoved { newest_from, .. }, _)) => {
            let warning = format!(
                "Not sent: {newest_from} added to the thread after you opened this ticket. Read the newest message below, then send your reply again."
            );
            let page = ticket_page(
                number,
                agent,
                layout,
                services,
                Draft { text: Some(draft), warning: Some(warning), canned: None },
            )
            .await?;
            Ok(Err((Status::Conflict, page)))
        }
        Ok((work::ReplyOutcome::Sent, to)) => Ok(Ok(Flash::success(back(number), format!("Reply sent to {to}.")))),
        Err(error) => refusal_as_flash(number, Err(error)).map(Ok),
    }
}

#[rocket::post("/tickets/<number>/challenge", data = "<_form>")]
pub async fn challenge(
    number: TicketNumber,
    _form: CsrfForm<TokenOnly>,
    agent: Agent,
    services: &State<Services>,
) -> Result<Flash<Redirect>, AppError> {
    let me = agent.0.user;
    let result = services.run(move |conn, services| crate::queue::challenge::send(conn, services, &me, number)).await;
    refusal_as_flash(
        number,
        result.map(|to| {
            Flash::success(
                back(number),
                format!(
                    "Mailbox challenge sent to the registered address {to}. The ticket shows \"Mailbox confirmed\" once they follow the link."
                ),
            )
        }),
    )
}

#[derive(FromForm)]
pub struct VerifyForm {
    method: String,
    note: String,
    /// A fresh second factor, when the step-up page asked for one.
    code: Option<String>,
}

/// The answer of an action that may first ask for a fresh second factor.
type SteppedUp = Result<Result<Flash<Redirect>, (Status, Template)>, AppError>;

#[rocket::post("/tickets/<number>/verify", data = "<form>")]
pub async fn verify(
    number: TicketNumber,
    form: CsrfForm<VerifyForm>,
    agent: Agent,
    layout: Layout,
    ip: ClientIp,
    services: &State<Services>,
) -> SteppedUp {
    let VerifyForm { method, note, code } = form.0;
    let action = format!("/tickets/{number}/verify");
    let fields = vec![("method", method.clone()), ("note", note.clone())];
    if let Err(ask) = step_up(&agent.0, services, &layout, code, ip.0, &action, fields).await? {
        return Ok(Err(ask));
    }
    let me = agent.0.user;
    let words = method.parse::<VerificationMethod>().map_or("other", |m| m.label());
    let result = services
        .run(move |conn, services| crate::queue::verify::verify(conn, services, &me, number, &method, &note))
        .await;
    let flash = refusal_as_flash(
        number,
        result.map(|outcome| match outcome {
            VerifyOutcome::Verified => Flash::success(back(number), format!("Verified ({words}).")),
            VerifyOutcome::AlreadyVerified => {
                Flash::warning(back(number), "This ticket was verified already: nothing changed.")
            }
            VerifyOutcome::Refused(refusal) => {
                Flash::error(back(number), format!("Not verified. {}", sentence(&refusal.to_string())))
            }
        }),
    )?;
    Ok(Ok(flash))
}

#[rocket::post("/tickets/<number>/waiting", data = "<_form>")]
pub async fn waiting(
    number: TicketNumber,
    _form: CsrfForm<TokenOnly>,
    agent: Agent,
    services: &State<Services>,
) -> Result<Flash<Redirect>, AppError> {
    let me = agent.0.user;
    let result = services.run(move |conn, services| work::mark_waiting(conn, services, &me, number)).await;
    refusal_as_flash(number, result.map(|_| Flash::success(back(number), "Marked as waiting on the user.")))
}

#[derive(FromForm)]
pub struct ResolveForm {
    note: Option<String>,
}

#[rocket::post("/tickets/<number>/resolve", data = "<form>")]
pub async fn resolve(
    number: TicketNumber,
    form: CsrfForm<ResolveForm>,
    agent: Agent,
    services: &State<Services>,
) -> Result<Flash<Redirect>, AppError> {
    let me = agent.0.user;
    let note = form.0.note.unwrap_or_default();
    let resolved = services.run(move |conn, services| work::resolve(conn, services, &me, number, &note)).await?;
    Ok(match resolved {
        true => Flash::success(back(number), format!("Ticket #{number} resolved.")),
        false => Flash::warning(back(number), format!("Ticket #{number} was resolved already: nothing changed.")),
    })
}

#[derive(FromForm)]
pub struct StepUpForm {
    code: Option<String>,
}

#[rocket::post("/tickets/<number>/unlock", data = "<form>")]
pub async fn unlock(
    number: TicketNumber,
    form: CsrfForm<StepUpForm>,
    agent: Agent,
    layout: Layout,
    ip: ClientIp,
    services: &State<Services>,
) -> SteppedUp {
    let action = format!("/tickets/{number}/unlock");
    if let Err(ask) = step_up(&agent.0, services, &layout, form.0.code, ip.0, &action, vec![]).await? {
        return Ok(Err(ask));
    }
    let me = agent.0.user;
    let outcome = services
        .run(move |conn, services| {
            crate::queue::unlock::unlock(conn, services, &me, number, crate::metrics::UnlockSource::Helpdesk)
        })
        .await?;
    Ok(Ok(match outcome {
        TicketUnlock::Unlocked => Flash::success(
            back(number),
            "Account unlocked and ticket resolved. We have emailed the user to reset their password with Forgot Password.",
        ),
        TicketUnlock::Refused(refusal) => {
            Flash::error(back(number), format!("Not unlocked. {}", refusal.message(&services.calendar)))
        }
    }))
}

#[derive(FromForm)]
pub struct ApproveForm {
    note: String,
    code: Option<String>,
}

/// A manager approves an unlock that needs a second person.
#[rocket::post("/tickets/<number>/approve", data = "<form>")]
pub async fn approve(
    number: TicketNumber,
    form: CsrfForm<ApproveForm>,
    agent: Agent,
    layout: Layout,
    ip: ClientIp,
    services: &State<Services>,
) -> SteppedUp {
    let ApproveForm { note, code } = form.0;
    let action = format!("/tickets/{number}/approve");
    if let Err(ask) = step_up(&agent.0, services, &layout, code, ip.0, &action, vec![("note", note.clone())]).await? {
        return Ok(Err(ask));
    }
    let me = agent.0.user;
    let outcome =
        services.run(move |conn, services| crate::queue::approve::approve(conn, services, &me, number, &note)).await?;
    Ok(Ok(match outcome {
        ApproveOutcome::Approved => Flash::success(back(number), "Unlock approved. An agent may unlock it now."),
        ApproveOutcome::Refused(refusal) => {
            Flash::error(back(number), format!("Not approved. {}", sentence(&refusal.to_string())))
        }
    }))
}
