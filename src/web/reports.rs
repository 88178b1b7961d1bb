//! The service-hours reports: the page (managers, agents, owners, each scoped), its CSV
//! exports, and the JSON API. Each handler works out the viewer's audience, asks
//! `reports::view` for the report and shapes the answer.

use super::api::{api_error, ApiResult};
use super::guards::{ApiCaller, ReportViewer};
use super::page::Layout;
use crate::app::{AppError, Services};
use crate::reports::view::{self, Report, ReportError, ReportRequest};
use crate::reports::{export, page, Reading};
use crate::store::{self, users::User};
use keydesk_core::reports::Audience;
use rocket::http::{ContentType, Header, Status};
use rocket::serde::json::Json;
use rocket::State;
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

fn audience(user: &User) -> Option<Audience> {
    Audience::of(user.role, user.id.0, user.organisation_id)
}

fn status_of(error: &ReportError) -> Status {
    match error {
        ReportError::BadDate(_) | ReportError::Range(_) => Status::BadRequest,
        ReportError::UnknownOrganisation(_) => Status::NotFound,
        ReportError::Refused(_) => Status::Forbidden,
        ReportError::Db(_) => Status::InternalServerError,
    }
}

/// A report, or the reason there is none; database failures are a 500 with a log line.
async fn with_report<T: Send + 'static>(
    services: &Services,
    user: User,
    request: ReportRequest,
    reading: Reading,
    shape: impl FnOnce(&Report, Audience, &mut crate::db::DbConnection) -> Result<T, AppError> + Send + 'static,
) -> Result<Result<T, ReportError>, AppError> {
    let Some(audience) = audience(&user) else { return Err(AppError::Forbidden) };
    let now = services.now();
    services
        .run(move |conn, services| {
            let targets = services.config.sla.targets();
            // A second connection, when the pool has one free, reads half the history.
            let mut second = services.db.pool().try_get();
            match view::report(
                conn,
                second.as_deref_mut(),
                &services.calendar,
                targets,
                audience,
                &request,
                now,
                reading,
            ) {
                Ok(report) => Ok(Ok(shape(&report, audience, conn)?)),
                Err(ReportError::Db(error)) => Err(error.into()),
                Err(refused) => Ok(Err(refused)),
            }
        })
        .await
}

/// `breaches`: which page of the breach list (1 when absent).
#[rocket::get("/reports?<breaches>&<request..>")]
pub async fn reports_page(
    breaches: Option<u64>,
    request: ReportRequest,
    viewer: ReportViewer,
    layout: Layout,
    services: &State<Services>,
) -> Result<(Status, Template), AppError> {
    let user = viewer.0.user;
    let today = services.calendar.local_date(services.now());
    let asked = request.clone();
    let goal_percent = services.config.sla.compliance_goal;
    let context = with_report(services, user, request.clone(), Reading::Figures, move |report, audience, conn| {
        let staff = match audience {
            Audience::Everything => {
                store::users::support_staff(conn)?.into_iter().map(|u| (u.id.0, u.full_name)).collect()
            }
            _ => Vec::new(),
        };
        let organisations = match audience {
            Audience::Organisation { .. } => Vec::new(),
            _ => store::queue::organisations(conn)?.into_iter().map(|o| (o.slug, o.name)).collect(),
        };
        let options = page::PageOptions {
            today,
            staff: &staff,
            organisations: &organisations,
            goal_percent,
            breach_page: breaches,
        };
        Ok(page::context(report, audience, &asked, options))
    })
    .await?;
    match context {
        Ok(context) => Ok((Status::Ok, layout.render("reports", "Reports", context))),
        Err(error) => {
            let context = json!({"error": error.to_string(), "from": request.from, "to": request.to, "presets": [], "failed": true});
            Ok((status_of(&error), layout.render("reports", "Reports", context)))
        }
    }
}

/// A CSV download.
#[derive(rocket::Responder)]
pub struct CsvFile {
    bytes: Vec<u8>,
    content_type: ContentType,
    disposition: Header<'static>,
}

impl CsvFile {
    fn new(name: String, bytes: Vec<u8>) -> CsvFile {
        CsvFile {
            bytes,
            content_type: ContentType::CSV,
            disposition: Header::new("Content-Disposition", format!("attachment; filename=\"{name}\"")),
        }
    }
}

async fn csv(
    services: &Services,
    user: User,
    request: ReportRequest,
    kind: &'static str,
) -> Result<Result<CsvFile, (Status, String)>, AppError> {
    // The tickets' CSV lists every ticket's row, so none may stand in kept rows.
    let reading = if kind == "tickets" { Reading::EveryTicket } else { Reading::Figures };
    let file = with_report(services, user, request, reading, move |report, _, _| {
        let bytes = if kind == "tickets" { export::ticket_rows(report) } else { export::summary(report) };
        let bytes = bytes.map_err(|e| AppError::Invalid(format!("CSV: {e}")))?;
        Ok(CsvFile::new(format!("keydesk-{kind}-{}-{}.csv", report.summary.from, report.summary.to), bytes))
    })
    .await?;
    Ok(file.map_err(|error| (status_of(&error), error.to_string())))
}

#[rocket::get("/reports/tickets.csv?<request..>")]
pub async fn tickets_csv(
    request: ReportRequest,
    viewer: ReportViewer,
    services: &State<Services>,
) -> Result<Result<CsvFile, (Status, String)>, AppError> {
    csv(services, viewer.0.user, request, "tickets").await
}

#[rocket::get("/reports/summary.csv?<request..>")]
pub async fn summary_csv(
    request: ReportRequest,
    viewer: ReportViewer,
    services: &State<Services>,
) -> Result<Result<CsvFile, (Status, String)>, AppError> {
    csv(services, viewer.0.user, request, "summary").await
}

/// `GET /api/v1/reports/service-hours?from=YYYY-MM-DD&to=YYYY-MM-DD[&org=SLUG][&agent=ID]`
#[rocket::get("/reports/service-hours?<request..>")]
pub async fn service_hours(request: ReportRequest, caller: ApiCaller, services: &State<Services>) -> ApiResult {
    if audience(&caller.0).is_none() {
        return Err(api_error(Status::Forbidden, "forbidden"));
    }
    let summary = with_report(services, caller.0, request, Reading::Figures, |report, _, _| {
        Ok(serde_json::to_value(&report.summary).unwrap_or(Value::Null))
    })
    .await
    .map_err(super::api::fault)?;
    match summary {
        Ok(summary) => Ok(Json(summary)),
        Err(error) => Err((status_of(&error), Json(json!({"error": error.to_string()})))),
    }
}
