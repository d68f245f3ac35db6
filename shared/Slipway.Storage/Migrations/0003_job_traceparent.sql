-- The span that recorded a job (W3C traceparent): the worker runs the job in a span under it, so a run's builds,
-- tests and comments stay in the run's one trace although they leave the Kafka consumer.
ALTER TABLE $schema$.jobs ADD COLUMN IF NOT EXISTS traceparent text;
