/**
 * API keys: `sy_<keyId>_<secret>`, 24 random bytes of secret. PostgreSQL keeps the key id, its
 * tenant, role and name, and a SHA-256 of the secret (the secret is random, so a plain hash is as
 * strong as a slow one and costs nothing per request); the table's SQL is lib/data/api-keys.ts.
 * The whole key is returned once, by `createApiKey`, and never again. Used by the API (verify) and by `switchyard keys` (create,
 * list, revoke). Callers outside the API pass an `actor` so that a create or revoke is also
 * written to the audit log; the API audits its own routes (api/audit-middleware.ts) and passes none.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Pool } from 'pg';
import { apiKeyRows, insertApiKey, liveApiKey, markApiKeyRevoked, touchApiKey } from '../data/api-keys';
import { recordAudit, type AuditActor } from '../data/audit-log';
import { tenantNameRule, tenantPattern } from './tenant-name';

export const roles = ['admin', 'operator', 'service'] as const;
export type Role = (typeof roles)[number];

export interface ApiKeyInfo {
  keyId: string;
  tenant: string;
  role: Role;
  name: string;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

const KEY_FORMAT = /^sy_([a-z0-9]{12})_([A-Za-z0-9_-]{32})$/;

/**
 * The key id and secret of a presented key, or null when it does not have the key's shape. The
 * secret is base64url, so it may itself hold '_' (even first): split by the format, never on '_'.
 */
export function parseApiKey(presented: string): { keyId: string; secret: string } | null {
  const match = KEY_FORMAT.exec(presented);
  return match ? { keyId: match[1]!, secret: match[2]! } : null;
}

function sha256(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

function info(row: Record<string, unknown>): ApiKeyInfo {
  const time = (v: unknown) => (v instanceof Date ? v.toISOString() : null);
  return {
    keyId: String(row.key_id),
    tenant: String(row.tenant),
    role: row.role as Role,
    name: String(row.name),
    createdAt: time(row.created_at)!,
    revokedAt: time(row.revoked_at),
    lastUsedAt: time(row.last_used_at),
  };
}

export async function createApiKey(
  pool: Pool,
  input: { tenant: string; role: Role; name: string },
  actor?: AuditActor,
): Promise<{ key: string; info: ApiKeyInfo }> {
  if (!tenantPattern.test(input.tenant)) throw new RangeError(`an API key's tenant must be ${tenantNameRule}`);
  const keyId = randomBytes(6).toString('hex');
  const secret = randomBytes(24).toString('base64url');
  const row = await insertApiKey(pool, { keyId, tenant: input.tenant, role: input.role, name: input.name, secretSha256: sha256(secret) });
  if (actor) {
    await recordAudit(pool, { tenant: input.tenant, actor, action: 'key.create', target: keyId, detail: { role: input.role, name: input.name }, outcome: 'done' });
  }
  return { key: `sy_${keyId}_${secret}`, info: info(row) };
}

/** Marks a key revoked (within `tenant` when given); false when there is no such live key. */
export async function revokeApiKey(pool: Pool, keyId: string, tenant?: string, actor?: AuditActor): Promise<boolean> {
  const revoked = await markApiKeyRevoked(pool, keyId, tenant);
  if (revoked && actor) {
    await recordAudit(pool, { tenant: revoked.tenant, actor, action: 'key.revoke', target: keyId, detail: { role: revoked.role }, outcome: 'done' });
  }
  return revoked !== undefined;
}

export async function listApiKeys(pool: Pool, tenant?: string): Promise<ApiKeyInfo[]> {
  return (await apiKeyRows(pool, tenant)).map(info);
}

/** Whether a presented credential has the API-key shape (anything else is tried as a JWT). */
export function looksLikeApiKey(credential: string): boolean {
  return credential.startsWith('sy_');
}

/** The live key's tenant and role, or null for a malformed, unknown, revoked or wrong key. */
export async function verifyApiKey(pool: Pool, presented: string): Promise<{ keyId: string; tenant: string; role: Role } | null> {
  const parsed = parseApiKey(presented);
  if (!parsed) return null;
  const { keyId, secret } = parsed;
  const row = await liveApiKey(pool, keyId);
  if (!row || !timingSafeEqual(row.secret_sha256, sha256(secret))) return null;
  // Best effort, at most once a minute per key: never on the request's critical path.
  void touchApiKey(pool, keyId).catch(() => undefined);
  return { keyId, tenant: row.tenant, role: row.role };
}
