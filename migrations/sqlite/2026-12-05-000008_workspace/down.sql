DROP TABLE digests_sent;
DROP TABLE ticket_viewers;
DROP TABLE canned_replies;
DROP TABLE sla_alerts;
DROP TRIGGER ticket_search_delete;
DROP TRIGGER ticket_search_update;
DROP TRIGGER ticket_search_insert;
DROP TABLE ticket_search;
