DROP TRIGGER ticket_events_report_history;
DROP INDEX tickets_report_touched;
ALTER TABLE tickets DROP COLUMN report_latest_at;
ALTER TABLE tickets DROP COLUMN report_history;
