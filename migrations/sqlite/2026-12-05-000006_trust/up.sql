-- Trustworthy unlock: second factors (TOTP and recovery codes), sessions that know how far
-- their sign-in got and when it last passed a second factor, API tokens that follow their
-- user, a login throttle shared by every process, a manager's approval of privileged unlocks,
-- and tries for the mailbox challenge's authenticator code.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enrolled_at TIMESTAMP;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

ALTER TABLE sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'signed_in';
ALTER TABLE sessions ADD COLUMN second_factor_at TIMESTAMP;

CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

ALTER TABLE api_tokens ADD COLUMN role TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMP;
ALTER TABLE api_tokens ADD COLUMN revoked_at TIMESTAMP;
-- Tokens issued before this change keep working for the role their user has now.
UPDATE api_tokens SET role = (SELECT users.role FROM users WHERE users.id = api_tokens.user_id);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- One row per throttled bucket (a client address, an account's reset emails, …): the
-- window's start and what was counted in it, raised by one atomic upsert.
CREATE TABLE throttle (
    bucket TEXT PRIMARY KEY,
    window_start TIMESTAMP NOT NULL,
    count INTEGER NOT NULL
);

ALTER TABLE tickets ADD COLUMN approved_at TIMESTAMP;
ALTER TABLE tickets ADD COLUMN approved_by_id BIGINT REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE tickets ADD COLUMN approval_note TEXT;

ALTER TABLE mailbox_challenges ADD COLUMN tries INTEGER NOT NULL DEFAULT 0;
