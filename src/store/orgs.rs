//! Organisations: the companies and clinics whose users Keydesk looks after.

use crate::db::schema::organisations;
use crate::db::DbConnection;
use diesel::prelude::*;
use keydesk_core::UnlockPolicy;

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = organisations)]
pub struct Organisation {
    pub id: i64,
    pub name: String,
    pub slug: String,
    #[diesel(deserialize_as = String)]
    pub unlock_policy: UnlockPolicy,
    pub created_at: chrono::NaiveDateTime,
}

pub fn create(
    conn: &mut DbConnection,
    name: &str,
    slug: &str,
    policy: UnlockPolicy,
    created_at: chrono::NaiveDateTime,
) -> QueryResult<Organisation> {
    diesel::insert_into(organisations::table)
        .values((
            organisations::name.eq(name),
            organisations::slug.eq(slug),
            organisations::unlock_policy.eq(policy.as_str()),
            organisations::created_at.eq(created_at),
        ))
        .returning(organisations::id)
        .get_result::<i64>(conn)
        .and_then(|id| organisations::table.find(id).select(Organisation::as_select()).first(conn))
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Organisation>> {
    organisations::table.find(id).select(Organisation::as_select()).first(conn).optional()
}

pub fn find_by_slug(conn: &mut DbConnection, slug: &str) -> QueryResult<Option<Organisation>> {
    organisations::table.filter(organisations::slug.eq(slug)).select(Organisation::as_select()).first(conn).optional()
}
