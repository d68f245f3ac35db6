-- When the service last saw an event of each run (and which), so a run whose next event never comes is failed
-- after Runs:StuckAfter instead of staying open for ever.
ALTER TABLE $schema$.run_state ADD COLUMN IF NOT EXISTS last_event_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE $schema$.run_state ADD COLUMN IF NOT EXISTS last_event_type text;
CREATE INDEX IF NOT EXISTS run_state_open_since ON $schema$.run_state (last_event_at) WHERE outcome IS NULL;
