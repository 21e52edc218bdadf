/**
 * The outbound connection pools of the shared HTTP core: one undici `Agent` per provider (and
 * outbound policy), sized by the provider's registry `http` settings, so a slow or busy provider
 * queues on its own connections instead of starving the others, and its limits are declared
 * where its other limits are.
 * - Every connection is opened by the outbound policy's connector (lib/security/outbound-policy.ts): the
 *   SSRF guard checks each resolved address at connect time, for every socket the pool opens.
 * - `allowH2` offers HTTP/2 by ALPN over TLS; the provider chooses (many answer http/1.1).
 * - Pool use is exported as Prometheus metrics (open and busy connections, pending and running
 *   requests per provider, connections opened by protocol, failed connects) in the provider
 *   metrics registry the worker serves on /metrics.
 */
import type { Socket } from 'node:net';
import { Agent, Pool, fetch as undiciFetch, type Dispatcher, type buildConnector } from 'undici';
import { Counter, Gauge } from 'prom-client';
import { outboundRefusal, type OutboundPolicy } from '../../lib/security/outbound-policy';
import type { HttpPoolConfig } from '../../lib/config/registry';
import { providerMetricsRegistry } from './metrics';

/** The registry settings a pool needs (ProviderConfig has them all). */
export interface PooledProvider {
  name: string;
  http: HttpPoolConfig;
}

interface ProviderPool {
  provider: string;
  agent: Agent;
  /** One undici Pool per origin the provider's requests went to (base URL and extra hosts). */
  origins: Map<string, Pool>;
}

/** policy → `${provider}\n${settings}` → pool; settings are part of the key so a changed entry gets its own pool. */
const pools = new Map<OutboundPolicy, Map<string, ProviderPool>>();

const connectionsOpened = new Counter<'provider' | 'protocol'>({
  name: 'provider_http_connections_opened_total',
  help: 'Outbound provider connections opened (TCP, TLS included), by provider and negotiated protocol (h2, http/1.1)',
  labelNames: ['provider', 'protocol'],
  registers: [providerMetricsRegistry],
});

const connectFailures = new Counter<'provider' | 'reason'>({
  name: 'provider_http_connect_failures_total',
  help: 'Outbound provider connections that could not be opened, by provider and reason (refused by the outbound policy, error)',
  labelNames: ['provider', 'reason'],
  registers: [providerMetricsRegistry],
});

export const compressedBodies = new Counter<'provider' | 'direction'>({
  name: 'provider_http_gzip_bodies_total',
  help: 'Provider request bodies sent gzip-compressed and answers received gzip-compressed, by provider and direction (request, response)',
  labelNames: ['provider', 'direction'],
  registers: [providerMetricsRegistry],
});

type PoolReading = 'connected' | 'busy' | 'pending' | 'running';

/** Sums one reading over every origin of every pool of each provider, at scrape time. */
function poolGauge(name: string, help: string, reading: PoolReading): Gauge<'provider'> {
  return new Gauge<'provider'>({
    name,
    help,
    labelNames: ['provider'],
    registers: [providerMetricsRegistry],
    collect(this: Gauge<'provider'>) {
      this.reset();
      const totals = new Map<string, number>();
      for (const byKey of pools.values()) {
        for (const entry of byKey.values()) {
          let sum = totals.get(entry.provider) ?? 0;
          for (const pool of entry.origins.values()) {
            const stats = pool.stats;
            sum += reading === 'busy' ? stats.connected - stats.free : stats[reading];
          }
          totals.set(entry.provider, sum);
        }
      }
      for (const [provider, value] of totals) this.set({ provider }, value);
    },
  });
}

poolGauge('provider_http_pool_connections_open', 'Open outbound connections per provider (kept alive for reuse when idle)', 'connected');
poolGauge('provider_http_pool_connections_busy', 'Open outbound connections per provider that cannot take another request now', 'busy');
poolGauge('provider_http_pool_requests_pending', 'Provider requests waiting for a connection or not yet sent', 'pending');
poolGauge('provider_http_pool_requests_running', 'Provider requests sent and awaiting their answer', 'running');

function protocolOf(socket: Socket): string {
  const alpn = 'alpnProtocol' in socket ? (socket as { alpnProtocol?: unknown }).alpnProtocol : undefined;
  return typeof alpn === 'string' && alpn !== '' ? alpn : 'http/1.1';
}

/** The policy's guarded connector with the provider's connect timeout and ALPN offer, counted. */
function countingConnector(provider: PooledProvider, policy: OutboundPolicy): buildConnector.connector {
  const guarded = policy.connector({ timeout: provider.http.connectTimeoutMs, allowH2: provider.http.allowH2 });
  return (options, callback) => {
    guarded(options, (...args) => {
      const [error, socket] = args;
      if (error) connectFailures.inc({ provider: provider.name, reason: outboundRefusal(error) ? 'refused' : 'error' });
      else if (socket) connectionsOpened.inc({ provider: provider.name, protocol: protocolOf(socket) });
      callback(...args);
    });
  };
}

function createProviderPool(provider: PooledProvider, policy: OutboundPolicy): ProviderPool {
  const { http } = provider;
  const origins = new Map<string, Pool>();
  const agent = new Agent({
    connections: http.connections,
    pipelining: http.pipelining,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    // A server's Keep-Alive hint may shorten the idle time, never lengthen it past the declared one.
    keepAliveMaxTimeout: http.keepAliveTimeoutMs,
    allowH2: http.allowH2,
    connect: countingConnector(provider, policy),
    // Always a Pool (undici's default makes a bare Client for connections: 1), so stats read the same way.
    factory: (origin: string | URL, options: object): Dispatcher => {
      const pool = new Pool(origin, options);
      origins.set(String(origin), pool);
      return pool;
    },
  });
  return { provider: provider.name, agent, origins };
}

/** The keep-alive pool a provider's requests go through under this outbound policy. */
export function providerDispatcher(provider: PooledProvider, policy: OutboundPolicy): Dispatcher {
  let byKey = pools.get(policy);
  if (!byKey) {
    byKey = new Map();
    pools.set(policy, byKey);
  }
  const key = `${provider.name}\n${JSON.stringify(provider.http)}`;
  let entry = byKey.get(key);
  if (!entry) {
    entry = createProviderPool(provider, policy);
    byKey.set(key, entry);
  }
  return entry.agent;
}

/**
 * A WHATWG `fetch` over the provider's pool, for SDKs that bring their own HTTP client but take a
 * fetch function (Stripe's `createFetchHttpClient`): their requests then share the provider's
 * pool, limits, metrics and the outbound guard. The pool is looked up per request, so a closed
 * pool is replaced rather than reused.
 */
export function providerFetch(provider: PooledProvider, policy: OutboundPolicy): typeof fetch {
  const pooled = (input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) =>
    undiciFetch(input, { ...init, dispatcher: providerDispatcher(provider, policy) });
  return pooled;
}

/** Closes every pool (worker shutdown, end of tests); the next request opens a new one. */
export async function closeProviderPools(): Promise<void> {
  const current = [...pools.values()].flatMap((byKey) => [...byKey.values()]);
  pools.clear();
  await Promise.all(current.map((entry) => entry.agent.close()));
}
