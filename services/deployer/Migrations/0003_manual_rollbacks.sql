-- Manual rollback requests (POST /api/services/{service}/rollback), one row per request id. A job (kind manual-rollback)
-- carries each out, so a rollback a crash interrupted is finished after the restart; the answer is kept, so a client that
-- asks again with the same Idempotency-Key gets it back instead of a second rollback. status and answer stay null until
-- the rollback ends (answer: the HTTP status and JSON body the API gives).
CREATE TABLE IF NOT EXISTS $schema$.manual_rollbacks (
    id           text        PRIMARY KEY,
    environment  text        NOT NULL,
    service      text        NOT NULL,
    requested_by text        NOT NULL,
    all_at_once  boolean     NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    status       int,
    answer       jsonb,
    finished_at  timestamptz
);
