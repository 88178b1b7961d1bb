//! The SLA alerts already sent, and the daily digests: each row is claimed by one insert, so
//! however many processes check, each alert (ticket, target, level) and each day's digest
//! goes out once.

use super::dialect::on_backend;
use crate::db::schema::{digests_sent, sla_alerts};
use crate::db::DbConnection;
use crate::ids::TicketNumber;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text, Timestamp};

/// Claims the alert; false when it was sent already (by this process or another).
pub fn claim(
    conn: &mut DbConnection,
    ticket: TicketNumber,
    target: &str,
    level: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    // ON CONFLICT rather than catching the duplicate: inside a PostgreSQL transaction a
    // failed insert would abort the rest of it.
    let sql =
        "INSERT INTO sla_alerts (ticket_id, target, level, sent_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
    let inserted = on_backend!(conn, |c, dialect| {
        diesel::sql_query(dialect.statement(sql))
            .bind::<BigInt, _>(ticket.0)
            .bind::<Text, _>(target)
            .bind::<Text, _>(level)
            .bind::<Timestamp, _>(now)
            .execute(c)
    })?;
    Ok(inserted == 1)
}

/// The alerts sent for these tickets: (ticket, target, level).
pub fn sent_for(conn: &mut DbConnection, tickets: &[TicketNumber]) -> QueryResult<Vec<(TicketNumber, String, String)>> {
    let mut sent = Vec::new();
    for chunk in tickets.chunks(500) {
        sent.extend(
            sla_alerts::table
                .filter(sla_alerts::ticket_id.eq_any(chunk.to_vec()))
                .select((sla_alerts::ticket_id, sla_alerts::target, sla_alerts::level))
                .load::<(TicketNumber, String, String)>(conn)?,
        );
    }
    Ok(sent)
}

/// Whether the day's digest went out already.
pub fn digest_sent(conn: &mut DbConnection, day: NaiveDate) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(digests_sent::table.find(day))).get_result(conn)
}

/// Claims the day's digest; false when it went out already.
pub fn claim_digest(conn: &mut DbConnection, day: NaiveDate, now: NaiveDateTime) -> QueryResult<bool> {
    let sql = "INSERT INTO digests_sent (day, sent_at) VALUES ($1, $2) ON CONFLICT DO NOTHING";
    let inserted = on_backend!(conn, |c, dialect| {
        diesel::sql_query(dialect.statement(sql)).bind::<Date, _>(day).bind::<Timestamp, _>(now).execute(c)
    })?;
    Ok(inserted == 1)
}
