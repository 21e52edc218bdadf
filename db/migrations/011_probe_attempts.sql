-- A health probe's local activity can run more than once for one probe (its workflow task retried
-- after a worker crash, a task timeout or a cache eviction). The probe that last wrote the row is
-- remembered with the status it replaced, so a second run of the same probe answers the same
-- previous status instead of its own first write's ('up' → 'up' where 'down' → 'up' happened).
ALTER TABLE provider_health ADD COLUMN last_probe_key text;
ALTER TABLE provider_health ADD COLUMN previous_status text CHECK (previous_status IN ('up', 'degraded', 'down'));
