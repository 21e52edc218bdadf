-- The webhook inbox (issue 21): the ledger row is written by the API before its 2xx, and the
-- drainer in every worker starts processWebhook for each row not yet started.
--   started_at  NULL while the row waits for its start; set once the server acknowledged it.
--   task_queue  the task queue the accepting API starts on; a drainer claims only its own queue's rows.
ALTER TABLE webhook_events ADD COLUMN started_at timestamptz;
ALTER TABLE webhook_events ADD COLUMN task_queue text;
-- Every row before this migration was written by its own running workflow: already started.
UPDATE webhook_events SET started_at = recorded_at WHERE started_at IS NULL;
-- The drainer's claim and the backlog gauge read only waiting rows: a small partial index.
CREATE INDEX webhook_events_inbox_idx ON webhook_events (task_queue, received_at, id) WHERE started_at IS NULL;
