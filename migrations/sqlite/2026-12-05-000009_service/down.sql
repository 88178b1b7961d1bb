DROP INDEX outbox_unsent;
DROP TABLE worker_leases;
