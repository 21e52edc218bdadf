/**
 * Throttling on the live stream (topic `rate_limit`): each time the API answers 429 because a
 * limit is reached (a webhook source's per-tenant limit, a credential's service-API limit, a
 * provider's budget throttle), a dashboard learns which limit and until when. A flood of refused
 * requests must not become a flood of NOTIFYs: one notice per limit and key per minute, with the
 * refusals counted since the last one.
 */
import type { Pool } from 'pg';
import { publishEvent } from '../lib/data/event-stream';
import type { Logger } from '../lib/logger';

/** Which limit answered 429. */
export type ThrottleKind = 'webhook_source' | 'api_credential' | 'budget';

export interface ThrottleNotice {
  kind: ThrottleKind;
  /** The tenant it concerns; null for system-wide limits (provider budgets). */
  tenant: string | null;
  /** What is throttled, in the tenant's terms: the source, the credential id, the provider. */
  subject: string;
  limitPerMinute?: number;
  retryAfterSeconds?: number;
  reason: string;
}

const NOTICE_EVERY_MS = 60_000;
/** Keys include caller-chosen tenants (webhook paths): capped, oldest first out. */
const MAX_KEYS = 10_000;

export interface ThrottleNotices {
  throttled(notice: ThrottleNotice): void;
}

export function throttleNotices(deps: { pool: Pick<Pool, 'query'>; logger: Pick<Logger, 'warn'>; now?: () => number }): ThrottleNotices {
  const now = deps.now ?? Date.now;
  const last = new Map<string, { at: number; refused: number }>();
  return {
    throttled(notice) {
      const key = `${notice.kind}\n${notice.tenant ?? ''}\n${notice.subject}`;
      const at = now();
      const seen = last.get(key);
      if (seen && at - seen.at < NOTICE_EVERY_MS) {
        seen.refused++;
        return;
      }
      last.delete(key);
      if (last.size >= MAX_KEYS) last.delete(last.keys().next().value!);
      last.set(key, { at, refused: 0 });
      const refusedSinceLast = seen?.refused ?? 0;
      publishEvent(deps.pool, {
        topic: 'rate_limit',
        tenant: notice.tenant,
        data: { ...notice, refusedSinceLastNotice: refusedSinceLast, at: new Date(at).toISOString() },
      }).catch((err: unknown) => deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'rate-limit notice not published'));
    },
  };
}
