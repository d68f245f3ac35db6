-- Inbox: ids of events a consumer has handled, written in the handler's own transaction,
-- so a re-delivered event is recognised and skipped.
CREATE TABLE IF NOT EXISTS $schema$.inbox (
    consumer   text        NOT NULL,
    event_id   text        NOT NULL,
    topic      text        NOT NULL,
    partition  int         NOT NULL,
    "offset"   bigint      NOT NULL,
    handled_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Outbox: events to emit, written in the same transaction as the effects that cause them;
-- the relay produces them to Kafka and deletes them.
CREATE TABLE IF NOT EXISTS $schema$.outbox (
    id         bigserial   PRIMARY KEY,
    topic      text        NOT NULL,
    key        text        NOT NULL,
    event_id   text        NOT NULL,
    event_type text        NOT NULL,
    payload    bytea       NOT NULL,
    traceparent text,
    created_at timestamptz NOT NULL DEFAULT now()
);
