-- Rate limit of the optional progress comments: when the last one was recorded for the run.
ALTER TABLE $schema$.runs ADD COLUMN IF NOT EXISTS last_progress_at timestamptz;
