-- API keys for the service API. Only a SHA-256 of the secret part is stored: the key is
-- shown once when created. A key belongs to one tenant and has one role.
CREATE TABLE api_keys (
  key_id        text PRIMARY KEY,
  tenant        text        NOT NULL,
  role          text        NOT NULL CHECK (role IN ('admin', 'operator', 'service')),
  name          text        NOT NULL,
  secret_sha256 bytea       NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz,
  last_used_at  timestamptz
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant, created_at DESC);
