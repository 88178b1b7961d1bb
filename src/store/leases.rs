//! Leases: work only one Keydesk process may do at a time (taking in one mailbox). A lease is
//! a row with its holder, a token and an expiry; the holder renews it while it works, and
//! another process takes it over only once it has expired, raising the token. Every renewal
//! names the token, so a holder that was paused past its expiry (and replaced) learns it has
//! lost the lease the next time it renews, and stops.

use super::dialect::on_backend;
use crate::db::schema::worker_leases;
use crate::db::DbConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

#[derive(QueryableByName)]
struct Taken {
    #[diesel(sql_type = BigInt)]
    token: i64,
}

/// Takes the lease `name` for `holder` until `until` when it is free (never taken, or expired
/// at `now`) or already `holder`'s; returns its token, or `None` while another holds it.
/// One statement, so two processes asking at once cannot both win.
pub fn take(
    conn: &mut DbConnection,
    name: &str,
    holder: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Option<i64>> {
    const UPSERT: &str = "INSERT INTO worker_leases (name, holder, token, expires_at) VALUES ($1, $2, 1, $4) \
        ON CONFLICT (name) DO UPDATE SET \
        token = CASE WHEN worker_leases.holder = excluded.holder THEN worker_leases.token \
                     ELSE worker_leases.token + 1 END, \
        holder = excluded.holder, expires_at = excluded.expires_at \
        WHERE worker_leases.holder = excluded.holder OR worker_leases.expires_at < $3 \
        RETURNING token";
    let taken: Option<Taken> = on_backend!(conn, |c, dialect| {
        diesel::sql_query(dialect.statement(UPSERT))
            .bind::<Text, _>(name)
            .bind::<Text, _>(holder)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(until)
            .get_result(c)
            .optional()
    })?;
    Ok(taken.map(|t| t.token))
}

/// Extends the lease to `until` if `holder` still holds it with `token`; false once it has
/// been taken over.
pub fn renew(conn: &mut DbConnection, name: &str, holder: &str, token: i64, until: NaiveDateTime) -> QueryResult<bool> {
    let mine =
        worker_leases::table.find(name).filter(worker_leases::holder.eq(holder)).filter(worker_leases::token.eq(token));
    Ok(diesel::update(mine).set(worker_leases::expires_at.eq(until)).execute(conn)? == 1)
}

/// Gives the lease up at once (a clean shutdown), so another process need not wait for it to
/// expire.
pub fn release(conn: &mut DbConnection, name: &str, holder: &str, token: i64, now: NaiveDateTime) -> QueryResult<()> {
    renew(conn, name, holder, token, now - chrono::Duration::seconds(1)).map(drop)
}

/// Who holds `name` and until when (for the operator and the error of a second `intake once`).
pub fn holder(conn: &mut DbConnection, name: &str) -> QueryResult<Option<(String, NaiveDateTime)>> {
    worker_leases::table.find(name).select((worker_leases::holder, worker_leases::expires_at)).first(conn).optional()
}
