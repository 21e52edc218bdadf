/**
 * The per-tenant suppression list (`suppressions`): e-mail addresses and phone numbers a tenant's
 * sends must not reach, written by the SendGrid and Twilio webhook handlers and lifted by their
 * opt-in events or an operator, read before every send (providers/core/recipients.ts) and by
 * `GET /suppressions`. Every change carries its event's time and only a newer one applies, so
 * redelivered or reordered events settle on the latest word.
 */
import type { Pool } from 'pg';

export type SuppressionChannel = 'email' | 'sms';

export interface SuppressionChange {
  tenant: string;
  channel: SuppressionChannel;
  /** As the event or caller gave it; normalised here. */
  address: string;
  reason: string;
  source: string;
  sourceEventId: string | null;
  detail: string | null;
  /** When the event happened. */
  at: Date;
}

export interface Suppression {
  channel: SuppressionChannel;
  address: string;
  reason: string;
  source: string;
  sourceEventId: string | null;
  detail: string | null;
  changedAt: string;
}

// Control characters (NUL among them) and format characters: never part of an address, and
// PostgreSQL text cannot hold NUL.
const unusable = /[\p{Cc}\p{Cf}]/u;

/**
 * The address as the list keys it, or null when it cannot be one: e-mail trimmed and lower-cased
 * (NFC), phone numbers as E.164 with spaces, dots, dashes and brackets dropped.
 */
export function normaliseAddress(channel: SuppressionChannel, address: string): string | null {
  if (unusable.test(address)) return null;
  const trimmed = address.normalize('NFC').trim();
  if (channel === 'email') {
    const lowered = trimmed.toLowerCase();
    return /^[^\s@]+@[^\s@]+$/.test(lowered) && lowered.length <= 320 ? lowered : null;
  }
  const digits = trimmed.replace(/[\s.()-]/g, '');
  return /^\+[1-9]\d{6,14}$/.test(digits) ? digits : null;
}

/** Suppresses the address unless a newer change is recorded; true when this one applied. */
export async function suppressAddress(pool: Pick<Pool, 'query'>, change: SuppressionChange): Promise<boolean> {
  return applyChange(pool, change, true, null);
}

/**
 * Lifts the address's suppression unless a newer change is recorded; `onlyReasons`: only a
 * suppression for one of these (a group resubscribe does not undo a bounce). True when it applied.
 */
export async function liftSuppression(pool: Pick<Pool, 'query'>, change: SuppressionChange, onlyReasons: readonly string[] | null = null): Promise<boolean> {
  return applyChange(pool, change, false, onlyReasons);
}

async function applyChange(pool: Pick<Pool, 'query'>, change: SuppressionChange, suppressed: boolean, onlyReasons: readonly string[] | null): Promise<boolean> {
  const address = normaliseAddress(change.channel, change.address);
  if (address === null) return false;
  if (!suppressed) {
    // A lift only changes a suppressed row; nothing to lift leaves no row.
    const result = await pool.query(
      `UPDATE suppressions SET suppressed = false, reason = $4, source = $5, source_event_id = $6, detail = $7, changed_at = $8, recorded_at = now()
        WHERE tenant = $1 AND channel = $2 AND address = $3 AND suppressed AND changed_at <= $8
          AND ($9::text[] IS NULL OR reason = ANY($9::text[]))`,
      [change.tenant, change.channel, address, change.reason, change.source, change.sourceEventId, change.detail, change.at, onlyReasons],
    );
    return result.rowCount === 1;
  }
  const values = [change.tenant, change.channel, address, suppressed, change.reason, change.source, change.sourceEventId, change.detail, change.at];
  const result = await pool.query(
    `INSERT INTO suppressions (tenant, channel, address, suppressed, reason, source, source_event_id, detail, changed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (tenant, channel, address) DO UPDATE
       SET suppressed = true, reason = EXCLUDED.reason, source = EXCLUDED.source, source_event_id = EXCLUDED.source_event_id,
           detail = EXCLUDED.detail, changed_at = EXCLUDED.changed_at, recorded_at = now()
       WHERE suppressions.changed_at < EXCLUDED.changed_at
          OR (suppressions.changed_at = EXCLUDED.changed_at AND NOT suppressions.suppressed)`,
    values,
  );
  return result.rowCount === 1;
}

interface SuppressionRow {
  channel: SuppressionChannel;
  address: string;
  reason: string;
  source: string;
  source_event_id: string | null;
  detail: string | null;
  changed_at: Date;
}

function suppressionOf(row: SuppressionRow): Suppression {
  return {
    channel: row.channel,
    address: row.address,
    reason: row.reason,
    source: row.source,
    sourceEventId: row.source_event_id,
    detail: row.detail,
    changedAt: row.changed_at.toISOString(),
  };
}

/** The suppressed entries among `addresses` on `channel` for `tenant` (addresses that cannot be one are never suppressed). */
export async function suppressedAmong(pool: Pick<Pool, 'query'>, tenant: string, channel: SuppressionChannel, addresses: readonly string[]): Promise<Suppression[]> {
  const keys = [...new Set(addresses.map((a) => normaliseAddress(channel, a)).filter((a): a is string => a !== null))];
  if (keys.length === 0) return [];
  const { rows } = await pool.query<SuppressionRow>(
    `SELECT channel, address, reason, source, source_event_id, detail, changed_at FROM suppressions
      WHERE tenant = $1 AND channel = $2 AND address = ANY($3::text[]) AND suppressed`,
    [tenant, channel, keys],
  );
  return rows.map(suppressionOf);
}

/** The tenant's suppressed addresses, newest change first. */
export async function listSuppressions(pool: Pick<Pool, 'query'>, tenant: string, filter: { channel?: SuppressionChannel; limit: number }): Promise<Suppression[]> {
  const { rows } = await pool.query<SuppressionRow>(
    `SELECT channel, address, reason, source, source_event_id, detail, changed_at FROM suppressions
      WHERE tenant = $1 AND suppressed AND ($2::text IS NULL OR channel = $2) ORDER BY changed_at DESC, address LIMIT $3`,
    [tenant, filter.channel ?? null, filter.limit],
  );
  return rows.map(suppressionOf);
}
