-- Who wrote on behalf of the locked employee (an admin or owner of the same organisation).
ALTER TABLE tickets ADD COLUMN requester_user_id BIGINT REFERENCES users(id) ON DELETE SET NULL;
