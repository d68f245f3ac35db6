-- Projects whose branches a catch-up has listed completely: from then on branch_tips holds every branch of the project
-- (the published ref-updated keep it current), so a branch missing from it was created since and its creation is published.
CREATE TABLE IF NOT EXISTS $schema$.branch_listings (
    server    text        NOT NULL,
    project   text        NOT NULL,
    listed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (server, project)
);
