DROP INDEX events_unlocks_of_target;
