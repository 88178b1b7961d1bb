-- What a service-hours report reads, one narrow row per ticket, so a year's report reads one
-- row per ticket rather than every history row or the whole ticket: when it arrived, its
-- account and verification method (copied from the ticket), and its counted history
-- (keydesk_core::reports::stored_history: `kind@epoch[/actor];` per row, in the order
-- recorded). `latest_at` is its latest counted row's time, so a report finds the older
-- tickets its range touched without reading the history. Kept by the triggers below, in
-- the transaction that writes the ticket or its history, whatever writes them.
CREATE TABLE ticket_report_rows (
    ticket_id INTEGER PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
    received_at TIMESTAMP NOT NULL,
    account_user_id BIGINT,
    verification_method TEXT,
    history TEXT NOT NULL DEFAULT '',
    latest_at TIMESTAMP
);
CREATE INDEX ticket_report_rows_received ON ticket_report_rows (received_at);
-- Reports no longer read the history rows by time: the index that answered that read
-- would only cost every history row recorded.
DROP INDEX ticket_events_by_time;

-- The tickets received before a range that its rows touched: found among those touched
-- since it began, which for a range ending about now are about as many as it received.
CREATE INDEX ticket_report_rows_touched ON ticket_report_rows (latest_at, received_at);

CREATE TRIGGER tickets_report_row AFTER INSERT ON tickets
BEGIN
    INSERT INTO ticket_report_rows (ticket_id, received_at, account_user_id, verification_method)
    VALUES (NEW.id, NEW.received_at, NEW.account_user_id, NEW.verification_method);
END;

CREATE TRIGGER tickets_report_row_follows AFTER UPDATE OF received_at, account_user_id, verification_method ON tickets
BEGIN
    UPDATE ticket_report_rows
    SET received_at = NEW.received_at, account_user_id = NEW.account_user_id, verification_method = NEW.verification_method
    WHERE ticket_id = NEW.id;
END;

-- The kinds are keydesk_core::reports::kinds_counted (tests/report_history.rs holds the two
-- together).
CREATE TRIGGER ticket_events_report_history AFTER INSERT ON ticket_events
WHEN NEW.kind IN ('spoof_suspected', 'user_replied', 'reopened', 'agent_replied', 'waiting_on_user',
                  'challenge_sent', 'mailbox_confirmed', 'verified', 'unlocked', 'resolved')
BEGIN
    UPDATE ticket_report_rows
    SET history = history || NEW.kind || '@' || unixepoch(NEW.at) || coalesce('/' || NEW.actor_id, '') || ';',
        latest_at = CASE WHEN latest_at IS NULL OR latest_at < NEW.at THEN NEW.at ELSE latest_at END
    WHERE ticket_id = NEW.ticket_id;
END;

-- The tickets and history recorded so far, as `keydesk reports rebuild` writes them
-- (src/store/report_history.rs).
INSERT INTO ticket_report_rows (ticket_id, received_at, account_user_id, verification_method, history, latest_at)
SELECT t.id, t.received_at, t.account_user_id, t.verification_method,
    (SELECT coalesce(group_concat(e.kind || '@' || unixepoch(e.at) || coalesce('/' || e.actor_id, '') || ';', '' ORDER BY e.at, e.id), '')
     FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind IN ('spoof_suspected', 'user_replied', 'reopened', 'agent_replied', 'waiting_on_user',
                  'challenge_sent', 'mailbox_confirmed', 'verified', 'unlocked', 'resolved')),
    (SELECT max(e.at) FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind IN ('spoof_suspected', 'user_replied', 'reopened', 'agent_replied', 'waiting_on_user',
                  'challenge_sent', 'mailbox_confirmed', 'verified', 'unlocked', 'resolved'))
FROM tickets t WHERE true
ON CONFLICT (ticket_id) DO UPDATE SET received_at = excluded.received_at, account_user_id = excluded.account_user_id,
    verification_method = excluded.verification_method, history = excluded.history, latest_at = excluded.latest_at;
