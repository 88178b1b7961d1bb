-- What a service-hours report reads, one narrow row per ticket, so a year's report reads one
-- row per ticket rather than every history row or the whole ticket: when it arrived, its
-- account and verification method (copied from the ticket), and its counted history
-- (keydesk_core::reports::stored_history: `kind@epoch[/actor];` per row, in the order
-- recorded). `latest_at` is its latest counted row's time, so a report finds the older
-- tickets its range touched without reading the history. Kept by the triggers below, in
-- the transaction that writes the ticket or its history, whatever writes them. A table of
-- its own, so recording history never rewrites the wide ticket row and its search index.
CREATE TABLE ticket_report_rows (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
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

-- Once per statement, so a bulk insert (the demo's seeding) costs one statement more.
CREATE FUNCTION tickets_add_report_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ticket_report_rows (ticket_id, received_at, account_user_id, verification_method)
    SELECT n.id, n.received_at, n.account_user_id, n.verification_method FROM inserted n;
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_report_row AFTER INSERT ON tickets
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION tickets_add_report_rows();

CREATE FUNCTION tickets_report_row_follows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ticket_report_rows
    SET received_at = NEW.received_at, account_user_id = NEW.account_user_id, verification_method = NEW.verification_method
    WHERE ticket_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_report_row_follows AFTER UPDATE OF received_at, account_user_id, verification_method ON tickets
    FOR EACH ROW WHEN (OLD.received_at IS DISTINCT FROM NEW.received_at
                       OR OLD.account_user_id IS DISTINCT FROM NEW.account_user_id
                       OR OLD.verification_method IS DISTINCT FROM NEW.verification_method)
    EXECUTE FUNCTION tickets_report_row_follows();

-- Once per statement, so a bulk insert updates each ticket once. The kinds are
-- keydesk_core::reports::kinds_counted (tests/report_history.rs holds the two together).
CREATE FUNCTION tickets_append_report_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ticket_report_rows r
    SET history = r.history || added.history, latest_at = GREATEST(r.latest_at, added.latest)
    FROM (SELECT n.ticket_id,
                 string_agg(n.kind || '@' || CAST(FLOOR(EXTRACT(EPOCH FROM n.at)) AS BIGINT)
                            || coalesce('/' || n.actor_id, '') || ';', '' ORDER BY n.at, n.id) AS history,
                 max(n.at) AS latest
          FROM inserted n
          WHERE n.kind IN ('spoof_suspected', 'user_replied', 'reopened', 'agent_replied', 'waiting_on_user',
                  'challenge_sent', 'mailbox_confirmed', 'verified', 'unlocked', 'resolved')
          GROUP BY n.ticket_id) added
    WHERE r.ticket_id = added.ticket_id;
    RETURN NULL;
END $$;
CREATE TRIGGER ticket_events_report_history AFTER INSERT ON ticket_events
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION tickets_append_report_history();

-- The tickets and history recorded so far, as `keydesk reports rebuild` writes them
-- (src/store/report_history.rs). Processes still running the old release go on recording
-- meanwhile: hold their writes until this commits, so none is missed.
LOCK TABLE tickets, ticket_events IN SHARE MODE;
INSERT INTO ticket_report_rows (ticket_id, received_at, account_user_id, verification_method, history, latest_at)
SELECT t.id, t.received_at, t.account_user_id, t.verification_method,
    (SELECT coalesce(string_agg(e.kind || '@' || CAST(FLOOR(EXTRACT(EPOCH FROM e.at)) AS BIGINT) || coalesce('/' || e.actor_id, '') || ';', '' ORDER BY e.at, e.id), '')
     FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind IN ('spoof_suspected', 'user_replied', 'reopened', 'agent_replied', 'waiting_on_user',
                  'challenge_sent', 'mailbox_confirmed', 'verified', 'unlocked', 'resolved')),
    (SELECT max(e.at) FROM ticket_events e WHERE e.ticket_id = t.id AND e.kind IN ('spoof_suspected', 'user_replied', 'reopened', 'agent_replied', 'waiting_on_user',
                  'challenge_sent', 'mailbox_confirmed', 'verified', 'unlocked', 'resolved'))
FROM tickets t WHERE true
ON CONFLICT (ticket_id) DO UPDATE SET received_at = excluded.received_at, account_user_id = excluded.account_user_id,
    verification_method = excluded.verification_method, history = excluded.history, latest_at = excluded.latest_at;
