-- Projects whose tags a catch-up has listed completely: from then on branch_tips also holds every tag of the project
-- (refs/tags/*, kept current by the published ref-updated), so a tag missing from it was created since and its creation
-- is published. Apart from branch_listings: a project listed before tags were caught up must not take its old tags as new.
CREATE TABLE IF NOT EXISTS $schema$.tag_listings (
    server    text        NOT NULL,
    project   text        NOT NULL,
    listed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (server, project)
);
