-- A health probe's local activity can run more than once for one probe (a retried workflow task,
-- or an eviction with the activity in flight). Its key (`{workflowId}:{runId}:{activityId}`) makes
-- the first run's row the probe's only row: a re-run records no second row and no second circuit
-- outcome, and answers what the first run recorded. Probes run outside a workflow have no key.
ALTER TABLE probe_results ADD COLUMN probe_key text;
CREATE UNIQUE INDEX probe_results_key_idx ON probe_results (probe_key) WHERE probe_key IS NOT NULL;
