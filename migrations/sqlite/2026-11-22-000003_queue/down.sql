DROP TABLE mailbox_challenges;
DROP TABLE ticket_events;
ALTER TABLE tickets DROP COLUMN mailbox_confirmed_at;
ALTER TABLE tickets DROP COLUMN verification_note;
ALTER TABLE tickets DROP COLUMN verification_method;
ALTER TABLE tickets DROP COLUMN verified_by_id;
ALTER TABLE tickets DROP COLUMN verified_at;
ALTER TABLE tickets DROP COLUMN assignee_id;
