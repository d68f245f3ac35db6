-- Every run the builder created for a change, from the moment its trigger is accepted (before run.started exists),
-- so a newer patch set or an abandon can stop runs that are still being planned.
CREATE TABLE IF NOT EXISTS $schema$.change_runs (
    run_id     text PRIMARY KEY,
    project    text        NOT NULL,
    change     int         NOT NULL,
    patchset   int,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS change_runs_change ON $schema$.change_runs (project, change);
