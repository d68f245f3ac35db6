-- Changes whose runs must stop: abandoned (until restored) or superseded below a patch set. Kept, not just applied
-- once, because a run whose plan was in flight when the change closed emits run.started afterwards: it is stopped then.
CREATE TABLE IF NOT EXISTS $schema$.change_stops (
    project        text    NOT NULL,
    change         int     NOT NULL,
    abandoned      boolean NOT NULL DEFAULT false,
    below_patchset int,
    PRIMARY KEY (project, change)
);
