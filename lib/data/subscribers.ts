/**
 * Subscribers (`subscribers`): internal services that receive matching events, with their provider
 * and event-type filters and their signing secret, stored sealed (lib/security/stored-secrets.ts
 * seals and opens it, and re-wraps it when master keys rotate). The API manages them; the delivery
 * activities match events against them and read the URL and secret for each attempt.
 */
import type { Pool } from 'pg';
import { subscriberSecretColumns, type SubscriberSecretRow } from '../security/stored-secrets';
import type { SealedSecret } from '../security/secret-box';

type Queryable = Pick<Pool, 'query'>;

export interface SubscriberRow {
  id: string;
  tenant: string;
  url: string;
  providers: string[];
  event_types: string[];
  enabled: boolean;
  disabled_reason: string | null;
  created_at: Date;
}

const SUBSCRIBER_COLUMNS = 'id, tenant, url, providers, event_types, enabled, disabled_reason, created_at';

/** `payment_intent.*` matches `payment_intent.succeeded`; an empty list matches everything. */
export function matchesFilter(patterns: readonly string[], value: string): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((p) => p === '*' || p === value || (p.endsWith('.*') && value.startsWith(p.slice(0, -1))));
}

export async function findSubscriber(pool: Queryable, tenant: string, id: string): Promise<SubscriberRow | undefined> {
  const { rows } = await pool.query<SubscriberRow>(`SELECT ${SUBSCRIBER_COLUMNS} FROM subscribers WHERE tenant = $1 AND id = $2`, [tenant, id]);
  return rows[0];
}

export async function insertSubscriber(
  pool: Queryable,
  subscriber: { id: string; tenant: string; url: string; providers: string[]; eventTypes: string[] },
  sealed: SealedSecret,
): Promise<SubscriberRow> {
  const { rows } = await pool.query<SubscriberRow>(
    `INSERT INTO subscribers (id, tenant, url, providers, event_types, secret_master_key_id, secret_wrapped_key, secret_ciphertext)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${SUBSCRIBER_COLUMNS}`,
    [subscriber.id, subscriber.tenant, subscriber.url, subscriber.providers, subscriber.eventTypes, sealed.keyId, sealed.wrappedKey, sealed.ciphertext],
  );
  return rows[0]!;
}

/** The tenant's subscribers, oldest first. */
export async function listSubscribers(pool: Queryable, tenant: string): Promise<SubscriberRow[]> {
  const { rows } = await pool.query<SubscriberRow>(`SELECT ${SUBSCRIBER_COLUMNS} FROM subscribers WHERE tenant = $1 ORDER BY created_at`, [tenant]);
  return rows;
}

/** Changes the fields given (undefined: unchanged); enabling clears the disabled reason. Undefined when there is no such subscriber. */
export async function updateSubscriber(
  pool: Queryable,
  tenant: string,
  id: string,
  change: { url?: string; providers?: string[]; eventTypes?: string[]; enabled?: boolean },
): Promise<SubscriberRow | undefined> {
  const { rows } = await pool.query<SubscriberRow>(
    `UPDATE subscribers SET url = COALESCE($3, url), providers = COALESCE($4, providers), event_types = COALESCE($5, event_types),
            enabled = COALESCE($6, enabled), disabled_reason = CASE WHEN $6 THEN NULL ELSE disabled_reason END, updated_at = now()
      WHERE tenant = $1 AND id = $2 RETURNING ${SUBSCRIBER_COLUMNS}`,
    [tenant, id, change.url ?? null, change.providers ?? null, change.eventTypes ?? null, change.enabled ?? null],
  );
  return rows[0];
}

/** True when there was such a subscriber. */
export async function deleteSubscriber(pool: Queryable, tenant: string, id: string): Promise<boolean> {
  const result = await pool.query('DELETE FROM subscribers WHERE tenant = $1 AND id = $2', [tenant, id]);
  return result.rowCount !== 0;
}

/** The tenant's enabled subscribers' filters, by id. */
export async function enabledSubscriberFilters(
  pool: Queryable,
  tenant: string,
): Promise<Array<Pick<SubscriberRow, 'id' | 'providers' | 'event_types'>>> {
  const { rows } = await pool.query<SubscriberRow>('SELECT id, providers, event_types FROM subscribers WHERE tenant = $1 AND enabled ORDER BY id', [
    tenant,
  ]);
  return rows;
}

/** The ids of the tenant's enabled subscribers whose filters take this provider and event type. */
export async function matchingSubscriberIds(pool: Queryable, event: { tenant: string; provider: string; eventType: string }): Promise<string[]> {
  return (await enabledSubscriberFilters(pool, event.tenant))
    .filter((s) => matchesFilter(s.providers, event.provider) && matchesFilter(s.event_types, event.eventType))
    .map((s) => s.id);
}

/** Whether the subscriber is enabled; undefined when it is gone. */
export async function subscriberEnabled(pool: Queryable, tenant: string, id: string): Promise<Pick<SubscriberRow, 'enabled'> | undefined> {
  const { rows } = await pool.query<SubscriberRow>('SELECT enabled FROM subscribers WHERE id = $1 AND tenant = $2', [id, tenant]);
  return rows[0];
}

/** What one delivery attempt needs: the URL and the sealed signing secret. */
export async function subscriberTarget(
  pool: Queryable,
  tenant: string,
  id: string,
): Promise<(Pick<SubscriberRow, 'id' | 'tenant' | 'url'> & SubscriberSecretRow) | undefined> {
  return (
    await pool.query<Pick<SubscriberRow, 'id' | 'tenant' | 'url'> & SubscriberSecretRow>(
      `SELECT id, tenant, url, ${subscriberSecretColumns} FROM subscribers WHERE id = $1 AND tenant = $2`,
      [id, tenant],
    )
  ).rows[0];
}

/** Which of these subscriber ids are the tenant's. */
export async function subscriberIdsOfTenant(pool: Queryable, tenant: string, ids: string[]): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>('SELECT id FROM subscribers WHERE tenant = $1 AND id = ANY($2::text[])', [tenant, ids]);
  return rows.map((row) => row.id);
}
