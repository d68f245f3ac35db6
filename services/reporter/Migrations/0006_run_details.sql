-- The run page's execution graph (the plan's stages and what each waits for, as JSON), the run's trace id (from
-- run.started's traceparent: one trace per run), and the images its steps made.
ALTER TABLE $schema$.runs ADD COLUMN IF NOT EXISTS graph text;
ALTER TABLE $schema$.runs ADD COLUMN IF NOT EXISTS trace_id text;

CREATE TABLE IF NOT EXISTS $schema$.run_images (
    run_id    text        NOT NULL,
    stage     text        NOT NULL,
    step      text        NOT NULL,
    kind      text        NOT NULL CHECK (kind IN ('built', 'published')),
    image_ref text,
    image_id  text,
    uri       text,
    tags      text[],
    digest    text,
    at        timestamptz NOT NULL,
    PRIMARY KEY (run_id, stage, step)
);
