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
import { Counter, Registry } from 'prom-client';
import type { Keyring } from '../lib/security/keyring';
import type { OutboundPolicy } from '../lib/security/outbound-policy';
import { loadConfig } from '../lib/config/config';
import { operationCost, providerNamed, type ProviderRegistry } from '../lib/config/registry';
import { configuredSecretsKeyring } from '../lib/security/stored-secrets';
import { createBudgets, type Reservation } from '../lib/data/budgets';
import { pageBudgetCrossings } from '../lib/temporal/budget-alerts';
import { createCircuitBreaker, routingFigures } from '../lib/data/circuits';
import {
  ROUTING_WINDOW_SECONDS,
  responseTimeScore,
  routingHealthScore,
  routingOrder,
  routingScore,
  type RoutingFigures,
} from './routing';
import { cacheKey, createProviderCache } from '../lib/data/provider-cache';
import { countProviderRequest, type RequestOutcome } from '../lib/data/provider-requests';
import { activityPolicies } from '../workflows/policies';
import type {
  CallCandidate,
  CallPlan,
  ProviderActivityRequest,
  ProviderActivityResult,
} from '../contracts/call';
import type { AttemptInfo } from '../contracts/webhook';
import { withAttempt } from './attempts';
import { heartbeatWhile } from './heartbeat';
import { createCredentialResolver } from './credentials';
import { lookUpProviderOperation, prepareProviderCall } from '../providers/prepare-provider-call';
import { tokenCostUsd, type TokenPricing } from '../providers/core/token-cost';
import { recipientSuppressedFailure, suppressedRecipients } from '../providers/core/recipients';
import { callErrorTypes, providerErrorTypes } from '../contracts/errors';

/** The worker's failover metrics (merged into its /metrics by workers/main.ts). */
export const failoverMetricsRegistry = new Registry();
/** The health monitor's `failover_events_total`: a call moving on to a backup provider, by that backup. */
const failoverEvents = new Counter({
  name: 'failover_events_total',
  help: 'Provider calls that failed over to a backup provider (its circuit open, or the providers before it failed), by the backup',
  labelNames: ['provider'],
  registers: [failoverMetricsRegistry],
});

/** Zero series for every provider that is some provider's failover backup. */
export function initFailoverSeries(registry: ProviderRegistry): void {
  for (const provider of Object.values(registry)) {
    for (const backup of provider.failover?.backups ?? []) failoverEvents.inc({ provider: backup }, 0);
  }
}

/**
 * The candidate number of a call's budget reservation (workflows/provider-calls.ts names it
 * `{workflowId}:{candidate number}:{provider}:{operation}`, numbered from 1), or undefined for
 * other reservations (a batch flush's).
 */
export function reservationCandidate(reservation: Reservation): number | undefined {
  const parts = reservation.reservation.split(':');
  if (parts.length < 4 || parts[parts.length - 2] !== reservation.provider || parts[parts.length - 1] !== reservation.operation) return undefined;
  const candidate = parts[parts.length - 3]!;
  return /^\d+$/.test(candidate) ? Number(candidate) : undefined;
}

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
/** Kept importable from here: the weighted order now lives with the rest of the routing. */
export { weightedOrder } from './routing';

/** How long a worker reuses the routing figures it read (a burst of plans costs one query). */
export const ROUTING_FIGURES_CACHE_MS = 2000;

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

