/**
 * Time series for the console's charts, over a range cut into minute, hour or day buckets: provider
 * health (probe latency and availability, call success) and spend per provider are system-wide,
 * like GET /provider-health and GET /budgets; webhook volume is the caller's tenant's only, like
 * GET /webhooks/events. Every series has one value per bucket, zero (or null for a ratio or a
 * latency) where nothing happened, so a chart's axis has no holes. The range is bounded: a bad
 * one is a 400 that says why, before any query runs.
 */
import type { Request, Response } from 'express';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import type { ProviderRegistry } from '../../lib/config/registry';
import { spendSeries } from '../../lib/data/budgets';
import { callOutcomeSeries } from '../../lib/data/circuits';
import { probeSeries } from '../../lib/data/probes';
import { bucketCount, bucketIndex, bucketStarts, bucketSteps, timeBuckets, type TimeBuckets } from '../../lib/data/time-buckets';
import { webhookVolumeSeries } from '../../lib/data/webhook-events';
import * as s from '../schemas';
import { seriesQuery } from '../schemas';
import { sendError, zodFieldErrors } from '../errors';
import { answer, defineRoute, failure, routeGroup } from '../route';
import { requireTenant } from '../tenant';

/** A day of minutes; a bigger range takes a bigger bucket. */
export const MAX_SERIES_BUCKETS = 1440;
/** Buckets shown when the query names no `from`. */
const DEFAULT_BUCKETS = 60;

export interface StatsRouteDeps {
  config: Config;
  pool: Pool;
  registry: ProviderRegistry;
}

function statsContext({ config, pool, registry }: StatsRouteDeps) {
  return { config, pool, registry };
}
type StatsContext = ReturnType<typeof statsContext>;
const route = defineRoute<StatsContext>();

/** The query's range as buckets, or undefined after answering 400 with the reason. */
function rangeOf(req: Request, res: Response): TimeBuckets | undefined {
  const parsed = seriesQuery.safeParse(req.query);
  if (!parsed.success) {
    sendError(res, 400, 'invalid_request', 'invalid query', zodFieldErrors(parsed.error));
    return undefined;
  }
  const { bucket } = parsed.data;
  const stepMs = bucketSteps[bucket];
  const to = parsed.data.to ? new Date(parsed.data.to) : new Date();
  const from = parsed.data.from ? new Date(parsed.data.from) : new Date(to.getTime() - DEFAULT_BUCKETS * stepMs);
  if (from.getTime() >= to.getTime()) {
    sendError(res, 400, 'invalid_range', '`from` must be before `to`', { from: 'must be before `to`' });
    return undefined;
  }
  const buckets = timeBuckets(from, to, bucket);
  if (bucketCount(buckets) > MAX_SERIES_BUCKETS) {
    sendError(res, 400, 'range_too_large', `the range holds ${bucketCount(buckets)} ${bucket} buckets; at most ${MAX_SERIES_BUCKETS}: take a shorter range or a bigger bucket`, {
      bucket: `at most ${MAX_SERIES_BUCKETS} buckets in the range`,
    });
    return undefined;
  }
  return buckets;
}

/** What every answer starts with: the range and the bucket starts its series are aligned with. */
function rangeJson(buckets: TimeBuckets) {
  return { from: buckets.start.toISOString(), to: buckets.end.toISOString(), bucket: buckets.size, buckets: bucketStarts(buckets).map((d) => d.toISOString()) };
}

/** One value per bucket: `valueOf(row)` where a row fell into the bucket, `empty` elsewhere. */
function aligned<Row extends { bucket: Date }, V>(buckets: TimeBuckets, rows: Row[], valueOf: (row: Row) => V, empty: V): V[] {
  const out = new Array<V>(bucketCount(buckets)).fill(empty);
  for (const row of rows) {
    const i = bucketIndex(buckets, row.bucket);
    if (i >= 0) out[i] = valueOf(row);
  }
  return out;
}

