/**
 * API keys (`api_keys`): the key id, its tenant, role and name, and a SHA-256 of the secret
 * (lib/security/api-keys.ts makes and checks the keys; this module is their table).
 */
import type { Pool } from 'pg';
import type { Role } from '../security/api-keys';

type Queryable = Pick<Pool, 'query'>;

export async function insertApiKey(
  pool: Queryable,
  key: { keyId: string; tenant: string; role: Role; name: string; secretSha256: Buffer },
): Promise<Record<string, unknown>> {
  const { rows } = await pool.query(
    `INSERT INTO api_keys (key_id, tenant, role, name, secret_sha256) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
    [key.keyId, key.tenant, key.role, key.name, key.secretSha256],
  );
  return rows[0] as Record<string, unknown>;
}

/** Marks a live key revoked (within `tenant` when given); its tenant and role, or undefined when there was no such live key. */
export async function markApiKeyRevoked(pool: Queryable, keyId: string, tenant?: string): Promise<{ tenant: string; role: Role } | undefined> {
  const res = await pool.query<{ tenant: string; role: Role }>(
    `UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL AND ($2::text IS NULL OR tenant = $2) RETURNING tenant, role`,
    [keyId, tenant ?? null],
  );
  return res.rowCount === 1 ? res.rows[0] : undefined;
}

/** Every key (of `tenant` when given), newest first. */
export async function apiKeyRows(pool: Queryable, tenant?: string): Promise<Array<Record<string, unknown>>> {
  const { rows } = await pool.query(`SELECT * FROM api_keys WHERE ($1::text IS NULL OR tenant = $1) ORDER BY created_at DESC`, [tenant ?? null]);
  return rows as Array<Record<string, unknown>>;
}

/** The live (not revoked) key's tenant, role and secret hash. */
export async function liveApiKey(pool: Queryable, keyId: string): Promise<{ tenant: string; role: Role; secret_sha256: Buffer } | undefined> {
  const { rows } = await pool.query(`SELECT tenant, role, secret_sha256 FROM api_keys WHERE key_id = $1 AND revoked_at IS NULL`, [keyId]);
  return rows[0] as { tenant: string; role: Role; secret_sha256: Buffer } | undefined;
}

/** Notes the key's use, at most once a minute. */
export async function touchApiKey(pool: Queryable, keyId: string): Promise<void> {
  await pool.query(`UPDATE api_keys SET last_used_at = now() WHERE key_id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, [keyId]);
}
