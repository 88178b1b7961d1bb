ALTER TABLE tickets DROP COLUMN requester_user_id;
