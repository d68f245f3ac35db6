-- The builder's local image cleaner finds runs by the first 8 characters of their id (image tags carry only those):
-- without this index each pass read the whole table (every finished run within the retention window).
CREATE INDEX IF NOT EXISTS run_state_id_prefix ON $schema$.run_state (left(run_id, 8));
