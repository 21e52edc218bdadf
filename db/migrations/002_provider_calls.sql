-- Circuit breaker per provider, shared by every worker: one row updated atomically.
CREATE TABLE circuit_breakers (
  provider               text PRIMARY KEY,
  state                  text        NOT NULL DEFAULT 'closed' CHECK (state IN ('closed', 'open', 'half_open')),
  consecutive_failures   integer     NOT NULL DEFAULT 0,
  half_open_successes    integer     NOT NULL DEFAULT 0,
  opened_at              timestamptz,
  open_until             timestamptz,
  updated_at             timestamptz NOT NULL DEFAULT now()
);

-- Recent call outcomes, for the error-rate rule and (later) SLA reports.
CREATE TABLE provider_call_outcomes (
  id          bigserial PRIMARY KEY,
  provider    text        NOT NULL,
  operation   text        NOT NULL,
  success     boolean     NOT NULL,
  status      integer,
  duration_ms integer     NOT NULL,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX provider_call_outcomes_recent_idx ON provider_call_outcomes (provider, at DESC);

-- Cost ledger: a call reserves its cost before running, then settles (ran) or is released (did not).
CREATE TABLE cost_ledger (
  id            bigserial PRIMARY KEY,
  reservation   text        NOT NULL UNIQUE,
  tenant        text        NOT NULL,
  provider      text        NOT NULL,
  operation     text        NOT NULL,
  workflow_id   text        NOT NULL,
  amount_usd    numeric(14, 6) NOT NULL,
  status        text        NOT NULL CHECK (status IN ('reserved', 'settled', 'released')),
  critical      boolean     NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  settled_at    timestamptz
);
CREATE INDEX cost_ledger_provider_time_idx ON cost_ledger (provider, created_at);

-- Budget threshold crossings (70/85/95%), recorded once per provider, period and threshold.
CREATE TABLE budget_alerts (
  id            bigserial PRIMARY KEY,
  provider      text        NOT NULL,
  period        text        NOT NULL CHECK (period IN ('daily', 'monthly')),
  period_start  date        NOT NULL,
  threshold     integer     NOT NULL,
  used_usd      numeric(14, 6) NOT NULL,
  budget_usd    numeric(14, 6) NOT NULL,
  raised_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, period, period_start, threshold)
);

-- Read-through cache for idempotent provider reads; keys start with tenant:provider:operation:.
CREATE TABLE provider_cache (
  key         text PRIMARY KEY,
  value       jsonb       NOT NULL,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX provider_cache_expires_idx ON provider_cache (expires_at);
