-- Secrets at rest: subscriber signing secrets, webhook signing secrets and provider
-- credentials are stored envelope-encrypted (lib/secret-box.ts): `*master_key_id` names the
-- SECRETS_MASTER_KEYS entry that wrapped the row's data key, `*wrapped_key` is that data key
-- encrypted under it, `*ciphertext` the secret encrypted under the data key. Both are bound to the
-- row's identity, so they do not open when copied to another row.
--
-- Subscribers, in steps that never break a process still running the previous version:
-- 1. this migration only adds columns and lets `signing_secret` be NULL: an older API keeps
--    inserting plaintext rows, an older worker keeps reading them;
-- 2. `sealPlaintextSubscriberSecrets` (run by the set-up, the API at start, and
--    `npm run secrets -- seal-subscribers`) encrypts each remaining plaintext secret and clears it,
--    one row at a time, only if it is still the value it read;
-- 3. the new code writes sealed secrets only and reads either form. A later migration drops
--    `signing_secret` once no older process runs.
ALTER TABLE subscribers
  ALTER COLUMN signing_secret DROP NOT NULL,
  ADD COLUMN secret_master_key_id text,
  ADD COLUMN secret_wrapped_key   bytea,
  ADD COLUMN secret_ciphertext    bytea,
  ADD CONSTRAINT subscribers_secret_sealed_whole CHECK (
    (secret_master_key_id IS NULL) = (secret_wrapped_key IS NULL) AND (secret_wrapped_key IS NULL) = (secret_ciphertext IS NULL)),
  ADD CONSTRAINT subscribers_secret_present CHECK (signing_secret IS NOT NULL OR secret_ciphertext IS NOT NULL);

-- Webhook signing secrets per tenant and source, next to WEBHOOK_SECRETS_FILE and the environment
-- (admin API: /webhook-secrets). `fingerprint` is the first 8 hex digits of the secret's SHA-256,
-- enough to tell two secrets apart, not to recover one; `not_after` ends a rotation window.
CREATE TABLE webhook_signing_secrets (
  id            text        PRIMARY KEY,
  tenant        text        NOT NULL,
  source        text        NOT NULL,
  fingerprint   text        NOT NULL,
  not_after     timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  master_key_id text        NOT NULL,
  wrapped_key   bytea       NOT NULL,
  ciphertext    bytea       NOT NULL
);
CREATE INDEX webhook_signing_secrets_source_idx ON webhook_signing_secrets (tenant, source);

-- Provider credentials (system-wide, `npm run secrets -- credentials …`): one row per provider and
-- credential field of config/providers.json; the worker prefers it to the environment variable.
CREATE TABLE provider_credentials (
  provider      text        NOT NULL,
  field         text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  master_key_id text        NOT NULL,
  wrapped_key   bytea       NOT NULL,
  ciphertext    bytea       NOT NULL,
  PRIMARY KEY (provider, field)
);
