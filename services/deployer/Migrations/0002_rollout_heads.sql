-- Per environment and service, the run whose image was recorded last and when that run's trigger came
-- (run.started's startedAt): a run triggered earlier that comes later is superseded instead of overwriting it.
-- Written only while holding the environment and service's rollout lock (RolloutGate).
CREATE TABLE IF NOT EXISTS $schema$.rollout_heads (
    environment    text        NOT NULL,
    service        text        NOT NULL,
    run_id         text        NOT NULL,
    run_started_at timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (environment, service)
);
