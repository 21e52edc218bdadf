-- The webhook ledger: one row per accepted provider event, the long-horizon duplicate guard.
CREATE TABLE webhook_events (
  id            bigserial PRIMARY KEY,
  tenant        text        NOT NULL,
  provider      text        NOT NULL,
  event_id      text        NOT NULL,
  event_type    text        NOT NULL,
  workflow_id   text        NOT NULL,
  run_id        text,
  status        text        NOT NULL CHECK (status IN ('received', 'processing', 'completed', 'failed')),
  handler       text,
  outcome       text,
  last_error    text,
  payload       jsonb       NOT NULL,
  received_at   timestamptz NOT NULL,
  recorded_at   timestamptz NOT NULL DEFAULT now(),
  completed_at  timestamptz,
  UNIQUE (tenant, provider, event_id)
);
CREATE INDEX webhook_events_received_idx ON webhook_events (tenant, provider, received_at DESC);
CREATE INDEX webhook_events_status_idx ON webhook_events (status) WHERE status <> 'completed';

-- Payments recorded from provider events (e.g. Stripe payment_intent.succeeded), once per payment.
CREATE TABLE payments (
  id               bigserial PRIMARY KEY,
  tenant           text        NOT NULL,
  provider         text        NOT NULL,
  payment_id       text        NOT NULL,
  amount           bigint      NOT NULL,
  currency         text        NOT NULL,
  status           text        NOT NULL,
  customer         text,
  source_event_id  text        NOT NULL,
  recorded_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant, provider, payment_id)
);
