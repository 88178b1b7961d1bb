DROP TRIGGER ticket_events_report_history;
DROP TRIGGER tickets_report_row_follows;
DROP TRIGGER tickets_report_row;
DROP TABLE ticket_report_rows;
CREATE INDEX ticket_events_by_time ON ticket_events (at, kind, ticket_id, actor_id, id);
