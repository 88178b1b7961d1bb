-- The agent's workspace: a search index over tickets, the SLA alerts already sent (each
-- once per ticket, target and level, whichever process checks), the managers' canned
-- replies, who has a ticket open right now, and the daily digests already sent.

-- Search: a tsvector of the names and addresses a ticket carries (stated, sender's, linked
-- account's), its subject and its description, split at every non-alphanumeric character
-- (as SQLite's unicode61 tokenizer does, so both backends find the same tickets), under a
-- GIN index. What is indexed is bounded (the first 1,000 characters of the subject, 10,000
-- of the description), as on SQLite: a sender's megabytes of text would otherwise overflow
-- a tsvector (1 MB) and fail the ticket's insert. Kept by a trigger on every write.
ALTER TABLE tickets ADD COLUMN search_words tsvector;
CREATE FUNCTION ticket_search_words(t tickets) RETURNS tsvector LANGUAGE sql STABLE AS $$
    SELECT to_tsvector('simple', regexp_replace(lower(
        coalesce(t.full_name, '') || ' ' || coalesce(t.registered_email, '') || ' ' || t.sender || ' ' ||
        left(coalesce(t.sender_name, ''), 200) || ' ' ||
        coalesce((SELECT u.email || ' ' || u.full_name FROM users u WHERE u.id = t.account_user_id), '') || ' ' ||
        left(t.subject, 1000) || ' ' || left(coalesce(t.description, ''), 10000)
    ), '[^[:alnum:]]+', ' ', 'g'))
$$;
CREATE FUNCTION tickets_keep_search_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_words := ticket_search_words(NEW);
    RETURN NEW;
END
$$;
CREATE TRIGGER tickets_search_words BEFORE INSERT OR UPDATE OF subject, full_name, registered_email, sender,
    sender_name, description, account_user_id ON tickets FOR EACH ROW EXECUTE FUNCTION tickets_keep_search_words();
UPDATE tickets t SET search_words = ticket_search_words(t);
CREATE INDEX tickets_search ON tickets USING GIN (search_words);

CREATE TABLE sla_alerts (
    ticket_id BIGINT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    level TEXT NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    PRIMARY KEY (ticket_id, target, level)
);

CREATE TABLE canned_replies (
    id BIGSERIAL PRIMARY KEY,
    title TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by_id BIGINT REFERENCES users(id) ON DELETE SET NULL
);

CREATE TABLE ticket_viewers (
    ticket_id BIGINT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    seen_at TIMESTAMP NOT NULL,
    PRIMARY KEY (ticket_id, user_id)
);

CREATE TABLE digests_sent (
    day DATE NOT NULL PRIMARY KEY,
    sent_at TIMESTAMP NOT NULL
);

-- Three defaults a manager may edit or remove.
INSERT INTO canned_replies (title, body, updated_at) VALUES
('Ask for missing details', 'Hello {{ full_name }},

Thank you for writing to us about your locked account (ticket {{ ticket }}).

So that we can find your account and check it is you, please reply with these three lines:

Full name:
Registered email: (the address you sign in with)
Description: (what happened)

Support is open {{ hours }}.', CURRENT_TIMESTAMP),
('Unlocked — please reset your password', 'Hello {{ full_name }},

Your account is unlocked (ticket {{ ticket }}). If you are not sure of your password, use "Forgot password?" on the sign-in page to choose a new one rather than trying again: after five failed attempts the account locks once more.

If you did not ask for this, reply to this email straight away.', CURRENT_TIMESTAMP),
('Could not verify you', 'Hello {{ full_name }},

We could not confirm that this request comes from the account holder, so we have not unlocked the account (ticket {{ ticket }}).

Please write to us from the email address registered on the account, or ask your organisation''s owner or an admin to unlock it for you from Manage Users. Support is open {{ hours }}; we next open {{ next_opening }}.', CURRENT_TIMESTAMP);
