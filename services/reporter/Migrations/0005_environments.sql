-- What runs where, from the deployer's events alone (the environments page): every rollout that finished
-- (deploy.succeeded full), every image promoted into an environment's values, every rollback. The newest row
-- of an environment and service is what runs there now; the rows are its configuration-registry history.
CREATE TABLE IF NOT EXISTS $schema$.deployments (
    event_id        text        NOT NULL,
    environment     text        NOT NULL,
    service         text        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('deploy', 'promote', 'rollback')),
    run_id          text,
    image_uri       text,
    image_tags      text[],
    image_digest    text,
    config_revision text,
    approved_by     text,
    by_user         text,
    detail          text,
    at              timestamptz NOT NULL,
    seq             bigserial,
    PRIMARY KEY (event_id, environment)
);
CREATE INDEX IF NOT EXISTS deployments_by_service ON $schema$.deployments (environment, service, at DESC, seq DESC);

-- Approvals asked for (approval.requested) and what became of them: waiting, granted, refused, or closed
-- (the run ended without one).
CREATE TABLE IF NOT EXISTS $schema$.approvals (
    run_id       text        NOT NULL,
    environment  text        NOT NULL,
    service      text,
    stage        text,
    step         text,
    image_uri    text,
    image_tags   text[],
    image_digest text,
    requested_at timestamptz,
    state        text        NOT NULL CHECK (state IN ('waiting', 'granted', 'refused', 'closed')),
    decided_by   text,
    decided_via  text,
    decided_at   timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, environment)
);
CREATE INDEX IF NOT EXISTS approvals_waiting ON $schema$.approvals (state) WHERE state = 'waiting';
