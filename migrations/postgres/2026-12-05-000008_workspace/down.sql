DROP TABLE digests_sent;
DROP TABLE ticket_viewers;
DROP TABLE canned_replies;
DROP TABLE sla_alerts;
DROP INDEX tickets_search;
DROP TRIGGER tickets_search_words ON tickets;
DROP FUNCTION tickets_keep_search_words();
DROP FUNCTION ticket_search_words(tickets);
ALTER TABLE tickets DROP COLUMN search_words;
