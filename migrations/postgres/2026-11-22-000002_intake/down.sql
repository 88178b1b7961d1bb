DROP TABLE intake_health;
DROP TABLE ticket_messages;
DROP TABLE inbound_messages;
DROP TABLE tickets;
