-- Images retention must keep: what each environment runs (and the image a rollback would go back to),
-- and images waiting for an approval. Learnt from the deployer's events on the pipeline topic.
CREATE TABLE IF NOT EXISTS $schema$.deployed_images (
    environment     text NOT NULL,
    service         text NOT NULL,
    digest          text NOT NULL,
    previous_digest text,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (environment, service)
);

CREATE TABLE IF NOT EXISTS $schema$.awaiting_approval (
    run_id      text NOT NULL,
    environment text NOT NULL,
    digest      text NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, environment)
);
