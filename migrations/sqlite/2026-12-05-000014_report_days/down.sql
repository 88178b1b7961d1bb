DROP TRIGGER report_days_forget_deleted;
DROP TRIGGER report_days_forget_updated;
DROP TRIGGER report_days_forget_inserted;
DROP TABLE report_days;
