/**
 * The audit log (db/migrations/008_audit_log.sql): who did which operator or admin action, in which
 * tenant, when, on what, and whether it was done. The API records its audited routes (each
 * route's declaration names its action, api/route.ts; written by api/audit-middleware.ts); the CLI records
 * the key changes it makes straight in PostgreSQL (`switchyard keys`), as actor `cli`, and `switchyard secrets` its credential changes
 * and master-key rotations, under `systemAuditTenant`. Rows are only ever inserted: the database
 * refuses UPDATE, DELETE and TRUNCATE on the table.
 */
import { userInfo } from 'node:os';
import type { Pool } from 'pg';
import type { Role } from '../security/api-keys';

export const auditActions = [
  'subscriber.create',
  'subscriber.update',
  'subscriber.delete',
  'subscriber.replay',
  'delivery.replay',
  'event.retry',
  'alert.ack',
  'circuit.reset',
  'cache.invalidate',
  'key.create',
  'key.revoke',
  'webhook-secret.create',
  'webhook-secret.update',
  'webhook-secret.delete',
  'credential.set',
  'credential.delete',
  'master-key.rotate',
  'suppression.lift',
] as const;
export type AuditAction = (typeof auditActions)[number];

/**
 * The tenant column of system-wide actions (provider credentials, master-key rotation by
 * `switchyard secrets`): no tenant's admins see them through `GET /audit` (a tenant name cannot
 * start with "*"); operators read them in SQL.
 */
export const systemAuditTenant = '*';

export const auditOutcomes = ['done', 'failed', 'denied'] as const;
export type AuditOutcome = (typeof auditOutcomes)[number];

export interface AuditActor {
  kind: 'api-key' | 'jwt' | 'cli';
  /** The key id, the token's subject, or the OS user running the CLI: never a credential. */
  id: string;
  /** The caller's role; none for the CLI (it acts with the database's rights). */
  role?: Role;
}

export interface AuditEntry {
  tenant: string;
  actor: AuditActor;
  action: AuditAction;
  target?: string | null;
  /** Non-secret facts about the action (filters, changed fields, counts). */
  detail?: Record<string, unknown>;
  /** The HTTP status answered; none for the CLI. */
  status?: number;
  outcome: AuditOutcome;
  /**
   * When the action was asked for, epoch milliseconds with a fraction (microsecond precision);
   * default: when the row is written. The API passes the request's arrival, so rows written after
   * the answer still list in the order the requests came.
   */
  atMs?: number;
}

export interface AuditRecord {
  id: string;
  at: string;
  tenant: string;
  actor: { kind: AuditActor['kind']; id: string };
  role: Role | null;
  action: string;
  target: string | null;
  detail: Record<string, unknown>;
  status: number | null;
  outcome: AuditOutcome;
}

export async function recordAudit(pool: Pick<Pool, 'query'>, entry: AuditEntry): Promise<void> {
  await pool.query(
    `INSERT INTO audit_log (tenant, actor_kind, actor_id, role, action, target, detail, status, outcome, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, COALESCE(to_timestamp($10::double precision / 1000), now()))`,
    [
      entry.tenant,
      entry.actor.kind,
      entry.actor.id,
      entry.actor.role ?? null,
      entry.action,
      entry.target ?? null,
      JSON.stringify(entry.detail ?? {}),
      entry.status ?? null,
      entry.outcome,
      entry.atMs ?? null,
    ],
  );
}

interface AuditRow {
  id: string;
  at: Date;
  tenant: string;
  actor_kind: AuditActor['kind'];
  actor_id: string;
  role: Role | null;
  action: string;
  target: string | null;
  detail: Record<string, unknown>;
  status: number | null;
  outcome: AuditOutcome;
}

/** A tenant's audit rows, newest first. */
export async function listAudit(
  pool: Pick<Pool, 'query'>,
  filter: { tenant: string; action?: string; from?: string; to?: string; limit: number },
): Promise<AuditRecord[]> {
  const { rows } = await pool.query<AuditRow>(
    `SELECT * FROM audit_log
      WHERE tenant = $1 AND ($2::text IS NULL OR action = $2)
        AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4)
      ORDER BY at DESC, id DESC LIMIT $5`,
    [filter.tenant, filter.action ?? null, filter.from ?? null, filter.to ?? null, filter.limit],
  );
  return rows.map((row) => ({
    id: row.id,
    at: row.at.toISOString(),
    tenant: row.tenant,
    actor: { kind: row.actor_kind, id: row.actor_id },
    role: row.role,
    action: row.action,
    target: row.target,
    detail: row.detail,
    status: row.status,
    outcome: row.outcome,
  }));
}

/** The CLI's actor: the OS user running it, when the OS can name one. */
export function cliActor(): AuditActor {
  try {
    return { kind: 'cli', id: userInfo().username || 'unknown' };
  } catch {
    return { kind: 'cli', id: 'unknown' };
  }
}
