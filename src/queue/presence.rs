//! Presence on a ticket: who else has its page open right now, and the newest message of its
//! thread, so that an agent sees a colleague at work before writing (the page polls; without
//! JavaScript, the reply form's stale-thread check still stops a crossed reply).

use crate::app::AppError;
use crate::db::DbConnection;
use crate::ids::{TicketNumber, UserId};
use crate::store;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// The page polls every [`POLL_SECONDS`]; a viewer not seen for [`GONE_AFTER_SECONDS`] has left.
pub const POLL_SECONDS: i64 = 15;
pub const GONE_AFTER_SECONDS: i64 = 45;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Presence {
    /// The other staff with the page open, by name.
    pub others: Vec<String>,
    /// The newest message id of the thread (0 when it has none).
    pub newest_message: i64,
}

/// Records the viewer as present now.
pub fn seen(conn: &mut DbConnection, number: TicketNumber, viewer: UserId, now: DateTime<Utc>) -> Result<(), AppError> {
    Ok(store::viewers::seen(conn, number, viewer, now.naive_utc())?)
}

/// Records the viewer and says who else is there and how far the thread has got.
pub fn poll(
    conn: &mut DbConnection,
    number: TicketNumber,
    viewer: UserId,
    now: DateTime<Utc>,
) -> Result<Presence, AppError> {
    super::ticket(conn, number)?;
    seen(conn, number, viewer, now)?;
    Ok(Presence {
        others: others(conn, number, viewer, now)?,
        newest_message: store::tickets::newest_message_id(conn, number)?,
    })
}

pub fn others(
    conn: &mut DbConnection,
    number: TicketNumber,
    viewer: UserId,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AppError> {
    let since = (now - Duration::seconds(GONE_AFTER_SECONDS)).naive_utc();
    Ok(store::viewers::others_since(conn, number, viewer, since)?)
}
