-- A message that can never be sent as it stands (an address the mail library cannot write,
-- say) is given up: kept, with its error, shown to the operator, and no longer tried or
-- counted as pending.
ALTER TABLE outbox ADD COLUMN given_up_at TIMESTAMP;
