/**
 * The `weighted` failover strategy on the real Temporal dev server and PostgreSQL, against the fake
 * geocoders: with both healthy, geocoding calls mostly go to the primary (its declared weight 4 to
 * the backup's 1); once the primary's fake answers slowly (latency injection), its response-time
 * score falls and most calls go to the backup. Counts at the fakes, with wide margins; no timing.
 *
 * Per-run clones of the shipped pair (google-maps → yandex-maps), with response-time levels low
 * enough for a short latency (1 s warning, 2 s critical), so this run's routing figures are its own.
 */
import { randomUUID } from 'node:crypto';
import type { ProviderConfig } from '../../lib/config/registry';
import type { FakeProviders } from '../fakes/provider-server';
import { eventually, startStack, waitScale, type RunningApi, type TestStack } from '../support/harness';

const run = randomUUID().slice(0, 8);
const primary = `gmaps-weighted-${run}`;
const backup = `ymaps-weighted-${run}`;

let stack: TestStack;
let fakes: FakeProviders;
let api: RunningApi;

beforeAll(async () => {
  ({ fakes, api } = stack = await startStack({
    config: { CALL_WAIT_MS: 45_000, RATE_LIMIT_PER_IP_PER_MINUTE: 0, RATE_LIMIT_PER_KEY_PER_MINUTE: 0 },
    registry: (r) => {
      const google = r['google-maps']!;
      const quick = { ...google.thresholds, responseTimeWarningMs: 1000, responseTimeCriticalMs: 2000 };
      r[backup] = { ...structuredClone(r['yandex-maps']!), name: backup, failover: null };
      r[primary] = {
        ...structuredClone(google),
        name: primary,
        thresholds: quick,
        failover: { strategy: 'weighted', backups: [backup], weights: { [primary]: 4, [backup]: 1 } },
      } satisfies ProviderConfig;
    },
  }));
});

afterAll(() => stack?.close());

const geocodes = (provider: 'google-maps' | 'yandex-maps') => fakes.requests({ provider, operation: 'geocode' }).length;

/** `count` geocoding calls of distinct addresses (no cache hits), 8 at a time; how many reached each fake. */
async function geocodeMany(label: string, count: number): Promise<{ google: number; yandex: number }> {
  const before = { google: geocodes('google-maps'), yandex: geocodes('yandex-maps') };
  const addresses = Array.from({ length: count }, (_, i) => `${i + 1} ${label} Street, ${run}`);
  const served: string[] = [];
  const worker = async (): Promise<void> => {
    for (let address = addresses.shift(); address !== undefined; address = addresses.shift()) {
      const res = await api.fetch(`/calls/${primary}/geocode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: JSON.stringify({ params: { address } }),
      });
      const body = (await res.json()) as { status: string; workflowId: string; result?: { servedBy: string } };
      let { status } = body;
      let servedBy = body.result?.servedBy;
      // A call still running after CALL_WAIT_MS is answered `running`; a client then reads its status,
      // as here (a CI rehearsal with no sticky cache saw one geocode outlast the 45 s wait).
      if (status === 'running') {
        const view = await eventually(async () => {
          const read = (await (await api.fetch(`/calls/${encodeURIComponent(body.workflowId)}`)).json()) as { status: string | null; servedBy: string | null };
          return read.status === 'completed' || read.status === 'failed' ? read : undefined;
        }, 60_000);
        status = view.status!;
        servedBy = view.servedBy ?? undefined;
      }
      expect(status).toBe('completed');
      served.push(servedBy!);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const sent = { google: geocodes('google-maps') - before.google, yandex: geocodes('yandex-maps') - before.yandex };
  // Every call reached exactly one geocoder (nothing failed over), as the workflows report.
  expect(sent.google + sent.yandex).toBe(count);
  expect(served.filter((p) => p === backup)).toHaveLength(sent.yandex);
  return sent;
}

test('healthy: most calls go to the primary; primary slowed: most go to the backup', async () => {
  const healthy = await geocodeMany('Healthy', 40);
  expect(healthy.google).toBeGreaterThanOrEqual(24); // expected 32 of 40 (4 : 1)
  expect(healthy.yandex).toBeGreaterThanOrEqual(1);

  fakes.addFault({ provider: 'google-maps', operation: 'geocode', kind: 'latency', latencyMs: 2500 });
  // The routing figures learn from calls: the primary's slow answers lift its p95 past the
  // critical 2 s (response-time score 0, routing score 0.7 against the backup's 1.0).
  const learning = await geocodeMany('Learning', 12);
  expect(learning.google).toBeGreaterThanOrEqual(2);

  const slowed = await geocodeMany('Slowed', 40);
  expect(slowed.yandex).toBeGreaterThanOrEqual(22); // expected about 33 of 40 (the primary keeps 4e⁻³ : 1)
  expect(slowed.yandex - healthy.yandex).toBeGreaterThanOrEqual(12);
  fakes.clearFaults();
}, 180_000 * waitScale);
