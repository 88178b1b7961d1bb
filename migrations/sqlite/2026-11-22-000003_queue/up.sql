-- The support queue: who works a ticket, how its sender was verified, the mailbox
-- challenges sent to registered addresses, and each ticket's history.
ALTER TABLE tickets ADD COLUMN assignee_id BIGINT REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE tickets ADD COLUMN verified_at TIMESTAMP;
ALTER TABLE tickets ADD COLUMN verified_by_id BIGINT REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE tickets ADD COLUMN verification_method TEXT;
ALTER TABLE tickets ADD COLUMN verification_note TEXT;
ALTER TABLE tickets ADD COLUMN mailbox_confirmed_at TIMESTAMP;

CREATE TABLE ticket_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id BIGINT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    at TIMESTAMP NOT NULL,
    actor_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    actor_label TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, at);
CREATE INDEX ticket_events_kind ON ticket_events (kind, at);

CREATE TABLE mailbox_challenges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id BIGINT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
