-- The last tip the gateway saw per branch (from a published ref-updated, or read when a catch-up first met
-- the branch): a catch-up compares it with the branch's tip now and rebuilds the ref-updated of a direct push.
CREATE TABLE IF NOT EXISTS $schema$.branch_tips (
    server     text        NOT NULL,
    project    text        NOT NULL,
    ref_name   text        NOT NULL,
    revision   text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (server, project, ref_name)
);
