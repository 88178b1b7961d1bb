-- Mail intake: every message taken in (the ledger that makes intake exactly-once), the
-- tickets they become, each ticket's thread, and the health of each mail source.
CREATE TABLE tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    status TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    sender TEXT NOT NULL,
    sender_name TEXT,
    subject TEXT NOT NULL,
    full_name TEXT,
    full_name_source TEXT,
    registered_email TEXT,
    registered_email_source TEXT,
    description TEXT,
    description_source TEXT,
    account_user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX tickets_status ON tickets (status, received_at);
CREATE INDEX tickets_account ON tickets (account_user_id, status);

CREATE TABLE inbound_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    source_key TEXT NOT NULL,
    message_id TEXT,
    content_hash TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    raw BLOB NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    ticket_id BIGINT REFERENCES tickets(id) ON DELETE SET NULL,
    UNIQUE (source, source_key)
);
CREATE INDEX inbound_messages_identity ON inbound_messages (message_id, content_hash);
CREATE INDEX inbound_messages_outcome ON inbound_messages (outcome, received_at);

CREATE TABLE ticket_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id BIGINT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    direction TEXT NOT NULL,
    message_id TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    sender TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    inbound_message_id BIGINT REFERENCES inbound_messages(id) ON DELETE SET NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, at);
CREATE INDEX ticket_messages_message_id ON ticket_messages (message_id);

CREATE TABLE intake_health (
    source TEXT PRIMARY KEY,
    last_success_at TIMESTAMP,
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_at TIMESTAMP
);
