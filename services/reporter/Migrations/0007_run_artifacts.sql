-- Files a run step kept as run artifacts (PipelineLib's copy with archive: true), from test.succeeded: listed on the
-- run page and served from the run artifact directory, only when listed here.
CREATE TABLE IF NOT EXISTS $schema$.run_artifacts (
    run_id     text        NOT NULL,
    stage      text        NOT NULL,
    step       text        NOT NULL,
    path       text        NOT NULL,
    size_bytes bigint      NOT NULL,
    sha256     text        NOT NULL,
    at         timestamptz NOT NULL,
    PRIMARY KEY (run_id, stage, path)
);
