-- What a stage service knows of each run, rebuilt from the pipeline events it consumed (no service reads
-- another's tables): the plan from run.started, each step's outcome and result data, approvals, the outcome.
CREATE TABLE IF NOT EXISTS $schema$.run_state (
    run_id      text PRIMARY KEY,
    started     jsonb       NOT NULL,
    steps       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    approvals   jsonb       NOT NULL DEFAULT '{}'::jsonb,
    outcome     text,
    project     text,
    change      int,
    patchset    int,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS run_state_change ON $schema$.run_state (project, change) WHERE outcome IS NULL;
