-- Each ticket's counted history kept beside it (keydesk_core::reports::stored_history), so a
-- report reads one row per ticket rather than every history row: `kind@epoch[/actor];` per
-- row, in the order recorded. `report_latest_at` is its latest row's time, so a report finds
-- the older tickets its range touched without reading the history.
ALTER TABLE tickets ADD COLUMN report_history TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN report_latest_at TIMESTAMP;
-- The tickets received before a range that its rows touched.
CREATE INDEX tickets_report_touched ON tickets (received_at, report_latest_at);

-- Kept in the same transaction as each history row, whatever writes it. Once per statement,
-- so a bulk insert (the demo's seeding) updates each ticket once. The kinds are
-- keydesk_core::reports::kinds_counted (tests/report_history.rs holds the two together).
CREATE FUNCTION tickets_append_report_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tickets t
    SET report_history = t.report_history || added.history,
        report_latest_at = GREATEST(t.report_latest_at, added.latest)
    FROM (SELECT n.ticket_id,
                 string_agg(n.kind || '@' || CAST(FLOOR(EXTRACT(EPOCH FROM n.at)) AS BIGINT)
                            || coalesce('/' || n.actor_id, '') || ';', '' ORDER BY n.at, n.id) AS history,
                 max(n.at) AS latest
          FROM inserted n
          WHERE n.kind IN ('spoof_suspected', 'user_replied', 'reopened', 'agent_replied', 'waiting_on_user',
                           'challenge_sent', 'mailbox_confirmed', 'verified', 'unlocked', 'resolved')
          GROUP BY n.ticket_id) added
    WHERE t.id = added.ticket_id;
    RETURN NULL;
END $$;
CREATE TRIGGER ticket_events_report_history AFTER INSERT ON ticket_events
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION tickets_append_report_history();

-- The history recorded so far, as `keydesk reports rebuild` writes it (src/store/report_history.rs).
-- Processes still running the old release go on recording history meanwhile: hold their
-- inserts until this commits, so none is missed.
LOCK TABLE ticket_events IN SHARE MODE;
UPDATE tickets SET (report_history, report_latest_at) = (
    SELECT coalesce(string_agg(e.kind || '@' || CAST(FLOOR(EXTRACT(EPOCH FROM e.at)) AS BIGINT)
                               || coalesce('/' || e.actor_id, '') || ';', '' ORDER BY e.at, e.id), ''),
           max(e.at)
    FROM ticket_events e
    WHERE e.ticket_id = tickets.id
      AND e.kind IN ('spoof_suspected', 'user_replied', 'reopened', 'agent_replied', 'waiting_on_user',
                     'challenge_sent', 'mailbox_confirmed', 'verified', 'unlocked', 'resolved'));
