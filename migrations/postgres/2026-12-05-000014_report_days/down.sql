DROP TRIGGER report_days_forget_deleted ON ticket_report_rows;
DROP TRIGGER report_days_forget_updated ON ticket_report_rows;
DROP TRIGGER report_days_forget_inserted ON ticket_report_rows;
DROP FUNCTION report_days_forget();
DROP TABLE report_days;