const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

export const healthStats = route({
  method: 'GET',
  path: '/stats/health',
  permission: 'monitoring:read',
  summary: 'Probe latency (p50/p95) and availability, and call success, per provider and time bucket (system-wide)',
  tag: 'monitoring',
  query: seriesQuery,
  responses: { 200: answer('one series per provider', s.healthSeries), 400: failure('invalid range (the reason says why)') },
  async handler(req: Request, res: Response, { pool, registry }) {
    const buckets = rangeOf(req, res);
    if (!buckets) return;
    const providers = Object.keys(registry);
    const [probes, calls] = await Promise.all([probeSeries(pool, providers, buckets), callOutcomeSeries(pool, providers, buckets)]);
    res.json({
      ...rangeJson(buckets),
      providers: providers.map((provider) => {
        const p = probes.filter((r) => r.provider === provider);
        const c = calls.filter((r) => r.provider === provider);
        return {
          provider,
          probes: aligned(buckets, p, (r) => r.probes, 0),
          availability: aligned(buckets, p, (r) => ratio(r.ok, r.probes), null),
          p50Ms: aligned(buckets, p, (r) => r.p50_ms, null),
          p95Ms: aligned(buckets, p, (r) => r.p95_ms, null),
          calls: aligned(buckets, c, (r) => r.calls, 0),
          callSuccess: aligned(buckets, c, (r) => ratio(r.ok, r.calls), null),
        };
      }),
    });
  },
});

export const volumeStats = route({
  method: 'GET',
  path: '/stats/volume',
  permission: 'monitoring:read',
  summary: "Webhooks (the caller's tenant's) and provider calls per time bucket, succeeded and failed",
  tag: 'monitoring',
  query: seriesQuery,
  responses: { 200: answer('webhook and call counts per bucket', s.volumeSeries), 400: failure('invalid range (the reason says why)') },
  async handler(req: Request, res: Response, { config, pool, registry }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const buckets = rangeOf(req, res);
    if (!buckets) return;
    const [webhooks, calls] = await Promise.all([webhookVolumeSeries(pool, tenant, buckets), callOutcomeSeries(pool, Object.keys(registry), buckets)]);
    // Call outcomes come per provider: summed per bucket here.
    const succeeded = new Array<number>(bucketCount(buckets)).fill(0);
    const failed = [...succeeded];
    for (const row of calls) {
      const i = bucketIndex(buckets, row.bucket);
      if (i < 0) continue;
      succeeded[i]! += row.ok;
      failed[i]! += row.calls - row.ok;
    }
    res.json({
      ...rangeJson(buckets),
      webhooks: {
        tenant,
        received: aligned(buckets, webhooks, (r) => r.received, 0),
        completed: aligned(buckets, webhooks, (r) => r.completed, 0),
        failed: aligned(buckets, webhooks, (r) => r.failed, 0),
      },
      calls: { succeeded, failed },
    });
  },
});

export const spendStats = route({
  method: 'GET',
  path: '/stats/spend',
  permission: 'monitoring:read',
  summary: 'Spend per provider and time bucket (every tenant, as budgets count it)',
  tag: 'monitoring',
  query: seriesQuery,
  responses: { 200: answer('USD per provider and bucket', s.spendSeries), 400: failure('invalid range (the reason says why)') },
  async handler(req: Request, res: Response, { pool }) {
    const buckets = rangeOf(req, res);
    if (!buckets) return;
    const rows = await spendSeries(pool, buckets);
    const providers = [...new Set(rows.map((r) => r.provider))].sort();
    res.json({
      ...rangeJson(buckets),
      providers: providers.map((provider) => ({ provider, usd: aligned(buckets, rows.filter((r) => r.provider === provider), (r) => r.usd, 0) })),
    });
  },
});

export const statsRoutes = routeGroup({
  context: statsContext,
  routes: [healthStats, volumeStats, spendStats],
});
