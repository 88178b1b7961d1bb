ALTER TABLE users DROP COLUMN email_changed_at;
