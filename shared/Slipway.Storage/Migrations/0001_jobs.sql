-- Long steps (builds, tests) are jobs: recorded by a Kafka handler, leased by workers.
CREATE TABLE IF NOT EXISTS $schema$.jobs (
    id               bigserial PRIMARY KEY,
    kind             text        NOT NULL,
    dedupe_key       text        NOT NULL UNIQUE,
    run_id           text,
    payload          jsonb       NOT NULL,
    state            text        NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
    attempts         int         NOT NULL DEFAULT 0,
    max_attempts     int         NOT NULL DEFAULT 3,
    lease_owner      text,
    lease_expires_at timestamptz,
    not_before       timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
CREATE INDEX IF NOT EXISTS jobs_leasable ON $schema$.jobs (id) WHERE state IN ('pending', 'running');
CREATE INDEX IF NOT EXISTS jobs_run ON $schema$.jobs (run_id);
