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
    settled BLOB NOT NULL
);

-- Whatever changes a ticket's report row (a ticket received, relinked or verified; a
-- history row recorded; a rebuild) forgets its day's kept rows, in the same transaction.
-- A local day is at most 25 hours, so its row starts within two days before the ticket.
CREATE TRIGGER report_days_forget_inserted AFTER INSERT ON ticket_report_rows BEGIN
    DELETE FROM report_days WHERE day_start > datetime(NEW.received_at, '-2 days')
        AND day_start <= NEW.received_at AND day_end > NEW.received_at;
END;
CREATE TRIGGER report_days_forget_updated AFTER UPDATE ON ticket_report_rows BEGIN
    DELETE FROM report_days WHERE day_start > datetime(NEW.received_at, '-2 days')
        AND day_start <= NEW.received_at AND day_end > NEW.received_at;
    DELETE FROM report_days WHERE day_start > datetime(OLD.received_at, '-2 days')
        AND day_start <= OLD.received_at AND day_end > OLD.received_at;
END;
CREATE TRIGGER report_days_forget_deleted AFTER DELETE ON ticket_report_rows BEGIN
    DELETE FROM report_days WHERE day_start > datetime(OLD.received_at, '-2 days')
        AND day_start <= OLD.received_at AND day_end > OLD.received_at;
END;
