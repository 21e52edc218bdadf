-- Budget crossings reach people: each budget_alerts row (70/85/95%, and 90% for the throttle) is
-- raised as an `alert` workflow once (notified_at), and resolved once its period is over
-- (resolved_at). Rows from before this migration were never paged: they count as done.
ALTER TABLE budget_alerts ADD COLUMN notified_at timestamptz;
ALTER TABLE budget_alerts ADD COLUMN resolved_at timestamptz;
UPDATE budget_alerts SET notified_at = raised_at, resolved_at = raised_at;
CREATE INDEX budget_alerts_open_idx ON budget_alerts (provider) WHERE notified_at IS NULL OR resolved_at IS NULL;
