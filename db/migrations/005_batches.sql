-- Per-item results of batched provider operations, written when the item's batch is flushed.
CREATE TABLE batch_items (
  item_id            text PRIMARY KEY,
  tenant             text        NOT NULL,
  provider           text        NOT NULL,
  operation          text        NOT NULL,
  priority           text        NOT NULL,
  status             text        NOT NULL CHECK (status IN ('sent', 'failed')),
  result             jsonb,
  error              text,
  batch_size         integer     NOT NULL,
  batch_workflow_id  text        NOT NULL,
  sent_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX batch_items_tenant_idx ON batch_items (tenant, provider, sent_at DESC);
