-- Subscribers: internal services that receive provider events, signed with Standard Webhooks.
CREATE TABLE subscribers (
  id               text PRIMARY KEY,
  tenant           text        NOT NULL,
  url              text        NOT NULL,
  providers        text[]      NOT NULL DEFAULT '{}',   -- empty: every provider
  event_types      text[]      NOT NULL DEFAULT '{}',   -- empty: every type; 'prefix.*' patterns allowed
  signing_secret   text        NOT NULL,                -- whsec_<base64>, shown once at creation
  enabled          boolean     NOT NULL DEFAULT true,
  disabled_reason  text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscribers_tenant_idx ON subscribers (tenant) WHERE enabled;

-- One row per (subscriber, event): the delivery's state, attempts and last error.
CREATE TABLE deliveries (
  id            text PRIMARY KEY,                        -- the deliverEvent workflow id
  tenant        text        NOT NULL,
  subscriber_id text        NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  provider      text        NOT NULL,
  event_id      text        NOT NULL,
  event_type    text        NOT NULL,
  status        text        NOT NULL CHECK (status IN ('pending', 'delivered', 'dead_lettered', 'skipped')),
  attempts      integer     NOT NULL DEFAULT 0,
  last_status   integer,
  last_error    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  delivered_at  timestamptz
);
CREATE INDEX deliveries_event_idx ON deliveries (tenant, provider, event_id);
CREATE INDEX deliveries_subscriber_idx ON deliveries (subscriber_id, status);
