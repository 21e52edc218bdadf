/**
 * The secrets Switchyard keeps in PostgreSQL, sealed with lib/security/secret-box.ts (migration
 * 010_secrets_at_rest.sql): subscriber signing secrets, webhook signing secrets per tenant and
 * source, provider credentials per provider and field. One module reads and writes all three, so
 * every row is bound to the same identity (its context) wherever it is opened, and the master key
 * rotation and the plaintext sweep know every sealed column.
 *
 * Listings carry metadata only (ids, source, fingerprint, dates, master key id); a value leaves
 * this module only from the functions that open one for use (verification, signing, a call).
 */
import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { loadConfig } from '../config/config';
import type { Keyring } from './keyring';
import { openSecret, rewrapSecret, sealSecret, secretContext, SecretBoxError, type SealedSecret } from './secret-box';

type Queryable = Pick<Pool, 'query'>;

let configured: { keyring: Keyring | undefined } | undefined;
/** SECRETS_MASTER_KEYS (or its _FILE) of this process's configuration, read once. */
export function configuredSecretsKeyring(): Keyring | undefined {
  configured ??= { keyring: loadConfig().SECRETS_MASTER_KEYS };
  return configured.keyring;
}

export const subscriberSecretContext = (tenant: string, id: string): string => secretContext('subscriber-signing-secret', tenant, id);
export const webhookSecretContext = (tenant: string, source: string, id: string): string => secretContext('webhook-signing-secret', tenant, source, id);
export const providerCredentialContext = (provider: string, field: string): string => secretContext('provider-credential', provider, field);

/** A short, non-secret way to tell secrets apart: the first 8 hex digits of the SHA-256. */
export function fingerprintOf(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 8);
}

/** Why a stored secret could not be used, by the row's id: never the value or key material. */
export interface SecretFailure {
  id: string;
  reason: string;
  error: SecretBoxError;
}

function failureOf(id: string, err: unknown): SecretFailure {
  if (err instanceof SecretBoxError) return { id, reason: err.message, error: err };
  throw err;
}

// ---------------------------------------------------------------- subscribers

/** The subscriber columns a signing secret is read from (sealed, or plaintext from before migration 010). */
export const subscriberSecretColumns = 'signing_secret, secret_master_key_id, secret_wrapped_key, secret_ciphertext';

export interface SubscriberSecretRow {
  signing_secret: string | null;
  secret_master_key_id: string | null;
  secret_wrapped_key: Buffer | null;
  secret_ciphertext: Buffer | null;
}

export function sealSubscriberSecret(keyring: Keyring | undefined, tenant: string, id: string, secret: string): SealedSecret {
  return sealSecret(keyring, subscriberSecretContext(tenant, id), secret);
}

/** The subscriber's signing secret: the sealed one, else a plaintext one not yet swept. */
export function openSubscriberSecret(keyring: Keyring | undefined, tenant: string, id: string, row: SubscriberSecretRow): string {
  if (row.secret_master_key_id !== null && row.secret_wrapped_key !== null && row.secret_ciphertext !== null) {
    return openSecret(keyring, subscriberSecretContext(tenant, id), {
      keyId: row.secret_master_key_id,
      wrappedKey: row.secret_wrapped_key,
      ciphertext: row.secret_ciphertext,
    });
  }
  if (row.signing_secret !== null) return row.signing_secret;
  throw new Error(`subscriber ${id} has no signing secret`);
}

// ---------------------------------------------------------------- webhook signing secrets

export interface WebhookSecretInfo {
  id: string;
  source: string;
  fingerprint: string;
  createdAt: string;
  notAfter: string | null;
}

interface WebhookSecretRow {
  id: string;
  tenant: string;
  source: string;
  fingerprint: string;
  created_at: Date;
  not_after: Date | null;
  master_key_id: string;
  wrapped_key: Buffer;
  ciphertext: Buffer;
}

const webhookInfoColumns = 'id, source, fingerprint, created_at, not_after';

function webhookInfo(row: Pick<WebhookSecretRow, 'id' | 'source' | 'fingerprint' | 'created_at' | 'not_after'>): WebhookSecretInfo {
  return { id: row.id, source: row.source, fingerprint: row.fingerprint, createdAt: row.created_at.toISOString(), notAfter: row.not_after?.toISOString() ?? null };
}

