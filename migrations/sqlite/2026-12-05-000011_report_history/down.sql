DROP TRIGGER ticket_events_report_history;
DROP TRIGGER tickets_report_row_follows;
DROP TRIGGER tickets_report_row;
DROP TABLE ticket_report_rows;
