-- A ticket's "unlocked by support N times lately" (the repeat-unlock rule, on the queue
-- and at unlock): each account's "Account unlocked" entries since a day, and who did them,
-- from the index alone. With only (target_user_id, at), the queue's first page looked up
-- every recent entry of every account in it (283 ms at a million tickets on SQLite).
CREATE INDEX events_unlocks_of_target ON events (target_user_id, action, at, actor_id);
