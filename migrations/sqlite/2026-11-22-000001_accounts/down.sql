DROP TABLE outbox;
DROP TABLE events;
DROP TABLE unlock_pins;
DROP TABLE password_resets;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE organisations;
