-- What the reporter knows of each run, from the pipeline events alone: the comments and the
-- status page are made from these rows.
CREATE TABLE IF NOT EXISTS $schema$.runs (
    run_id       text        PRIMARY KEY,
    project      text        NOT NULL,
    change       int,
    patchset     int,
    revision     text        NOT NULL,
    ref          text        NOT NULL,
    trigger_kind text        NOT NULL,
    pipeline     text        NOT NULL,
    total_steps  int         NOT NULL,
    first_step   text,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    outcome      text,
    failed_step  text,
    reason       text,
    image_uri    text,
    image_tags   text[],
    image_digest text
);

CREATE TABLE IF NOT EXISTS $schema$.steps (
    run_id      text        NOT NULL,
    stage       text        NOT NULL,
    step        text        NOT NULL,
    kind        text        NOT NULL,
    state       text        NOT NULL CHECK (state IN ('running', 'succeeded', 'failed')),
    attempt     int         NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    duration_ms bigint,
    reason      text,
    output_tail text,
    seq         bigserial,
    PRIMARY KEY (run_id, stage, step)
);
