//! From a request (dates or a preset, an organisation, an agent) to a report with names:
//! what the page, the CSV export and the API share.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use keydesk_core::reports::{
    build, Audience, Preset, RangeError, ReportInput, ReportScope, ReportWindow, ScopeRefused, ServiceHours, SlaTargets,
};
use keydesk_core::BusinessCalendar;

use crate::db::DbConnection;
use crate::ids::UserId;
use crate::store;

/// What was asked for, as typed: every part optional.
#[derive(Debug, Clone, Default, rocket::FromForm, serde::Serialize)]
pub struct ReportRequest {
    pub from: Option<String>,
    pub to: Option<String>,
    /// An organisation's slug.
    pub org: Option<String>,
    pub agent: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{0} is not a date: write it as YYYY-MM-DD")]
    BadDate(String),
    #[error(transparent)]
    Range(#[from] RangeError),
    #[error("no organisation is called {0:?}")]
    UnknownOrganisation(String),
    #[error(transparent)]
    Refused(#[from] ScopeRefused),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// A report ready to show: its figures, the ids it names, and how it was scoped.
pub struct Report<'a> {
    pub input: ReportInput<'a>,
    pub summary: ServiceHours,
    pub scope: ReportScope,
    pub organisation_slug: Option<String>,
    pub names: Names,
}

/// Names for the ids a report mentions.
#[derive(Debug, Default)]
pub struct Names {
    pub agents: HashMap<i64, String>,
    pub organisations: HashMap<i64, (String, String)>,
}

impl Names {
    pub fn agent(&self, id: i64) -> String {
        self.agents.get(&id).cloned().unwrap_or_else(|| format!("user #{id} (removed)"))
    }

    pub fn organisation(&self, id: Option<i64>) -> String {
        match id {
            None => "No linked account".to_owned(),
            Some(id) => {
                self.organisations.get(&id).map_or_else(|| format!("organisation #{id}"), |(name, _)| name.clone())
            }
        }
    }
}

/// The default range when none is given: the last 30 days.
pub const DEFAULT_PRESET: Preset = Preset::Last30Days;

pub fn dates(request: &ReportRequest, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), ReportError> {
    let parse = |text: &str| text.trim().parse::<NaiveDate>().map_err(|_| ReportError::BadDate(text.to_owned()));
    let (default_from, default_to) = DEFAULT_PRESET.dates(today);
    let from = request.from.as_deref().filter(|t| !t.trim().is_empty()).map(parse).transpose()?.unwrap_or(default_from);
    let to = request.to.as_deref().filter(|t| !t.trim().is_empty()).map(parse).transpose()?.unwrap_or(default_to);
    Ok((from, to))
}

#[allow(clippy::too_many_arguments)]
pub fn report<'a>(
    conn: &mut DbConnection,
    second: Option<&mut DbConnection>,
    calendar: &'a BusinessCalendar,
    targets: SlaTargets,
    audience: Audience,
    request: &ReportRequest,
    now: DateTime<Utc>,
    reading: super::Reading,
) -> Result<Report<'a>, ReportError> {
    let (from, to) = dates(request, calendar.local_date(now))?;
    let window = ReportWindow::new(calendar, from, to, now)?;
    let organisations = store::queue::organisations(conn)?;
    let slug = request.org.as_deref().map(str::trim).filter(|slug| !slug.is_empty());
    let organisation = match slug {
        None => None,
        Some(slug) => match organisations.iter().find(|o| o.slug == slug) {
            Some(found) => Some(found.id),
            // An owner learns nothing about which other organisations exist.
            None if matches!(audience, Audience::Organisation { .. }) => {
                return Err(ScopeRefused::OtherOrganisation.into())
            }
            None => return Err(ReportError::UnknownOrganisation(slug.to_owned())),
        },
    };
    let scope = audience.scope(organisation, request.agent)?;
    let input = super::load(conn, second, calendar, targets, window, scope, reading)?;
    let summary = build(&input);
    let agent_ids: Vec<UserId> = summary.agents.iter().map(|a| a.agent_id).chain(scope.agent).map(UserId).collect();
    let names = Names {
        agents: store::queue::users_by_id(conn, &agent_ids)?.into_iter().map(|u| (u.id.0, u.full_name)).collect(),
        organisations: organisations.iter().map(|o| (o.id, (o.name.clone(), o.slug.clone()))).collect(),
    };
    let organisation_slug =
        scope.organisation.and_then(|id| names.organisations.get(&id).map(|(_, slug)| slug.clone()));
    Ok(Report { input, summary, scope, organisation_slug, names })
}

/// "1 h 05 min", "3 d 2 h", "45 s"; a dash for nothing.
pub fn duration_words(seconds: Option<i64>) -> String {
    let Some(seconds) = seconds else { return "—".to_owned() };
    let (days, hours, minutes) = (seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m:02} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// "93%"; a dash when nothing was decided.
pub fn share_words(share: Option<f64>) -> String {
    share.map_or_else(|| "—".to_owned(), |s| format!("{:.0}%", s * 100.0))
}

#[cfg(test)]
mod tests {
    use super::{duration_words, share_words};

    #[test]
    fn durations_and_shares_in_words() {
        let cases = [
            (None, "—"),
            (Some(0), "0 s"),
            (Some(45), "45 s"),
            (Some(60), "1 min"),
            (Some(3600), "1 h"),
            (Some(3900), "1 h 05 min"),
            (Some(93_600), "1 d 2 h"),
        ];
        for (seconds, words) in cases {
            assert_eq!(duration_words(seconds), words, "{seconds:?}");
        }
        assert_eq!(
            (share_words(None), share_words(Some(0.75)), share_words(Some(0.996))),
            ("—".to_owned(), "75%".to_owned(), "100%".to_owned())
        );
    }
}
