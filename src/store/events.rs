//! The activity log. Entries are written in the same transaction as the change they record.

use crate::db::schema::events;
use crate::db::{self, DbConnection, Write};
use crate::ids::UserId;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use keydesk_core::events::one_line;
use keydesk_core::EventKind;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct Event {
    pub id: i64,
    pub at: NaiveDateTime,
    #[diesel(deserialize_as = String)]
    pub action: EventKind,
    pub actor_id: Option<UserId>,
    pub actor_label: String,
    pub target_user_id: Option<UserId>,
    pub target_label: String,
    pub organisation_id: Option<i64>,
    pub ip: Option<String>,
    pub detail: String,
}

/// Who did it: a signed-in person, or Keydesk itself (lockout, lock expiry).
#[derive(Debug, Clone)]
pub enum Actor {
    User {
        id: UserId,
        email: String,
    },
    /// Someone not signed in, named by what they typed (a login form's email).
    Anonymous {
        typed: String,
    },
    System(&'static str),
}

impl Actor {
    /// A signed-in person acting.
    pub fn user(user: &super::users::User) -> Actor {
        Actor::User { id: user.id, email: user.email.clone() }
    }
}

#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub at: NaiveDateTime,
    pub kind: EventKind,
    pub actor: &'a Actor,
    pub target_user_id: Option<UserId>,
    pub target_label: &'a str,
    pub organisation_id: Option<i64>,
    pub ip: Option<&'a str>,
    pub detail: &'a str,
}

pub fn record(conn: &mut DbConnection, event: NewEvent<'_>) -> QueryResult<()> {
    db::execute(conn, &record_write(event)).map(drop)
}

/// [`record`]'s statement, to send with others (`db::execute_guarded`).
pub fn record_write(event: NewEvent<'_>) -> impl Write + '_ {
    let (actor_id, actor_label) = match event.actor {
        Actor::User { id, email } => (Some(*id), email.as_str()),
        Actor::Anonymous { typed } => (None, typed.as_str()),
        Actor::System(name) => (None, *name),
    };
    // Labels and details may carry typed text: keep each entry on one line.
    diesel::insert_into(events::table).values((
        events::at.eq(event.at),
        events::action.eq(event.kind.label()),
        events::actor_id.eq(actor_id),
        events::actor_label.eq(one_line(actor_label)),
        events::target_user_id.eq(event.target_user_id),
        events::target_label.eq(one_line(event.target_label)),
        events::organisation_id.eq(event.organisation_id),
        events::ip.eq(event.ip),
        events::detail.eq(one_line(event.detail)),
    ))
}

/// Which entries to list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub organisation_id: Option<i64>,
    pub target_user_id: Option<UserId>,
    pub action: Option<EventKind>,
    pub from: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
    pub limit: i64,
    /// Newest entries skipped before the first listed (a later page).
    pub offset: i64,
}

type Filtered<'a> = events::BoxedQuery<'a, crate::db::MultiBackend>;

/// The entries the filter matches, in no order (limit and offset are not applied here).
fn matching(filter: &EventFilter) -> Filtered<'static> {
    let mut query = events::table.into_boxed();
    if let Some(org) = filter.organisation_id {
        query = query.filter(events::organisation_id.eq(org));
    }
    if let Some(user) = filter.target_user_id {
        query = query.filter(events::target_user_id.eq(user));
    }
    if let Some(kind) = filter.action {
        query = query.filter(events::action.eq(kind.label()));
    }
    if let Some(from) = filter.from {
        query = query.filter(events::at.ge(from));
    }
    if let Some(until) = filter.until {
        query = query.filter(events::at.lt(until));
    }
    query
}

/// Newest first: `limit` entries after skipping `offset`.
pub fn list(conn: &mut DbConnection, filter: &EventFilter) -> QueryResult<Vec<Event>> {
    matching(filter)
        .select(Event::as_select())
        .order((events::at.desc(), events::id.desc()))
        .limit(filter.limit.max(1))
        .offset(filter.offset.max(0))
        .load(conn)
}

/// How many entries the filter matches in all, on every page.
pub fn count(conn: &mut DbConnection, filter: &EventFilter) -> QueryResult<i64> {
    matching(filter).count().get_result(conn)
}

pub fn count_for_user(conn: &mut DbConnection, user_id: UserId, kind: EventKind) -> QueryResult<i64> {
    events::table
        .filter(events::target_user_id.eq(user_id))
        .filter(events::action.eq(kind.label()))
        .count()
        .get_result(conn)
}

/// How many times support (an agent or a manager) unlocked this user at or after `since`.
pub fn support_unlocks_since(conn: &mut DbConnection, user_id: UserId, since: NaiveDateTime) -> QueryResult<i64> {
    Ok(support_unlocks_of(conn, &[user_id], since)?.get(&user_id).copied().unwrap_or(0))
}

/// [`support_unlocks_since`] for several users at once (those with none are left out).
pub fn support_unlocks_of(
    conn: &mut DbConnection,
    user_ids: &[UserId],
    since: NaiveDateTime,
) -> QueryResult<std::collections::HashMap<UserId, i64>> {
    use crate::db::schema::users;
    use keydesk_core::{Role, StaffRole};
    if user_ids.is_empty() {
        return Ok(Default::default());
    }
    let desk = [Role::Staff(StaffRole::Agent), Role::Staff(StaffRole::Manager)].map(Role::as_str);
    // The desk's people first (a few): the count then reads the index
    // `events_unlocks_of_target` alone, never the entries themselves or their authors.
    let support: Vec<i64> = users::table.filter(users::role.eq_any(desk)).select(users::id).load(conn)?;
    let counts: Vec<(Option<UserId>, i64)> = events::table
        .filter(events::target_user_id.eq_any(user_ids.to_vec()))
        .filter(events::action.eq(EventKind::AccountUnlocked.label()))
        .filter(events::at.ge(since))
        .filter(events::actor_id.eq_any(support))
        .group_by(events::target_user_id)
        .select((events::target_user_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(counts.into_iter().filter_map(|(user, count)| Some((user?, count))).collect())
}
