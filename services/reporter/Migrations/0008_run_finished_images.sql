-- Every image a run published, from run.finished's `images` (stage, step, uri, tags, digest), for its final comment.
ALTER TABLE $schema$.runs ADD COLUMN IF NOT EXISTS images jsonb;
