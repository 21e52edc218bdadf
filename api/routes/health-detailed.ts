/**
 * `GET /health/detailed`: every dependency of the system with its status and latency, for an
 * operator (or a probe with a credential) asking "what is broken?", where /readyz only answers
 * "may this replica take traffic?". Checked at once, each within CHECK_TIMEOUT_MS:
 *
 * - `postgres`: a query answers, and every migration of db/migrations is applied;
 * - `temporal`: the frontend answers (GetSystemInfo, with the server version);
 * - `namespace`: TEMPORAL_NAMESPACE exists and is registered (DescribeNamespace);
 * - `taskQueues`: the main task queue (workflow and activity pollers) and each provider's queue
 *   (activity pollers) has a worker that polled within POLLER_FRESH_MS (DescribeTaskQueue);
 * - `providers`: the latest provider probe summary (provider_health): each provider's status,
 *   whether its last probe answered, its latency, and whether that probe is stale (older than
 *   three probe intervals: its Schedule is not running);
 * - `inbox`: the webhook inbox's backlog (webhooks committed whose workflow no drainer has started
 *   yet, and the oldest one's wait), system-wide counts only. Reported, never `failing` nor
 *   `degraded`: a backlog drains on its own once a worker is back, and the WebhookInboxBacklog
 *   alert (ops/alert-rules.yml) speaks when it does not.
 *
 * Contract: 503 `failing` when PostgreSQL, Temporal, the namespace or a task queue fails (the
 * system cannot do its work), with each failing part named in `failing`; 200 `degraded` when only
 * providers are down, degraded, never probed or stale (Switchyard works; a provider does not, and
 * the provider alerts say so), named in `degraded`; 200 `ok` otherwise. Permission
 * `monitoring:read`. An API key is checked in PostgreSQL, so with PostgreSQL down only a JWT
 * (AUTH_JWT_*) can read this; /readyz needs no credential.
 */
import type { Request, Response } from 'express';
import type { Pool } from 'pg';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { pendingMigrations } from '../../db/migrate';
import type { Config } from '../../lib/config/config';
import { callableProviders, type ProviderRegistry } from '../../lib/config/registry';
import { pingDatabase } from '../../lib/data/db';
import { providerHealthRows } from '../../lib/data/probes';
import { inboxBacklog } from '../../lib/data/webhook-inbox';
import { timedCheck, type TimedCheck } from '../../lib/dependency-checks';
import { answer, defineRoute, routeGroup } from '../route';
import * as s from '../schemas';
import type { WorkflowStarter } from '../../lib/temporal/workflow-starter';
import { POLLER_FRESH_MS } from './health';

export interface HealthDetailRouteDeps {
  config: Pick<Config, 'TEMPORAL_NAMESPACE' | 'TEMPORAL_TASK_QUEUE' | 'PROVIDER_TASK_QUEUE_PREFIX'>;
  workflows: WorkflowStarter;
  pool: Pool;
  registry: ProviderRegistry;
}

/** How long each check may take before it counts as failing (as /readyz's). */
export const CHECK_TIMEOUT_MS = 2000;
/** A provider's probe is stale past this many of its probe intervals (its Schedule is not running). */
export const STALE_PROBE_INTERVALS = 3;

const { TaskQueueKind, TaskQueueType, NamespaceState } = temporal.api.enums.v1;

type QueueType = 'workflow' | 'activity';

/** The fields of a check's answer every part shares: ok, latency and, when not ok, why. */
function outcome(check: TimedCheck<unknown>, ok = check.ok, error = check.error): { ok: boolean; latencyMs: number; error?: string } {
  return { ok, latencyMs: check.latencyMs, ...(!ok && error ? { error } : {}) };
}

