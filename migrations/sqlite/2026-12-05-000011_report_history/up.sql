-- Each ticket's counted history kept beside it (keydesk_core::reports::stored_history), so a
-- report reads one row per ticket rather than every history row: `kind@epoch[/actor];` per
-- row, in the order recorded. `report_latest_at` is its latest row's time, so a report finds
-- the older tickets its range touched without reading the history.
ALTER TABLE tickets ADD COLUMN report_history TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN report_latest_at TIMESTAMP;
-- The tickets received before a range that its rows touched.
CREATE INDEX tickets_report_touched ON tickets (received_at, report_latest_at);

-- Kept in the same transaction as each history row, whatever writes it. The kinds are
-- keydesk_core::reports::kinds_counted (tests/report_history.rs holds the two together).
CREATE TRIGGER ticket_events_report_history AFTER INSERT ON ticket_events
WHEN NEW.kind IN ('spoof_suspected', 'user_replied', 'reopened', 'agent_replied', 'waiting_on_user',
                  'challenge_sent', 'mailbox_confirmed', 'verified', 'unlocked', 'resolved')
BEGIN
    UPDATE tickets
    SET report_history = report_history || NEW.kind || '@' || unixepoch(NEW.at)
            || coalesce('/' || NEW.actor_id, '') || ';',
        report_latest_at = CASE WHEN report_latest_at IS NULL OR report_latest_at < NEW.at
                                THEN NEW.at ELSE report_latest_at END
    WHERE id = NEW.ticket_id;
END;

-- The history recorded so far, as `keydesk reports rebuild` writes it (src/store/report_history.rs).
UPDATE tickets SET (report_history, report_latest_at) = (
    SELECT coalesce(group_concat(e.kind || '@' || unixepoch(e.at) || coalesce('/' || e.actor_id, '') || ';', '' ORDER BY e.at, e.id), ''),
           max(e.at)
    FROM ticket_events e
    WHERE e.ticket_id = tickets.id
      AND e.kind IN ('spoof_suspected', 'user_replied', 'reopened', 'agent_replied', 'waiting_on_user',
                     'challenge_sent', 'mailbox_confirmed', 'verified', 'unlocked', 'resolved'));
