-- Running as a service: several Keydesk processes on one database.

-- One row per piece of work only one process may do at a time (a mailbox's intake). The
-- holder renews `expires_at` while it works; another process takes the row over once it has
-- expired, with a higher `token`, and a holder whose token is no longer the row's stops.
CREATE TABLE worker_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    token BIGINT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

-- The sender claims the oldest unsent message, one at a time: an index of only those, so a
-- claim stays one index probe however many million messages were sent before.
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
