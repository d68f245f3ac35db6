-- Which project may publish to each image name: the operator's Publisher:ImageOwners, else the first project that
-- published it. PipelineLib's name rule (the full or short project name, or a prefix of either) lets two projects with
-- the same last path segment, or `foo` and `foo-bar`, reach one repository; this keeps each repository to one project.
CREATE TABLE IF NOT EXISTS $schema$.image_owners (
    repository text PRIMARY KEY,
    project    text NOT NULL,
    run_id     text NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now()
);
