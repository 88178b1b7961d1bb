//! Filling the outbox directly, as a burst of unlocks would.
#![allow(dead_code)]

use keydesk::db::DbConnection;
use keydesk_core::outgoing::EmailKind;

/// Queues `n` unlock notifications; their Message-IDs, in order.
pub fn queue_unlock_notices(conn: &mut DbConnection, n: usize, tag: &str) -> Vec<String> {
    let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 6).naive_utc();
    (0..n)
        .map(|i| {
            let message_id = format!("<{tag}-{i}@keydesk.test>");
            let message = keydesk::store::outbox::NewOutboxMessage {
                kind: EmailKind::AccountUnlocked,
                to_address: "jane@acme.test",
                subject: "Your account has been unlocked",
                text_body: "Your account has been unlocked.",
                html_body: "<p>Your account has been unlocked.</p>",
                message_id: &message_id,
                in_reply_to: None,
                auto_submitted: Some("auto-generated"),
            };
            keydesk::store::outbox::enqueue(conn, message, now).unwrap();
            message_id
        })
        .collect()
}
