//! Puts the demo's cast in the database: the organisations and people of the roster and the
//! desk's staff, reusing any that a previous run created (found by slug and by address).
//! New people get a password no one can type; `demo::set_password` gives them a real one.

use super::roster::{Roster, ORGANISATIONS};
use crate::accounts::passwords::Passwords;
use crate::db::DbConnection;
use crate::store::bulk::{self, EventRow, UserRow};
use crate::store::orgs;
use chrono::NaiveDateTime;
use diesel::QueryResult;
use keydesk_core::{EventKind, Role};
use std::collections::HashMap;

/// Who created the demo's people, as the activity log names it.
pub const SEEDER: &str = "keydesk demo seed";

/// The database ids of the roster: `organisations[i]` for `ORGANISATIONS[i]`, `people[i]`
/// for `roster.people[i]`, `staff[i]` for `roster.staff[i]`.
#[derive(Debug, Clone)]
pub struct CastIds {
    pub organisations: Vec<i64>,
    pub people: Vec<i64>,
    pub staff: Vec<i64>,
    pub organisations_created: usize,
    pub people_created: usize,
}

/// Creates what is missing; call inside a transaction.
pub fn ensure(conn: &mut DbConnection, roster: &Roster, created_at: NaiveDateTime) -> QueryResult<CastIds> {
    let mut organisations = Vec::with_capacity(ORGANISATIONS.len());
    let mut organisations_created = 0;
    for organisation in &ORGANISATIONS {
        let id = match orgs::find_by_slug(conn, organisation.slug)? {
            Some(existing) => existing.id,
            None => {
                organisations_created += 1;
                orgs::create(conn, organisation.name, organisation.slug, organisation.policy, created_at)?.id
            }
        };
        organisations.push(id);
    }

    // (email, full name, role, organisation id) of everyone, people first, then staff.
    let everyone: Vec<(&str, &str, Role, Option<i64>)> = roster
        .people
        .iter()
        .map(|p| (p.email.as_str(), p.full_name.as_str(), Role::Org(p.role), Some(organisations[p.organisation])))
        .chain(roster.staff.iter().map(|s| (s.email.as_str(), s.full_name, Role::Staff(s.role), None)))
        .collect();
    let emails: Vec<&str> = everyone.iter().map(|e| e.0).collect();
    let existing: HashMap<String, i64> = bulk::user_ids_by_email(conn, &emails)?.into_iter().collect();
    let unusable = Passwords::unusable_hash();
    let missing: Vec<UserRow<'_>> = everyone
        .iter()
        .filter(|e| !existing.contains_key(e.0))
        .map(|&(email, full_name, role, organisation_id)| UserRow {
            organisation_id,
            email,
            full_name,
            role: role.as_str(),
            password_hash: &unusable,
            created_at,
        })
        .collect();
    bulk::insert_users(conn, &missing)?;
    let ids: HashMap<String, i64> = bulk::user_ids_by_email(conn, &emails)?.into_iter().collect();
    let id_of = |email: &str| ids.get(email).copied().ok_or(diesel::result::Error::NotFound);

    let details: Vec<String> = missing.iter().map(|u| format!("role {}", u.role)).collect();
    let created: Vec<EventRow<'_>> = missing
        .iter()
        .zip(&details)
        .map(|(user, detail)| {
            Ok(EventRow {
                at: created_at,
                action: EventKind::UserCreated,
                actor_id: None,
                actor_label: SEEDER,
                target_user_id: id_of(user.email)?,
                target_label: user.email,
                organisation_id: user.organisation_id,
                ip: None,
                detail,
            })
        })
        .collect::<QueryResult<_>>()?;
    bulk::insert_events(conn, &created)?;

    Ok(CastIds {
        organisations,
        people: roster.people.iter().map(|p| id_of(&p.email)).collect::<QueryResult<_>>()?,
        staff: roster.staff.iter().map(|s| id_of(&s.email)).collect::<QueryResult<_>>()?,
        organisations_created,
        people_created: missing.len(),
    })
}

/// Gives every demo user (organisations and staff alike) this password hash.
pub fn set_password_hash(conn: &mut DbConnection, hash: &str, now: NaiveDateTime) -> QueryResult<usize> {
    let domains: Vec<&str> = Roster::domains().collect();
    bulk::set_password_hash_for_domains(conn, &domains, hash, now)
}
