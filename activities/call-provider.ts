/**
 * The provider-call activities: `planProviderCall` (which providers, in which order, on which
 * task queues, at what cost) and `callProvider` (one operation on one provider, under its circuit
 * breaker, through its adapter, with a read-through cache for reads). The provider idempotency key
 * is derived from workflow id + activity id, so every retry of one activity sends the same key and
 * a provider that already acted answers with its first result instead of acting twice.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Pool } from 'pg';
import type { Keyring } from '../lib/security/keyring';
import type { OutboundPolicy } from '../lib/security/outbound-policy';
import { loadConfig } from '../lib/config/config';
import { operationCost, type ProviderRegistry } from '../lib/config/registry';
import { configuredSecretsKeyring } from '../lib/security/stored-secrets';
import { createBudgets, type Reservation } from '../lib/data/budgets';
import { pageBudgetCrossings } from '../lib/temporal/budget-alerts';
import { createCircuitBreaker, healthScores } from '../lib/data/circuits';
import { cacheKey, createProviderCache } from '../lib/data/provider-cache';
import { activityPolicies } from '../workflows/policies';
import type {
  CallCandidate,
  CallPlan,
  ProviderActivityRequest,
  ProviderActivityResult,
} from '../contracts/call';
import { withAttempt } from './attempts';
import { heartbeatWhile } from './heartbeat';
import { createCredentialResolver } from './credentials';
import { lookUpProviderOperation, prepareProviderCall } from '../providers/prepare-provider-call';
import { recipientSuppressedFailure, suppressedRecipients } from '../providers/core/recipients';
import { callErrorTypes, providerErrorTypes } from '../contracts/errors';

export interface ProviderCallDeps {
  pool: Pool;
  registry: ProviderRegistry;
  /** Where credentials are read from when PostgreSQL has none stored (process.env in production). */
  env: NodeJS.ProcessEnv;
  /** SECRETS_MASTER_KEYS, which opens stored provider credentials; default: the process's configuration. */
  secretsKeyring?: Keyring;
  /** Provider task queues are `${prefix}${provider}`; tests use a unique prefix. */
  providerTaskQueuePrefix: string;
  /** Which addresses provider requests may reach (OUTBOUND_ALLOW…); default: the strict policy. */
  outbound?: OutboundPolicy;
}

/**
 * The run id is part of the key: activity ids restart at 1 in every run, and a workflow id runs
 * again after continue-as-new (batches) or an operator's re-run, which must not replay the old
 * run's answers. Retries of one activity (also on another worker) keep all three.
 */
export function idempotencyKeyFor(workflowId: string, runId: string, activityId: string): string {
  return createHash('sha256').update(`${workflowId}:${runId}:${activityId}`).digest('hex');
}

/** Exponential backoff with equal jitter, from the declared callProvider retry policy. */
export function jitteredBackoffMs(attempt: number, random: () => number = Math.random): number {
  const retry = activityPolicies.callProvider.retry;
  const initial = msToNumber(retry.initialInterval ?? '1 second');
  const maximum = msToNumber(retry.maximumInterval ?? '1 minute');
  const delay = Math.min(maximum, initial * (retry.backoffCoefficient ?? 2) ** Math.max(0, attempt - 1));
  return Math.round(delay / 2 + random() * (delay / 2));
}

/** Weighted order without replacement: healthier providers tend to come first. */
export function weightedOrder<T>(items: T[], weight: (item: T) => number, random: () => number = Math.random): T[] {
  const pool = [...items];
  const ordered: T[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((sum, item) => sum + weight(item), 0);
    let pick = random() * total;
    let index = 0;
    for (; index < pool.length - 1; index++) {
      pick -= weight(pool[index]!);
      if (pick <= 0) break;
    }
    ordered.push(pool.splice(index, 1)[0]!);
  }
  return ordered;
}