export function createProviderCallActivities({ pool, registry, env, providerTaskQueuePrefix, outbound, secretsKeyring = configuredSecretsKeyring() }: ProviderCallDeps) {
  const credentials = createCredentialResolver({ pool, keyring: secretsKeyring, env });
  const breaker = createCircuitBreaker(pool, registry);
  const config = loadConfig(env);
  const cache = createProviderCache(pool, { maxEntries: config.PROVIDER_CACHE_MAX_ENTRIES });
  // Rollback switches (docs/RELIABILITY.md): no cache reads or writes; no failover to backups.
  const caching = config.FEATURE_CACHE === 'on';
  const failingOver = config.FEATURE_FAILOVER === 'on';
  const budgets = createBudgets(pool, registry);
  const figuresCache = new Map<string, { readAt: number; figures: Promise<Map<string, RoutingFigures>> }>();

  /** The providers' routing figures, read at most every ROUTING_FIGURES_CACHE_MS per set of providers. */
  function cachedRoutingFigures(providers: string[]): Promise<Map<string, RoutingFigures>> {
    const key = providers.join(' ');
    const cached = figuresCache.get(key);
    if (cached && Date.now() - cached.readAt < ROUTING_FIGURES_CACHE_MS) return cached.figures;
    const figures = routingFigures(pool, providers, ROUTING_WINDOW_SECONDS);
    figuresCache.set(key, { readAt: Date.now(), figures });
    figures.catch(() => figuresCache.delete(key)); // a failed read is not reused
    return figures;
  }

  /**
   * A token-priced call's reservation, made by its workflow at the operation's flat `costUsd`
   * before the params were looked at, raised to the estimate of its params (or refused, as
   * BudgetExceeded); null when it runs outside a provider call's reservation (a batch flush
   * reserves per flush), where the flat cost stands.
   */
  async function reserveTokenEstimate(workflowId: string | undefined, request: ProviderActivityRequest, pricing: TokenPricing): Promise<string | null> {
    if (workflowId === undefined) return null;
    const open = await budgets.openCallReservation(workflowId, request.provider, request.operation);
    if (!open) return null;
    await budgets.raiseReservation(open.reservation, pricing.estimateUsd);
    return open.reservation;
  }
  /** The request's outcome in provider_request_counts (GET /rate-limits); a lost count must not fail the call. */
  const countRequest = (provider: string, outcome: RequestOutcome) => countProviderRequest(pool, provider, outcome).catch(() => undefined);
  const outcomeOfType = new Map<string, RequestOutcome>([
    [providerErrorTypes.rejected, 'rejected'],
    [providerErrorTypes.throttled, 'throttled'],
    [providerErrorTypes.unavailable, 'unavailable'],
  ]);

  async function callProvider(request: ProviderActivityRequest): Promise<ProviderActivityResult> {
    // Heartbeats while it runs: a killed worker's attempt is retried after the policy's
    // heartbeatTimeout, not after the whole startToCloseTimeout.
    return withAttempt(() => heartbeatWhile(async () => {
      const info = Context.current().info;
      const call = prepareProviderCall(registry, request);
      // Before the cache and the circuit: a suppressed recipient is refused whatever the provider's state.
      const suppressed = await suppressedRecipients(pool, request.tenant, call.adapter, call.params);
      if (suppressed.length > 0) throw recipientSuppressedFailure(request.provider, request.operation, suppressed);
      const { cacheTtlSeconds, staleIfErrorSeconds } = call.declared;

      const key = caching && cacheTtlSeconds ? cacheKey(request.tenant, request.provider, request.operation, call.params) : null;
      if (key) {
        const cached = await cache.get(key, request.provider, request.operation);
        if (cached) return { provider: request.provider, operation: request.operation, data: cached, cached: true };
      }
      // Graceful degradation: with no backup left to try, a declared read answers its last cached
      // value, marked stale, rather than fail while the provider is down.
      const staleAnswer = async (): Promise<Omit<ProviderActivityResult, keyof AttemptInfo> | undefined> => {
        if (!key || !staleIfErrorSeconds || request.failFastWhenOpen === true) return undefined;
        const stale = await cache.getStale(key, request.provider, request.operation);
        return stale && { provider: request.provider, operation: request.operation, data: stale.value, cached: true, stale: true, staleSince: stale.expiredAt };
      };

      const circuit = await breaker.admit(request.provider);
      if (circuit.state === 'open') {
        const stale = await staleAnswer();
        if (stale) return stale;
        throw ApplicationFailure.create({
          message: `${request.provider} circuit is open for another ${circuit.remainingOpenMs} ms`,
          type: callErrorTypes.circuitOpen,
          // With a backup to go to, waiting out the cool-down would only delay the call.
          nonRetryable: request.failFastWhenOpen === true,
          nextRetryDelay: Math.max(circuit.remainingOpenMs, 100),
          details: [{ provider: request.provider, operation: request.operation, status: null, code: 'circuit_open', retryable: true }],
        });
      }

      const pricing = call.tokenPricing;
      const reservation = pricing ? await reserveTokenEstimate(info.workflowExecution?.workflowId, request, pricing) : null;

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
        await countRequest(request.provider, 'success');
        await breaker.recordOutcome(request.provider, {
          operation: request.operation,
          success: true,
          status: null,
          durationMs: Date.now() - started,
        });
        // Settled here at what the answer says it used; the workflow's own settle then finds it done.
        const costUsd = pricing && result.usage ? tokenCostUsd(pricing.price, result.usage) : null;
        if (reservation && costUsd !== null) await budgets.settleBudgetAt(reservation, costUsd);
        const data = costUsd === null ? result.data : { ...result.data, costUsd };
        if (key && cacheTtlSeconds) await cache.set(key, data, cacheTtlSeconds, staleIfErrorSeconds ?? 0);
        return { provider: request.provider, operation: request.operation, data, cached: false };
      } catch (err) {
        if (!(err instanceof ApplicationFailure)) throw err;
        const detail = (err.details?.[0] ?? {}) as { status?: number | null };
        const outcome = err.type ? outcomeOfType.get(err.type) : undefined;
        if (outcome) await countRequest(request.provider, outcome);
        if (err.type === providerErrorTypes.unavailable) {
          await breaker.recordOutcome(request.provider, {
            operation: request.operation,
            success: false,
            status: detail.status ?? null,
            durationMs: Date.now() - started,
          });
        }
        if (err.type === providerErrorTypes.unavailable || err.type === providerErrorTypes.throttled) {
          const stale = await staleAnswer();
          if (stale) {
            Context.current().log.warn('provider failed; answered from the stale cache', { provider: request.provider, operation: request.operation, error: err.message, staleSince: stale.staleSince });
            return stale;
          }
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
      const failoverCapable = failingOver && operation.failoverCapable && primary.failover !== null;
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
        const figures = await cachedRoutingFigures(names);
        const weights = primary.failover!.weights ?? {};
        const routed = routingOrder(
          candidates.map((c) => {
            const f = figures.get(c.provider) ?? { attempts: 0, ok: 0, p95Ms: null };
            const thresholds = providerNamed(registry, c.provider)!.thresholds;
            return {
              provider: c.provider,
              declaredWeight: weights[c.provider] ?? 1,
              score: routingScore(routingHealthScore(f), responseTimeScore(f.p95Ms, thresholds)),
              circuitOpen: c.circuit === 'open',
            };
          }),
        );
        const byName = new Map(candidates.map((c) => [c.provider, c]));
        candidates = routed.map((r) => ({ ...byName.get(r.provider)!, routingScore: Math.round(r.score * 1000) / 1000 }));
      }
      return { candidates, failoverCapable, strategy };
    },

    /** The waits of a failed non-critical saga step's follow-up retries (SAGA_FOLLOW_UP_SCHEDULE). */
    planSagaFollowUp: () => Promise.resolve({ waits: config.SAGA_FOLLOW_UP_SCHEDULE }),

    /** Reserves the cost (or refuses it); then pages any budget line the provider crossed (lib/temporal/budget-alerts.ts). */
    async reserveBudget(reservation: Reservation) {
      // A candidate after the first is a failover: counted on its first attempt only.
      if ((reservationCandidate(reservation) ?? 1) > 1 && Context.current().info.attempt === 1) failoverEvents.inc({ provider: reservation.provider });
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
