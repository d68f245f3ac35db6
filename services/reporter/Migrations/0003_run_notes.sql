-- What the planner left out of a run and why (run.started's plan.notes), shown in the run's Gerrit comments.
ALTER TABLE $schema$.runs ADD COLUMN IF NOT EXISTS notes text[];
