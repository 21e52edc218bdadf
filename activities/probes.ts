/**
 * healthProbe's activities: probe a provider's probe endpoint, record status and latency, compute
 * its health score from recent availability, latency and call error rate, feed the shared circuit
 * breaker (so a provider that stops answering opens its circuit and one that recovers closes it),
 * and publish status changes to the live stream. Probes go through the provider's own pool, so
 * the outbound policy's connect-time check applies to them as to the calls they stand for.
 */
import { ApplicationFailure, Context, type Info } from '@temporalio/activity';
import type { Pool } from 'pg';
import { publishEvent } from '../lib/data/event-stream';
import { insertProbeResult, probeHealthFigures, probeResultOf, upsertProviderHealth } from '../lib/data/probes';
import type { MonitoringConfig } from '../lib/config/monitoring-config';
import { strictOutboundPolicy, type OutboundPolicy } from '../lib/security/outbound-policy';
import { providerNamed, type ProviderConfig, type ProviderRegistry } from '../lib/config/registry';
import { callErrorTypes } from '../contracts/errors';
import type { HealthProbeInput, ProbeOutcome, ProviderStatus } from '../contracts/monitoring';
import { createCircuitBreaker, type CircuitState } from '../lib/data/circuits';
import type { CredentialResolver } from './credentials';
import { buildProviderUrl } from '../providers/core/http-core';
import { providerFetch } from '../providers/core/http-pool';

/** How far back the health score looks. */
export const HEALTH_WINDOW_MINUTES = 10;

export interface HealthInputs {
  /** Successful probes / probes in the window (1 without probes). */
  availability: number;
  /** p95 latency of successful probes in the window, ms (null without any). */
  p95LatencyMs: number | null;
  /** Failed real calls / real calls in the window (0 without calls). */
  callErrorRate: number;
}

/**
 * Health score 0..1: 60% availability, 20% latency against the SLA's p95 target, 20% real-call
 * success. A provider that answers every probe fast and every call is 1.
 */
export function healthScore(inputs: HealthInputs, p95TargetMs: number): number {
  const latency = inputs.p95LatencyMs === null ? 1 : Math.min(1, p95TargetMs / Math.max(inputs.p95LatencyMs, 1));
  const score = 0.6 * inputs.availability + 0.2 * latency + 0.2 * (1 - inputs.callErrorRate);
  return Math.round(score * 1000) / 1000;
}

/**
 * A probe's answer judged: up when it answered below 500, except 429 (rate limited: calls would be
 * refused too) and 401/403 (the provider refuses the credentials the probe carries, so every real
 * call would fail too). Anything else below 500 (404, 400) still proves the provider is there.
 */
export function judgeProbeAnswer(status: number | null): { ok: boolean; error: string | null } {
  if (status === null) return { ok: false, error: 'no answer' };
  if (status === 401 || status === 403) return { ok: false, error: `credentials refused (HTTP ${status})` };
  if (status === 429) return { ok: false, error: 'rate limited (HTTP 429)' };
  if (status >= 500) return { ok: false, error: `HTTP ${status}` };
  return { ok: true, error: null };
}

/**
 * A probe's answer judged as its registry entry says: with `probe.expectedStatus` (a status page
 * that must answer 200, a ping that answers 204), up only when answered with one of those;
 * otherwise as judgeProbeAnswer.
 */
export function judgeProbeAgainst(status: number | null, expectedStatus: readonly number[] | undefined): { ok: boolean; error: string | null } {
  if (expectedStatus === undefined || status === null) return judgeProbeAnswer(status);
  if (expectedStatus.includes(status)) return { ok: true, error: null };
  return { ok: false, error: `${judgeProbeAnswer(status).error ?? `HTTP ${status}`}, expected ${expectedStatus.join(' or ')}` };
}

type ProbeRequest = { url: string; headers: Record<string, string> };
type ProviderFetch = ReturnType<typeof providerFetch>;

/**
 * The probe request with the provider's credentials attached as its registry entry says
 * (`probe.auth`). A credential that is not configured is left out: the provider's 401 then tells the
 * operator. OAuth2 client credentials fetch a token first; a refused token request is the answer.
 */
