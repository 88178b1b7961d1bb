-- Mail intake at its trust boundary: what was read from a message is stored once, so pages
-- and the API never parse raw mail again (a size, the From and Subject headers, the machine
-- class, the Authentication-Results); a message over the size limit keeps only its headers
-- (raw_complete = false); attachments are kept apart with their safe names; and the entries
-- a source could not take in (a directory, a symlink, a bad name) are reported.
ALTER TABLE inbound_messages ADD COLUMN size_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE inbound_messages ADD COLUMN from_header TEXT NOT NULL DEFAULT '';
ALTER TABLE inbound_messages ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE inbound_messages ADD COLUMN machine_class TEXT;
-- NULL: taken in before this column existed; filled from the raw headers once, at start.
ALTER TABLE inbound_messages ADD COLUMN authentication_results TEXT;
-- So the start-up check for such rows reads an index of them, not the whole ledger.
CREATE INDEX inbound_messages_unsummarised ON inbound_messages (id) WHERE authentication_results IS NULL;
ALTER TABLE inbound_messages ADD COLUMN raw_complete BOOLEAN NOT NULL DEFAULT TRUE;
UPDATE inbound_messages SET size_bytes = octet_length(raw);
-- Redelivered bytes are recognised whatever their source key.
CREATE INDEX inbound_messages_content ON inbound_messages (content_hash);

CREATE TABLE attachments (
    id BIGSERIAL PRIMARY KEY,
    inbound_message_id BIGINT NOT NULL REFERENCES inbound_messages(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    -- NULL when the file was not kept (over a limit): the note says why.
    content BYTEA,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX attachments_message ON attachments (inbound_message_id, position);

-- One line per entry the last pass skipped: "name: why".
ALTER TABLE intake_health ADD COLUMN skipped TEXT NOT NULL DEFAULT '';
