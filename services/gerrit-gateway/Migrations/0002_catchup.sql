-- Where a pending catch-up starts: set when a gap begins (disconnect, restart, dropped-output),
-- cleared when the catch-up has published everything it found. Survives a crash mid-catch-up,
-- so live events that moved last_event_at forward meanwhile do not hide the gap.
ALTER TABLE $schema$.stream_state ADD COLUMN IF NOT EXISTS catchup_from timestamptz;
