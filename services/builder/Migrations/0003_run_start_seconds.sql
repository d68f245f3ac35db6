-- The second each run of a project started in: its publish tag is <that second>-<stage>, so two runs of one project never
-- share one (two merges in one second would tag the second's image over the first's). Rows older than a day are
-- pruned when the project's next run claims its second.
CREATE TABLE IF NOT EXISTS $schema$.run_start_seconds (
    project    text        NOT NULL,
    started_at timestamptz NOT NULL,
    PRIMARY KEY (project, started_at)
);