export async function addWebhookSecret(
  db: Queryable,
  keyring: Keyring | undefined,
  entry: { id: string; tenant: string; source: string; secret: string; notAfter?: string | null },
): Promise<WebhookSecretInfo> {
  const sealed = sealSecret(keyring, webhookSecretContext(entry.tenant, entry.source, entry.id), entry.secret);
  const { rows } = await db.query<WebhookSecretRow>(
    `INSERT INTO webhook_signing_secrets (id, tenant, source, fingerprint, not_after, master_key_id, wrapped_key, ciphertext)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${webhookInfoColumns}`,
    [entry.id, entry.tenant, entry.source, fingerprintOf(entry.secret), entry.notAfter ?? null, sealed.keyId, sealed.wrappedKey, sealed.ciphertext],
  );
  return webhookInfo(rows[0]!);
}

export async function listWebhookSecretInfo(db: Queryable, tenant: string, source?: string): Promise<WebhookSecretInfo[]> {
  const { rows } = await db.query<WebhookSecretRow>(
    `SELECT ${webhookInfoColumns} FROM webhook_signing_secrets WHERE tenant = $1 AND ($2::text IS NULL OR source = $2) ORDER BY source, created_at, id`,
    [tenant, source ?? null],
  );
  return rows.map(webhookInfo);
}

/** Sets or clears the end of a secret's window; undefined when the tenant has no such secret. */
export async function setWebhookSecretNotAfter(db: Queryable, tenant: string, id: string, notAfter: string | null): Promise<WebhookSecretInfo | undefined> {
  const { rows } = await db.query<WebhookSecretRow>(
    `UPDATE webhook_signing_secrets SET not_after = $3 WHERE tenant = $1 AND id = $2 RETURNING ${webhookInfoColumns}`,
    [tenant, id, notAfter],
  );
  return rows[0] && webhookInfo(rows[0]);
}

export async function deleteWebhookSecret(db: Queryable, tenant: string, id: string): Promise<WebhookSecretInfo | undefined> {
  const { rows } = await db.query<WebhookSecretRow>(`DELETE FROM webhook_signing_secrets WHERE tenant = $1 AND id = $2 RETURNING ${webhookInfoColumns}`, [tenant, id]);
  return rows[0] && webhookInfo(rows[0]);
}

export interface OpenedWebhookSecret {
  id: string;
  secret: string;
  notAfterMs: number | undefined;
}

/** Every stored secret of the source (live or not: the caller filters by time), opened; rows that do not open are reported by id. */
export async function openWebhookSecrets(
  db: Queryable,
  keyring: Keyring | undefined,
  tenant: string,
  source: string,
): Promise<{ secrets: OpenedWebhookSecret[]; failures: SecretFailure[] }> {
  const { rows } = await db.query<WebhookSecretRow>(
    'SELECT id, not_after, master_key_id, wrapped_key, ciphertext FROM webhook_signing_secrets WHERE tenant = $1 AND source = $2 ORDER BY created_at DESC, id',
    [tenant, source],
  );
  const secrets: OpenedWebhookSecret[] = [];
  const failures: SecretFailure[] = [];
  for (const row of rows) {
    try {
      const secret = openSecret(keyring, webhookSecretContext(tenant, source, row.id), { keyId: row.master_key_id, wrappedKey: row.wrapped_key, ciphertext: row.ciphertext });
      secrets.push({ id: row.id, secret, notAfterMs: row.not_after?.getTime() });
    } catch (err) {
      failures.push(failureOf(row.id, err));
    }
  }
  return { secrets, failures };
}

// ---------------------------------------------------------------- provider credentials

export interface ProviderCredentialInfo {
  provider: string;
  field: string;
  masterKeyId: string;
  createdAt: string;
  updatedAt: string;
}

export async function setProviderCredential(db: Queryable, keyring: Keyring | undefined, provider: string, field: string, value: string): Promise<void> {
  const sealed = sealSecret(keyring, providerCredentialContext(provider, field), value);
  await db.query(
    `INSERT INTO provider_credentials (provider, field, master_key_id, wrapped_key, ciphertext) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (provider, field) DO UPDATE SET master_key_id = $3, wrapped_key = $4, ciphertext = $5, updated_at = now()`,
    [provider, field, sealed.keyId, sealed.wrappedKey, sealed.ciphertext],
  );
}

export async function listProviderCredentials(db: Queryable): Promise<ProviderCredentialInfo[]> {
  const { rows } = await db.query<{ provider: string; field: string; master_key_id: string; created_at: Date; updated_at: Date }>(
    'SELECT provider, field, master_key_id, created_at, updated_at FROM provider_credentials ORDER BY provider, field',
  );
  return rows.map((r) => ({ provider: r.provider, field: r.field, masterKeyId: r.master_key_id, createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString() }));
}

export async function deleteProviderCredential(db: Queryable, provider: string, field: string): Promise<boolean> {
  const result = await db.query('DELETE FROM provider_credentials WHERE provider = $1 AND field = $2', [provider, field]);
  return (result.rowCount ?? 0) > 0;
}

