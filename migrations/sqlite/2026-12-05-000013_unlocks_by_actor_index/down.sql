DROP INDEX events_unlocks_by_actor;
