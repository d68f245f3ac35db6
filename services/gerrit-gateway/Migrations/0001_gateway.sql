-- Every Gerrit event the gateway has published, by its derived id: the same event arriving
-- again (stream after catch-up, webhook, restart) is dropped, across restarts too.
CREATE TABLE IF NOT EXISTS $schema$.seen_events (
    event_id    text        PRIMARY KEY,
    type        text        NOT NULL,
    source      text        NOT NULL,
    created_on  timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- The newest eventCreatedOn seen per Gerrit server: where a catch-up after a gap starts.
CREATE TABLE IF NOT EXISTS $schema$.stream_state (
    server        text        PRIMARY KEY,
    last_event_at timestamptz NOT NULL
);
