-- Every step the run's plan holds ('stage/step') and its kind, in plan order: Gerrit's Checks tab
-- shows steps that have not started yet as runnable.
ALTER TABLE $schema$.runs ADD COLUMN IF NOT EXISTS planned_steps text[];
ALTER TABLE $schema$.runs ADD COLUMN IF NOT EXISTS planned_kinds text[];
CREATE INDEX IF NOT EXISTS runs_by_patchset ON $schema$.runs (change, patchset);
-- The run list (dashboard, `slipway runs`) filters by branch and lists newest first.
ALTER TABLE $schema$.runs ADD COLUMN IF NOT EXISTS branch text;
CREATE INDEX IF NOT EXISTS runs_newest_first ON $schema$.runs (started_at DESC, run_id);
-- When anything about the run last changed: live pages (server-sent events) poll for newer ones.
ALTER TABLE $schema$.runs ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX IF NOT EXISTS runs_by_update ON $schema$.runs (updated_at);