async function authenticatedProbe(
  config: ProviderConfig,
  credentials: Readonly<Record<string, string>>,
  send: ProviderFetch,
  signal: AbortSignal,
): Promise<ProbeRequest | { refused: Response }> {
  const url = new URL(buildProviderUrl(config.baseUrl, config.probe.path));
  const headers: Record<string, string> = { 'user-agent': 'switchyard-health-probe' };
  for (const [name, value] of Object.entries(config.probe.headers ?? {})) headers[name.toLowerCase()] = value;
  const auth = config.probe.auth;
  switch (auth.kind) {
    case 'none':
      break;
    case 'bearer':
      if (credentials[auth.token]) headers.authorization = `Bearer ${credentials[auth.token]}`;
      break;
    case 'basic':
      if (credentials[auth.username] && credentials[auth.password]) {
        headers.authorization = `Basic ${Buffer.from(`${credentials[auth.username]}:${credentials[auth.password]}`).toString('base64')}`;
      }
      break;
    case 'query':
      for (const [param, field] of Object.entries(auth.params)) if (credentials[field]) url.searchParams.set(param, credentials[field]);
      break;
    case 'header':
      for (const [name, field] of Object.entries(auth.headers)) if (credentials[field]) headers[name.toLowerCase()] = credentials[field];
      break;
    case 'client-credentials': {
      const basic = Buffer.from(`${credentials[auth.clientId] ?? ''}:${credentials[auth.clientSecret] ?? ''}`).toString('base64');
      const res = await send(buildProviderUrl(config.baseUrl, auth.tokenPath), {
        method: 'POST',
        signal,
        headers: { ...headers, authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      const text = await res.text().catch(() => '');
      if (!res.ok) return { refused: new Response(null, { status: res.status }) };
      const token = (JSON.parse(text || '{}') as { access_token?: unknown }).access_token;
      if (typeof token === 'string') headers.authorization = `Bearer ${token}`;
      break;
    }
  }
  return { url: url.toString(), headers };
}

async function runProbe(
  config: ProviderConfig,
  outbound: OutboundPolicy,
  credentials: Readonly<Record<string, string>>,
): Promise<{ ok: boolean; status: number | null; latencyMs: number; error: string | null }> {
  const started = performance.now();
  try {
    const send = providerFetch(config, outbound);
    const signal = AbortSignal.timeout(config.probe.timeoutMs);
    const request = await authenticatedProbe(config, credentials, send, signal);
    const res = 'refused' in request ? request.refused : await send(request.url, { method: config.probe.method, signal, headers: request.headers });
    await res.arrayBuffer().catch(() => undefined);
    const latencyMs = Math.round(performance.now() - started);
    return { status: res.status, latencyMs, ...judgeProbeAgainst(res.status, config.probe.expectedStatus) };
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return { ok: false, status: null, latencyMs: Math.round(performance.now() - started), error: `${err instanceof Error ? err.message : String(err)}${cause}` };
  }
}

/** `{workflowId}:{runId}:{activityId}` of the running activity; null when called outside one (tests call probes directly). */
function currentActivityKey(): string | null {
  let info: Info;
  try {
    info = Context.current().info;
  } catch {
    return null; // Context.current() throws outside an activity
  }
  return `${info.workflowExecution?.workflowId}:${info.workflowExecution?.runId}:${info.activityId}`;
}

export function createProbeActivities(deps: {
  pool: Pool;
  registry: ProviderRegistry;
  monitoring: MonitoringConfig;
  /** The provider credentials the probes carry (the calls' resolver: stored, else the environment); default none. */
  credentials?: CredentialResolver;
  outbound?: OutboundPolicy;
}) {
  const { pool, registry, monitoring } = deps;
  const credentials = deps.credentials ?? { resolve: () => Promise.resolve({}) };
  const outbound = deps.outbound ?? strictOutboundPolicy;
  const breaker = createCircuitBreaker(pool, registry);

  async function healthInputs(provider: string): Promise<HealthInputs> {
    const row = await probeHealthFigures(pool, provider, HEALTH_WINDOW_MINUTES);
    const probes = Number(row.probes);
    const calls = Number(row.calls);
    return {
      availability: probes === 0 ? 1 : Number(row.ok) / probes,
      p95LatencyMs: row.p95 === null ? null : Number(row.p95),
      callErrorRate: calls === 0 ? 0 : Number(row.failed) / calls,
    };
  }

  return {
    async probeProvider({ provider }: HealthProbeInput): Promise<ProbeOutcome> {
      const config = providerNamed(registry, provider);
      if (!config) throw ApplicationFailure.nonRetryable(`unknown provider "${provider}"`, callErrorTypes.unknownProvider);
      // One probe is one activity of one run: its key makes a re-run of it (same workflow run and
      // activity id, e.g. after a retried workflow task) find the first run's row, record no
      // second row or circuit outcome, and answer the status its first run replaced.
      const probeKey = currentActivityKey();
      let result = await runProbe(config, outbound, await credentials.resolve(config, 'probe'));
      let circuit: CircuitState;
      if (await insertProbeResult(pool, provider, result, probeKey)) {
        // admit() half-opens an open circuit whose cool-down ended, so successful probes can close it.
        await breaker.admit(provider);
        circuit = await breaker.recordOutcome(provider, {
          operation: 'probe',
          success: result.ok,
          status: result.status,
          durationMs: result.latencyMs,
        });
      } else {
        result = await probeResultOf(pool, probeKey);
        circuit = (await breaker.list()).find((c) => c.provider === provider)?.state ?? 'closed';
      }
      const score = healthScore(await healthInputs(provider), config.sla.p95Ms);
      const providerStatus: ProviderStatus = !result.ok ? 'down' : score < monitoring.HEALTH_DEGRADED_BELOW ? 'degraded' : 'up';
      const previousStatus = await upsertProviderHealth(pool, { provider, status: providerStatus, score, latencyMs: result.latencyMs, ok: result.ok, probeKey });
      if (previousStatus !== providerStatus) {
        await publishEvent(pool, {
          topic: 'provider',
          tenant: null,
          data: { provider, status: providerStatus, previousStatus, score, latencyMs: result.latencyMs, error: result.error, circuit },
        });
      }
      return { provider, ...result, score, providerStatus, previousStatus, circuit };
    },
  };
}