/** The provider's stored credentials by field, opened; fields that do not open are reported (id = field). */
export async function openProviderCredentials(
  db: Queryable,
  keyring: Keyring | undefined,
  provider: string,
): Promise<{ values: Record<string, string>; failures: SecretFailure[] }> {
  const { rows } = await db.query<{ field: string; master_key_id: string; wrapped_key: Buffer; ciphertext: Buffer }>(
    'SELECT field, master_key_id, wrapped_key, ciphertext FROM provider_credentials WHERE provider = $1',
    [provider],
  );
  const values: Record<string, string> = {};
  const failures: SecretFailure[] = [];
  for (const row of rows) {
    try {
      values[row.field] = openSecret(keyring, providerCredentialContext(provider, row.field), { keyId: row.master_key_id, wrappedKey: row.wrapped_key, ciphertext: row.ciphertext });
    } catch (err) {
      failures.push(failureOf(row.field, err));
    }
  }
  return { values, failures };
}

// ---------------------------------------------------------------- master key rotation

/** A table with a sealed secret: where its columns are and which identity its rows are bound to. */
interface SealedTable {
  name: string;
  /** Primary key columns, in keyset order. */
  key: readonly string[];
  keyIdColumn: string;
  wrappedColumn: string;
  ciphertextColumn: string;
  /** Further columns the context needs. */
  extra: readonly string[];
  context(row: Readonly<Record<string, unknown>>): string;
}

export const sealedTables: readonly SealedTable[] = [
  {
    name: 'subscribers',
    key: ['id'],
    keyIdColumn: 'secret_master_key_id',
    wrappedColumn: 'secret_wrapped_key',
    ciphertextColumn: 'secret_ciphertext',
    extra: ['tenant'],
    context: (row) => subscriberSecretContext(String(row.tenant), String(row.id)),
  },
  {
    name: 'webhook_signing_secrets',
    key: ['id'],
    keyIdColumn: 'master_key_id',
    wrappedColumn: 'wrapped_key',
    ciphertextColumn: 'ciphertext',
    extra: ['tenant', 'source'],
    context: (row) => webhookSecretContext(String(row.tenant), String(row.source), String(row.id)),
  },
  {
    name: 'provider_credentials',
    key: ['provider', 'field'],
    keyIdColumn: 'master_key_id',
    wrappedColumn: 'wrapped_key',
    ciphertextColumn: 'ciphertext',
    extra: [],
    context: (row) => providerCredentialContext(String(row.provider), String(row.field)),
  },
];

export interface RotationFailure {
  table: string;
  /** The row's primary key (`provider/field` for credentials). */
  id: string;
  reason: string;
}

export interface RotationReport {
  currentKeyId: string;
  rewrapped: number;
  failed: RotationFailure[];
}

/** A row lock that is not granted quickly is reported (re-run later), rather than stalling the batch. */
const ROW_LOCK_TIMEOUT = '2s';

/**
 * Re-wraps every data key not under the keyring's current master key, in batches of `batchSize`
 * rows per table, each row in its own short transaction (locked, checked, re-wrapped, committed).
 * Rows that cannot be opened (unknown master key, altered) are left as they are and reported by id;
 * the rest go on. Safe to re-run and to run while the API and worker serve: they open secrets with
 * any configured key, and a row is only ever replaced by the same secret under the current key.
 */