export function createProviderCallActivities({ pool, registry, env, providerTaskQueuePrefix, outbound, secretsKeyring = configuredSecretsKeyring() }: ProviderCallDeps) {
  const credentials = createCredentialResolver({ pool, keyring: secretsKeyring, env });
  const breaker = createCircuitBreaker(pool, registry);
  const cache = createProviderCache(pool, { maxEntries: loadConfig(env).PROVIDER_CACHE_MAX_ENTRIES });
  const budgets = createBudgets(pool, registry);

  async function callProvider(request: ProviderActivityRequest): Promise<ProviderActivityResult> {
    // Heartbeats while it runs: a killed worker's attempt is retried after the policy's
    // heartbeatTimeout, not after the whole startToCloseTimeout.
    return withAttempt(() => heartbeatWhile(async () => {
      const info = Context.current().info;
      const call = prepareProviderCall(registry, request);
      // Before the cache and the circuit: a suppressed recipient is refused whatever the provider's state.
      const suppressed = await suppressedRecipients(pool, request.tenant, call.adapter, call.params);
      if (suppressed.length > 0) throw recipientSuppressedFailure(request.provider, request.operation, suppressed);
      const { cacheTtlSeconds } = call.declared;

      const key = cacheTtlSeconds ? cacheKey(request.tenant, request.provider, request.operation, call.params) : null;
      if (key) {
        const cached = await cache.get(key, request.provider, request.operation);
        if (cached) return { provider: request.provider, operation: request.operation, data: cached, cached: true };
      }

      const circuit = await breaker.admit(request.provider);
      if (circuit.state === 'open') {
        throw ApplicationFailure.create({
          message: `${request.provider} circuit is open for another ${circuit.remainingOpenMs} ms`,
          type: callErrorTypes.circuitOpen,
          // With a backup to go to, waiting out the cool-down would only delay the call.
          nonRetryable: request.failFastWhenOpen === true,
          nextRetryDelay: Math.max(circuit.remainingOpenMs, 100),
          details: [{ provider: request.provider, operation: request.operation, status: null, code: 'circuit_open', retryable: true }],
        });
      }

      const started = Date.now();
      try {
        const result = await call.send({
          credentials: await credentials.resolve(call.provider, request.operation),
          idempotencyKey: idempotencyKeyFor(
            info.workflowExecution?.workflowId ?? 'standalone',
            info.workflowExecution?.runId ?? 'standalone',
            info.activityId,
          ),
          signal: Context.current().cancellationSignal,
          outbound,
        });
        await breaker.recordOutcome(request.provider, {
          operation: request.operation,
          success: true,
          status: null,
          durationMs: Date.now() - started,
        });
        if (key && cacheTtlSeconds) await cache.set(key, result.data, cacheTtlSeconds);
        return { provider: request.provider, operation: request.operation, data: result.data, cached: false };
      } catch (err) {
        if (!(err instanceof ApplicationFailure)) throw err;
        const detail = (err.details?.[0] ?? {}) as { status?: number | null };
        if (err.type === providerErrorTypes.unavailable) {
          await breaker.recordOutcome(request.provider, {
            operation: request.operation,
            success: false,
            status: detail.status ?? null,
            durationMs: Date.now() - started,
          });
        }
        if (!err.nonRetryable && !err.nextRetryDelay) {
          // Temporal's own backoff has no jitter; many callers retrying in step would hit a
          // recovering provider together.
          throw ApplicationFailure.create({
            message: err.message,
            type: err.type ?? undefined,
            details: err.details ?? undefined,
            nextRetryDelay: jitteredBackoffMs(info.attempt),
            cause: err.cause,
          });
        }
        throw err;
      }
    }));
  }

  return {
    callProvider,
    /** The same call, under the compensation policy (more patient: an undo must not be given up on). */
    compensateProviderCall: callProvider,

    async planProviderCall(request: { provider: string; operation: string }): Promise<CallPlan> {
      const { provider: primary, declared: operation } = lookUpProviderOperation(registry, request);
      const failoverCapable = operation.failoverCapable && primary.failover !== null;
      const names = [primary.name, ...(failoverCapable ? primary.failover!.backups : [])];
      const circuits = new Map((await breaker.list()).map((c) => [c.provider, c]));
      const toCandidate = (name: string): CallCandidate => {
        const circuit = circuits.get(name);
        return {
          provider: name,
          taskQueue: `${providerTaskQueuePrefix}${name}`,
          costUsd: operationCost(registry, name, request.operation),
          circuit: circuit?.state ?? 'closed',
          remainingOpenMs: circuit?.remainingOpenMs ?? 0,
        };
      };
      let candidates = names.map(toCandidate);
      const strategy = failoverCapable ? primary.failover!.strategy : 'none';
      if (strategy === 'weighted') {
        const scores = await healthScores(pool, names);
        candidates = weightedOrder(candidates, (c) => (c.circuit === 'open' ? 0.01 : Math.max(scores.get(c.provider) ?? 1, 0.01)));
      }
      return { candidates, failoverCapable, strategy };
    },

    /** Reserves the cost (or refuses it); then pages any budget line the provider crossed (lib/temporal/budget-alerts.ts). */
    async reserveBudget(reservation: Reservation) {
      try {
        return await budgets.reserveBudget(reservation);
      } finally {
        const { client, info } = Context.current();
        const warn = (message: string, fields: Record<string, unknown>): void => {
          Context.current().log.warn(message, fields);
        };
        await pageBudgetCrossings({ pool, workflows: client.workflow, taskQueue: info.taskQueue, warn }, reservation.provider);
      }
    },
    settleBudget: (reservation: string, amountUsd?: number) => budgets.settleBudget(reservation, amountUsd),
    releaseBudget: (reservation: string) => budgets.releaseBudget(reservation),
  };
}
