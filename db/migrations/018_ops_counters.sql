-- Counters for the operator reads (GET /cache/stats, /rate-limits, /reports/performance), kept in
-- PostgreSQL so every worker adds to the same figures and a restart loses none (prom-client's
-- counters are per process and start at zero). One row per bucket, updated in place: a look-up or
-- a request adds one to its row rather than a row of its own.

-- Provider cache look-ups per tenant, provider, operation and hour.
CREATE TABLE provider_cache_stats (
  tenant     text        NOT NULL,
  provider   text        NOT NULL,
  operation  text        NOT NULL,
  hour       timestamptz NOT NULL,
  hits       bigint      NOT NULL DEFAULT 0,
  misses     bigint      NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant, provider, operation, hour)
);
CREATE INDEX provider_cache_stats_hour_idx ON provider_cache_stats (hour);

-- Provider requests (calls and batch flushes, probes excluded) per provider, minute and outcome.
CREATE TABLE provider_request_counts (
  provider   text        NOT NULL,
  minute     timestamptz NOT NULL,
  outcome    text        NOT NULL CHECK (outcome IN ('success', 'rejected', 'throttled', 'unavailable')),
  requests   bigint      NOT NULL DEFAULT 0,
  PRIMARY KEY (provider, minute, outcome)
);
CREATE INDEX provider_request_counts_minute_idx ON provider_request_counts (minute);
