-- Retention (retention.raw_mail): when a ledger row's raw bytes were cleared, NULL while
-- they are kept. Cleared bytes are empty rather than NULL: `raw` stays NOT NULL, since on
-- SQLite dropping that would rebuild a table that others reference. The content hash stays,
-- so a redelivery of the same message is still recognised.
ALTER TABLE inbound_messages ADD COLUMN raw_cleared_at TIMESTAMP;
-- The rows retention has still to look at, by age.
CREATE INDEX inbound_messages_raw_kept ON inbound_messages (received_at) WHERE raw_cleared_at IS NULL;
-- The activity log by age alone (retention.activity); its other indexes start with a user,
-- an organisation or an action.
CREATE INDEX events_at ON events (at);
