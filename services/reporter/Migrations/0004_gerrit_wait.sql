-- A run comment waiting for Gerrit (down or answering 5xx): since when, how many tries, the last error.
-- Shown on the run's status page; cleared when the comment is posted (or fails for good).
ALTER TABLE $schema$.runs ADD COLUMN IF NOT EXISTS gerrit_waiting_since timestamptz;
ALTER TABLE $schema$.runs ADD COLUMN IF NOT EXISTS gerrit_tries integer;
ALTER TABLE $schema$.runs ADD COLUMN IF NOT EXISTS gerrit_last_error text;
