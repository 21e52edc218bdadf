-- The audit log: one row per operator or admin action (replay, retry, ack, cache
-- invalidation, subscriber and API-key changes), through the API or the CLI, with who (actor kind
-- and id: key id, token subject or OS user; role), which tenant, when, what and on what. `detail`
-- never holds a secret (no key, no signing secret, no URL credentials). `status` is the HTTP
-- answer (NULL for the CLI, which records only what it did); `outcome` says whether the action
-- was done.
--
-- Append-only, enforced here: the service connects as the database owner (often a superuser), so
-- REVOKE UPDATE/DELETE would not bind it; triggers refusing UPDATE, DELETE and TRUNCATE do.
-- Removing old rows is a deliberate schema change (drop the triggers), never a query.
CREATE TABLE audit_log (
  id         bigserial   PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  tenant     text        NOT NULL,
  actor_kind text        NOT NULL CHECK (actor_kind IN ('api-key', 'jwt', 'cli')),
  actor_id   text        NOT NULL,
  role       text,
  action     text        NOT NULL,
  target     text,
  detail     jsonb       NOT NULL DEFAULT '{}',
  status     integer,
  outcome    text        NOT NULL CHECK (outcome IN ('done', 'failed', 'denied'))
);
CREATE INDEX audit_log_tenant_at_idx ON audit_log (tenant, at DESC, id DESC);

CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
