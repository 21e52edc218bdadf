-- Retention: the pruneData workflow empties old ledger bodies but keeps the row, so the
-- dedup key (tenant, provider, event_id) and its status outlive the body; it deletes old finished
-- deliveries, probe results and cost rows. The indexes let each bounded batch find its rows by age.
ALTER TABLE webhook_events ALTER COLUMN payload DROP NOT NULL;
ALTER TABLE webhook_events ADD COLUMN payload_pruned_at timestamptz;
CREATE INDEX webhook_events_prunable_idx ON webhook_events (received_at) WHERE payload IS NOT NULL;
CREATE INDEX deliveries_finished_age_idx ON deliveries (updated_at) WHERE status <> 'pending';
CREATE INDEX probe_results_age_idx ON probe_results (at);
CREATE INDEX cost_ledger_age_idx ON cost_ledger (created_at);