function healthDetailContext({ config, workflows, pool, registry }: HealthDetailRouteDeps) {
  const timeoutMs = CHECK_TIMEOUT_MS;
  const withDeadline = <T>(run: () => Promise<T>): Promise<T> => workflows.withDeadline(Date.now() + timeoutMs, run);

  async function postgres() {
    const check = await timedCheck('PostgreSQL', timeoutMs, async () => {
      await pingDatabase(pool);
      return pendingMigrations(pool);
    });
    const pending = check.value ?? [];
    return { ...outcome(check, check.ok && pending.length === 0, check.error ?? `migrations not applied: ${pending.join(', ')}`), ...(check.ok ? { pendingMigrations: pending } : {}) };
  }

  async function frontend() {
    const check = await timedCheck('Temporal', timeoutMs, () => withDeadline(() => workflows.workflowService.getSystemInfo({})));
    return { ...outcome(check), ...(check.value?.serverVersion ? { serverVersion: check.value.serverVersion } : {}) };
  }

  async function namespace() {
    const check = await timedCheck('Temporal', timeoutMs, () => withDeadline(() => workflows.workflowService.describeNamespace({ namespace: config.TEMPORAL_NAMESPACE })));
    const state = check.value?.namespaceInfo?.state;
    const registered = state === NamespaceState.NAMESPACE_STATE_REGISTERED;
    const stateName = state === undefined || state === null ? undefined : (NamespaceState[state] ?? String(state)).replace(/^NAMESPACE_STATE_/, '').toLowerCase();
    return { name: config.TEMPORAL_NAMESPACE, ...outcome(check, check.ok && registered, check.error ?? `namespace is ${stateName ?? 'in an unknown state'}`), ...(stateName ? { state: stateName } : {}) };
  }

  async function taskQueue(name: string, type: QueueType) {
    const check = await timedCheck('Temporal', timeoutMs, () =>
      withDeadline(() =>
        workflows.workflowService.describeTaskQueue({
          namespace: config.TEMPORAL_NAMESPACE,
          taskQueue: { name, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          taskQueueType: type === 'workflow' ? TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW : TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        }),
      ),
    );
    const since = Date.now() - POLLER_FRESH_MS;
    const pollers = check.value ? check.value.pollers.filter((p) => (optionalTsToMs(p.lastAccessTime) ?? 0) >= since).length : undefined;
    return { name, type, ...outcome(check, check.ok && (pollers ?? 0) > 0, check.error ?? 'no worker polls it'), ...(pollers === undefined ? {} : { pollers }) };
  }

  async function providers() {
    const check = await timedCheck('PostgreSQL', timeoutMs, () => providerHealthRows(pool));
    const rows = new Map((check.value ?? []).map((row) => [row.provider, row]));
    const now = Date.now();
    const list = Object.values(registry).map((provider) => {
      const row = rows.get(provider.name);
      if (!row) return { provider: provider.name, status: 'unknown', lastProbeOk: null, lastLatencyMs: null, probedAt: null, stale: true };
      const stale = now - row.updated_at.getTime() > STALE_PROBE_INTERVALS * provider.probe.intervalSeconds * 1000;
      return { provider: provider.name, status: row.status, lastProbeOk: row.last_probe_ok, lastLatencyMs: row.last_latency_ms, probedAt: row.updated_at.toISOString(), stale };
    });
    return { ...outcome(check), providers: check.ok ? list : [] };
  }

  async function inbox() {
    const check = await timedCheck('PostgreSQL', timeoutMs, () => inboxBacklog(pool));
    return { ...outcome(check), ...(check.value ? { unstarted: check.value.unstarted, oldestAgeSeconds: Math.round(check.value.oldestAgeSeconds * 10) / 10 } : {}) };
  }

  async function detailedHealth() {
    const started = process.hrtime.bigint();
    const queues: Array<[string, QueueType]> = [
      [config.TEMPORAL_TASK_QUEUE, 'workflow'],
      [config.TEMPORAL_TASK_QUEUE, 'activity'],
      // Monitor-only entries have no queue: nothing polls one for them (workers/worker.ts).
      ...callableProviders(registry).map((p): [string, QueueType] => [`${config.PROVIDER_TASK_QUEUE_PREFIX}${p.name}`, 'activity']),
    ];
    const [pg, temporalCheck, ns, taskQueues, probes, backlog] = await Promise.all([
      postgres(),
      frontend(),
      namespace(),
      Promise.all(queues.map(([name, type]) => taskQueue(name, type))),
      providers(),
      inbox(),
    ]);
    const failing = [
      ...(pg.ok ? [] : ['postgres']),
      ...(temporalCheck.ok ? [] : ['temporal']),
      ...(ns.ok ? [] : ['namespace']),
      ...taskQueues.filter((q) => !q.ok).map((q) => `taskQueue:${q.name}:${q.type}`),
    ];
    const degraded = probes.ok
      ? probes.providers.filter((p) => p.status !== 'up' || p.stale).map((p) => `provider:${p.provider}`)
      : ['providers'];
    return {
      status: failing.length > 0 ? ('failing' as const) : degraded.length > 0 ? ('degraded' as const) : ('ok' as const),
      failing,
      degraded,
      checkedAt: new Date().toISOString(),
      durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
      checks: { postgres: pg, temporal: temporalCheck, namespace: ns, taskQueues, providers: probes, inbox: backlog },
    };
  }

  return { detailedHealth };
}
type HealthDetailContext = ReturnType<typeof healthDetailContext>;
const route = defineRoute<HealthDetailContext>();

export const healthDetailed = route({
  method: 'GET',
  path: '/health/detailed',
  permission: 'monitoring:read',
  summary:
    'Every dependency with its status and latency: PostgreSQL and migrations, Temporal, the namespace, pollers on each task queue, the latest provider probes, and the webhook inbox backlog (reported only). 503 naming the failing parts; degraded (200) when only providers are',
  tag: 'health',
  responses: {
    200: answer('every dependency answers (`ok`), or only providers do not (`degraded`, named in `degraded`)', s.detailedHealth),
    503: answer('a dependency Switchyard needs fails: named in `failing`', s.detailedHealth),
  },
  async handler(_req: Request, res: Response, { detailedHealth }) {
    const health = await detailedHealth();
    res.status(health.status === 'failing' ? 503 : 200).json(health);
  },
});

export const healthDetailRoutes = routeGroup({
  context: healthDetailContext,
  routes: [healthDetailed],
});
