DROP TRIGGER ticket_events_report_history ON ticket_events;
DROP FUNCTION tickets_append_report_history();
DROP TRIGGER tickets_report_row_follows ON tickets;
DROP FUNCTION tickets_report_row_follows();
DROP TRIGGER tickets_report_row ON tickets;
DROP FUNCTION tickets_add_report_rows();
DROP TABLE ticket_report_rows;
CREATE INDEX ticket_events_by_time ON ticket_events (at, kind, ticket_id, actor_id, id);
