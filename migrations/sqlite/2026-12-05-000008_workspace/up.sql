-- The agent's workspace: a search index over tickets, the SLA alerts already sent (each
-- once per ticket, target and level, whichever process checks), the managers' canned
-- replies, who has a ticket open right now, and the daily digests already sent.

-- Search: one FTS5 row per ticket (rowid = ticket id) holding the names and addresses it
-- carries (stated, sender's, linked account's), its subject and its description. The
-- unicode61 tokenizer splits addresses at '.', '@', '-' and '+', as the query does. What is
-- indexed is bounded (the first 1,000 characters of the subject, 10,000 of the description):
-- a sender's megabytes of text neither slow the insert nor crowd out the addresses, and both
-- backends index the same words. One view says what a ticket's words are; triggers keep the
-- index current on every write (intake, the demo's bulk insert, a re-link).
CREATE VIEW ticket_search_words AS
    SELECT t.id AS id,
        coalesce(t.full_name, '') || ' ' || coalesce(t.registered_email, '') || ' ' || t.sender || ' ' ||
        substr(coalesce(t.sender_name, ''), 1, 200) || ' ' ||
        coalesce((SELECT u.email || ' ' || u.full_name FROM users u WHERE u.id = t.account_user_id), '') || ' ' ||
        substr(t.subject, 1, 1000) || ' ' || substr(coalesce(t.description, ''), 1, 10000) AS words
    FROM tickets t;
CREATE VIRTUAL TABLE ticket_search USING fts5(words, tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER ticket_search_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_search (rowid, words) SELECT id, words FROM ticket_search_words WHERE id = NEW.id;
END;
CREATE TRIGGER ticket_search_update AFTER UPDATE OF subject, full_name, registered_email, sender, sender_name,
        description, account_user_id ON tickets BEGIN
    DELETE FROM ticket_search WHERE rowid = OLD.id;
    INSERT INTO ticket_search (rowid, words) SELECT id, words FROM ticket_search_words WHERE id = NEW.id;
END;
CREATE TRIGGER ticket_search_delete AFTER DELETE ON tickets BEGIN
    DELETE FROM ticket_search WHERE rowid = OLD.id;
END;
INSERT INTO ticket_search (rowid, words) SELECT id, words FROM ticket_search_words;

CREATE TABLE sla_alerts (
    ticket_id BIGINT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    level TEXT NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    PRIMARY KEY (ticket_id, target, level)
);

CREATE TABLE canned_replies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
