ALTER TABLE intake_health DROP COLUMN skipped;
DROP TABLE attachments;
DROP INDEX inbound_messages_content;
ALTER TABLE inbound_messages DROP COLUMN raw_complete;
ALTER TABLE inbound_messages DROP COLUMN authentication_results;
ALTER TABLE inbound_messages DROP COLUMN machine_class;
ALTER TABLE inbound_messages DROP COLUMN subject;
ALTER TABLE inbound_messages DROP COLUMN from_header;
ALTER TABLE inbound_messages DROP COLUMN size_bytes;
