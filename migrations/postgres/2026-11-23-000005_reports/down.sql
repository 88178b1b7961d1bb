DROP INDEX ticket_events_by_time;
DROP INDEX tickets_received;
DROP INDEX events_action;
