-- A report's kept rows (keydesk_core::reports::settled; src/reports/keep.rs): for each
-- local day, the measured rows of its tickets that were resolved, so a long report folds
-- them instead of reading and measuring every ticket. `rules` says what measured them
-- (rows kept with other rules are not used); `latest_at` is the latest counted history row
-- of the day's tickets (a report sees the rows only when its range ends after it);
-- `open_ticket_ids` lists the day's tickets still open, which a report reads itself.
CREATE TABLE report_days (
    day_start TIMESTAMP NOT NULL PRIMARY KEY,
    day_end TIMESTAMP NOT NULL,
    rules TEXT NOT NULL,
    latest_at TIMESTAMP,
    open_ticket_ids TEXT NOT NULL,
    settled BYTEA NOT NULL
);
-- Kept out of line but not compressed: the rows are compact already, and decompressing a
-- year of them (75 MB) took a quarter of a second of each long report.
ALTER TABLE report_days ALTER COLUMN settled SET STORAGE EXTERNAL;

-- Whatever changes a ticket's report row (a ticket received, relinked or verified; a
-- history row recorded; a rebuild) forgets its day's kept rows, in the same transaction.
-- A local day is at most 25 hours, so its row starts within two days before the ticket.
-- Keeping a day locks `ticket_report_rows` in SHARE ROW EXCLUSIVE mode first, so it waits
-- for every transaction writing one of them and holds back the next (and another process
-- keeping a day) until it commits: a change is either read by it or, committed after it,
-- forgets what it kept.
CREATE FUNCTION report_days_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        DELETE FROM report_days d USING (SELECT DISTINCT received_at FROM new_rows) c
        WHERE d.day_start > c.received_at - interval '2 days'
          AND d.day_start <= c.received_at AND d.day_end > c.received_at;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM report_days d USING (SELECT DISTINCT received_at FROM old_rows) c
        WHERE d.day_start > c.received_at - interval '2 days'
          AND d.day_start <= c.received_at AND d.day_end > c.received_at;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER report_days_forget_inserted AFTER INSERT ON ticket_report_rows
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_days_forget();
CREATE TRIGGER report_days_forget_updated AFTER UPDATE ON ticket_report_rows
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_days_forget();
CREATE TRIGGER report_days_forget_deleted AFTER DELETE ON ticket_report_rows
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_days_forget();
