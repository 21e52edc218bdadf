-- Monitoring: health probes, provider health, SLA reports, alerts, and the NOTIFY
-- channel the API's live stream (GET /stream) listens on.

-- One row per probe of a provider's probe endpoint (healthProbe workflow, every intervalSeconds).
CREATE TABLE probe_results (
  id          bigserial PRIMARY KEY,
  provider    text        NOT NULL,
  ok          boolean     NOT NULL,
  status      integer,
  latency_ms  integer     NOT NULL,
  error       text,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX probe_results_recent_idx ON probe_results (provider, at DESC);

-- The latest view of each provider: up/degraded/down and its health score (0..1).
CREATE TABLE provider_health (
  provider         text PRIMARY KEY,
  status           text        NOT NULL CHECK (status IN ('up', 'degraded', 'down')),
  score            double precision NOT NULL,
  last_latency_ms  integer     NOT NULL,
  last_probe_ok    boolean     NOT NULL,
  changed_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- One SLA report per provider, window and period; compliant = every threshold met.
CREATE TABLE sla_reports (
  id             bigserial PRIMARY KEY,
  provider       text        NOT NULL,
  time_window    text        NOT NULL CHECK (time_window IN ('hourly', 'daily')),
  period_start   timestamptz NOT NULL,
  period_end     timestamptz NOT NULL,
  probes         integer     NOT NULL,
  calls          integer     NOT NULL,
  availability   double precision,
  p95_ms         double precision,
  error_rate     double precision,
  target         jsonb       NOT NULL,
  violations     jsonb       NOT NULL DEFAULT '[]',
  compliant      boolean     NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, time_window, period_end)
);
CREATE INDEX sla_reports_provider_idx ON sla_reports (provider, time_window, period_end DESC);

-- Alerts as their `alert` workflows last saved them (the workflow is the source of truth).
CREATE TABLE alerts (
  id                text PRIMARY KEY,           -- the workflow id: alert:{rule}:{fingerprint}
  run_id            text        NOT NULL,
  rule              text        NOT NULL,
  fingerprint       text        NOT NULL,
  severity          text        NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
  provider          text,
  summary           text        NOT NULL,
  state             text        NOT NULL CHECK (state IN ('firing', 'acknowledged', 'resolved')),
  escalation_level  integer     NOT NULL DEFAULT 0,
  notifications     jsonb       NOT NULL DEFAULT '[]',
  acknowledged_by   text,
  started_at        timestamptz NOT NULL,
  acknowledged_at   timestamptz,
  resolved_at       timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_state_idx ON alerts (state, updated_at DESC);

-- Webhook outcomes and budget warnings reach the live stream without touching their writers:
-- triggers NOTIFY the same channel the monitoring activities use.
CREATE FUNCTION notify_webhook_outcome() RETURNS trigger AS $$
BEGIN
  IF NEW.status IN ('completed', 'failed') AND NEW.status IS DISTINCT FROM OLD.status THEN
    PERFORM pg_notify('switchyard_events', json_build_object(
      'topic', 'webhook', 'tenant', NEW.tenant,
      'data', json_build_object('workflowId', NEW.workflow_id, 'provider', NEW.provider, 'eventId', NEW.event_id,
                                'eventType', NEW.event_type, 'status', NEW.status, 'error', left(NEW.last_error, 500)))::text);
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER webhook_events_notify AFTER UPDATE OF status ON webhook_events
  FOR EACH ROW EXECUTE FUNCTION notify_webhook_outcome();

CREATE FUNCTION notify_budget_alert() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('switchyard_events', json_build_object(
    'topic', 'budget', 'tenant', NULL,
    'data', json_build_object('provider', NEW.provider, 'period', NEW.period, 'threshold', NEW.threshold,
                              'usedUsd', NEW.used_usd, 'budgetUsd', NEW.budget_usd))::text);
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER budget_alerts_notify AFTER INSERT ON budget_alerts
  FOR EACH ROW EXECUTE FUNCTION notify_budget_alert();
