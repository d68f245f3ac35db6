-- One row per run and environment: what was running before the run's rollout began, so a retried or
-- crashed rollout still knows what to roll back to.
CREATE TABLE IF NOT EXISTS $schema$.deployments (
    run_id          text        NOT NULL,
    environment     text        NOT NULL,
    service         text        NOT NULL,
    previous_values jsonb,
    new_values      jsonb       NOT NULL,
    config_revision text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, environment)
);