export async function rotateMasterKey(
  pool: Pool,
  keyring: Keyring,
  options: { batchSize?: number; log?: (line: string) => void } = {},
): Promise<RotationReport> {
  const batchSize = options.batchSize ?? 100;
  const log = options.log ?? (() => undefined);
  const report: RotationReport = { currentKeyId: keyring.currentId, rewrapped: 0, failed: [] };
  for (const table of sealedTables) {
    const keyList = table.key.join(', ');
    const columns = [...table.key, ...table.extra, table.keyIdColumn].join(', ');
    let cursor: string[] | undefined;
    for (let batch = 1; ; batch++) {
      const after = cursor ? `AND (${keyList}) > (${table.key.map((_k, i) => `$${i + 2}`).join(', ')})` : '';
      const { rows } = await pool.query<Record<string, string>>(
        `SELECT ${table.key.join(', ')} FROM ${table.name} WHERE ${table.keyIdColumn} <> $1 ${after} ORDER BY ${keyList} LIMIT ${batchSize}`,
        [keyring.currentId, ...(cursor ?? [])],
      );
      if (rows.length === 0) break;
      let done = 0;
      const failedBefore = report.failed.length;
      for (const keyRow of rows) {
        const keyValues = table.key.map((k) => keyRow[k]!);
        const id = keyValues.join('/');
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await client.query(`SET LOCAL lock_timeout = '${ROW_LOCK_TIMEOUT}'`);
          const where = table.key.map((k, i) => `${k} = $${i + 1}`).join(' AND ');
          const { rows: locked } = await client.query<Record<string, unknown>>(
            `SELECT ${columns}, ${table.wrappedColumn}, ${table.ciphertextColumn} FROM ${table.name} WHERE ${where} FOR UPDATE`,
            keyValues,
          );
          const row = locked[0];
          if (!row || row[table.keyIdColumn] === null || row[table.keyIdColumn] === keyring.currentId) {
            await client.query('COMMIT');
            continue;
          }
          const rewrapped = rewrapSecret(keyring, table.context(row), {
            keyId: row[table.keyIdColumn] as string,
            wrappedKey: row[table.wrappedColumn] as Buffer,
            ciphertext: row[table.ciphertextColumn] as Buffer,
          });
          await client.query(
            `UPDATE ${table.name} SET ${table.keyIdColumn} = $${table.key.length + 1}, ${table.wrappedColumn} = $${table.key.length + 2} WHERE ${where}`,
            [...keyValues, rewrapped.keyId, rewrapped.wrappedKey],
          );
          await client.query('COMMIT');
          done++;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          const reason =
            err instanceof SecretBoxError
              ? err.message
              : (err as { code?: string }).code === '55P03'
                ? 'row locked by another transaction: re-run to finish it'
                : undefined;
          if (reason === undefined) throw err;
          report.failed.push({ table: table.name, id, reason });
        } finally {
          client.release();
        }
      }
      report.rewrapped += done;
      const failedNow = report.failed.slice(failedBefore);
      log(
        `${table.name}: batch ${batch}: ${done} re-wrapped under "${keyring.currentId}"${failedNow.length > 0 ? `, ${failedNow.length} not: ${failedNow.map((f) => `${f.id} (${f.reason})`).join('; ')}` : ''}`,
      );
      cursor = table.key.map((k) => rows[rows.length - 1]![k]!);
    }
  }
  return report;
}

/** Rows per table and master key id (what `rotate-master` still has to do, what an old key still opens). */
export async function countByMasterKey(db: Queryable): Promise<{ table: string; keyId: string; rows: number }[]> {
  const counts: { table: string; keyId: string; rows: number }[] = [];
  for (const table of sealedTables) {
    const { rows } = await db.query<{ key_id: string; n: string }>(
      `SELECT ${table.keyIdColumn} AS key_id, count(*) AS n FROM ${table.name} WHERE ${table.keyIdColumn} IS NOT NULL GROUP BY 1 ORDER BY 1`,
    );
    counts.push(...rows.map((r) => ({ table: table.name, keyId: r.key_id, rows: Number(r.n) })));
  }
  return counts;
}

/**
 * Encrypts the subscriber signing secrets still stored in plaintext (rows from before migration
 * 010, or written by an older API during a rolling upgrade) and clears the plaintext, one row per
 * statement and only if it still holds the value read: safe beside running APIs and workers, and
 * to run again (also from several processes at once).
 */
export async function sealPlaintextSubscriberSecrets(
  pool: Pool,
  keyring: Keyring,
  options: { batchSize?: number; log?: (line: string) => void } = {},
): Promise<{ sealed: number }> {
  const batchSize = options.batchSize ?? 100;
  let sealed = 0;
  let cursor = '';
  for (;;) {
    const { rows } = await pool.query<{ id: string; tenant: string; signing_secret: string }>(
      `SELECT id, tenant, signing_secret FROM subscribers WHERE signing_secret IS NOT NULL AND id > $1 ORDER BY id LIMIT ${batchSize}`,
      [cursor],
    );
    if (rows.length === 0) break;
    let batchSealed = 0;
    for (const row of rows) {
      const box = sealSubscriberSecret(keyring, row.tenant, row.id, row.signing_secret);
      const result = await pool.query(
        `UPDATE subscribers SET secret_master_key_id = $3, secret_wrapped_key = $4, secret_ciphertext = $5, signing_secret = NULL
          WHERE id = $1 AND signing_secret = $2`,
        [row.id, row.signing_secret, box.keyId, box.wrappedKey, box.ciphertext],
      );
      batchSealed += result.rowCount ?? 0;
    }
    sealed += batchSealed;
    options.log?.(`subscribers: ${batchSealed} plaintext signing secret(s) encrypted and cleared`);
    cursor = rows[rows.length - 1]!.id;
  }
  return { sealed };
}
