-- Every event the probe handled: the tests count rows to prove "exactly once in effect".
CREATE TABLE IF NOT EXISTS $schema$.handled (
    -- No unique event_id on purpose: a duplicate handling must show up as a second row.
    event_id   text        NOT NULL,
    key        text        NOT NULL,
    seq        int         NOT NULL,
    instance   text        NOT NULL,
    trace_id   text,
    handled_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    order_no   bigserial   PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS $schema$.job_runs (
    job_id   bigint NOT NULL,
    attempt  int    NOT NULL,
    instance text   NOT NULL,
    PRIMARY KEY (job_id, attempt)
);
