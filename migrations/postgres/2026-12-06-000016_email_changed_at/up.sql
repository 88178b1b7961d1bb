-- When the user's sign-in address last changed: an unlock PIN is not sent to an address
-- set less than a day ago (a stolen owner session could otherwise point it at its own).
ALTER TABLE users ADD COLUMN email_changed_at TIMESTAMP;
