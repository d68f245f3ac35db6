-- Jobs sharing a serial key run one at a time, in the order they were recorded
-- (e.g. one run's Gerrit comments: the start before the result).
ALTER TABLE $schema$.jobs ADD COLUMN IF NOT EXISTS serial_key text;
CREATE INDEX IF NOT EXISTS jobs_serial ON $schema$.jobs (serial_key, id) WHERE serial_key IS NOT NULL AND state IN ('pending', 'running');
