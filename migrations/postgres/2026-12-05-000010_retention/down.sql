DROP INDEX events_at;
DROP INDEX inbound_messages_raw_kept;
ALTER TABLE inbound_messages DROP COLUMN raw_cleared_at;
