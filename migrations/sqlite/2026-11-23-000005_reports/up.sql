-- Reports read a range of ticket history by time. The first index answers that read from
-- the index alone (no table lookups); the second finds the tickets received in a range, also from the index alone;
-- the third counts unlocks by who did them, from the index alone too.
CREATE INDEX ticket_events_by_time ON ticket_events (at, kind, ticket_id, actor_id, id);
CREATE INDEX tickets_received ON tickets (received_at, id, account_user_id, verification_method);
CREATE INDEX events_action ON events (action, at, organisation_id, actor_id);
