/**
 * Monitoring-only registry entries (kind `monitor`, providers/monitor): an entry with nothing but
 * a probe (URL, auth, expected status) is probed by the healthProbe workflow on the real Temporal
 * dev server and judged by its `expectedStatus`; the shipped entries are answered by the fakes (so
 * `npm start` without internet pages nothing); the registry refuses a monitor entry with
 * operations.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../lib/temporal/connection';
import { parseRegistry, type ProviderConfig } from '../../lib/config/registry';
import type { ProbeOutcome } from '../../contracts/monitoring';
import type { healthProbe } from '../../workflows/monitoring';
import type { FakeProviders } from '../fakes/provider-server';
import { fakeCredentials, startStack, type TestStack } from '../support/harness';

const run = randomUUID().slice(0, 8);
const names = { ping: `ping-${run}`, wrong: `wrong-${run}`, header: `header-${run}` };
const shipped = ['resend', 'razorpay', 'cloudflare', 'digitalocean', 'google-cloud', 'synthesia', 'linkedin', 'facebook'];

let stack: TestStack;
let fakes: FakeProviders;
let client: Client;

beforeAll(async () => {
  ({ fakes } = stack = await startStack({
    registry: (r) => {
      // The shipped monitor entries and three made here, as an operator would add them to a PROVIDERS_FILE.
      for (const name of Object.keys(r)) if (r[name]!.kind !== 'monitor') delete r[name];
      const entry = (name: string, probe: Partial<ProviderConfig['probe']>, credentials: Record<string, string> = {}): void => {
        r[name] = { ...structuredClone(r.resend!), name, credentials, probe: { ...r.resend!.probe, auth: { kind: 'none' }, ...probe } };
      };
      entry(names.ping, { path: '/status/204', expectedStatus: [204] });
      entry(names.wrong, { path: '/status/200', expectedStatus: [204] });
      entry(names.header, { path: '/status/200', expectedStatus: [200], auth: { kind: 'header', headers: { 'x-api-key': 'apiKey' } }, headers: { 'x-probe-version': '2023-06-01' } }, { apiKey: 'RESEND_API_KEY' });
    },
  }));
  client = await connectClient(stack.config.TEMPORAL_ADDRESS, stack.config.TEMPORAL_NAMESPACE, stack.config.PAYLOAD_ENCRYPTION_KEYS);
});

afterAll(async () => {
  await client?.connection.close();
  await stack?.close();
});

async function probe(provider: string): Promise<ProbeOutcome> {
  return client.workflow.execute<typeof healthProbe>('healthProbe', {
    taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
    workflowId: `test-health-probe:${provider}:${randomUUID()}`,
    args: [{ provider }],
  });
}

test('a registry-only entry is probed and judged by its expected status', async () => {
  expect(await probe(names.ping)).toMatchObject({ ok: true, status: 204, providerStatus: 'up' });
  // 200 would be up by the default judgement; this entry expects 204.
  expect(await probe(names.wrong)).toMatchObject({ ok: false, status: 200, error: 'HTTP 200, expected 204', providerStatus: 'down' });
});

test('header auth and fixed headers go out with the probe', async () => {
  const before = fakes.requests({ provider: 'http', operation: 'probe' }).length;
  expect(await probe(names.header)).toMatchObject({ ok: true, status: 200 });
  const [sent] = fakes.requests({ provider: 'http', operation: 'probe' }).slice(before);
  expect(sent!.headers).toMatchObject({ 'x-api-key': fakeCredentials.RESEND_API_KEY, 'x-probe-version': '2023-06-01' });
  expect(sent!.headers.authorization).toBeUndefined();
});

test('every shipped monitor entry is answered by the fakes (npm start offline pages nothing)', async () => {
  const outcomes = await Promise.all(shipped.map(async (name) => [name, (await probe(name)).ok] as const));
  expect(Object.fromEntries(outcomes)).toEqual(Object.fromEntries(shipped.map((name) => [name, true])));
  const cloudflare = fakes.requests({ provider: 'monitor' }).find((r) => r.path === '/client/v4/user/tokens/verify');
  expect(cloudflare?.headers.authorization).toBe(`Bearer ${fakeCredentials.CLOUDFLARE_API_TOKEN}`);
  // An injected outage of the monitored APIs fails their probes.
  fakes.addFault({ provider: 'monitor', operation: 'probe', kind: 'status', status: 503, times: 1 });
  expect(await probe('digitalocean')).toMatchObject({ ok: false, status: 503, error: 'HTTP 503, expected 200' });
});

test('a monitor entry declares no operations', () => {
  const entry = { kind: 'monitor', baseUrl: 'https://status.example.com', operations: { ping: {} } };
  expect(() => parseRegistry({ providers: { example: entry } })).toThrow(/providers\.example\.operations\.ping: a monitor entry is probed only/);
  expect(() => parseRegistry({ providers: { example: { ...entry, operations: {}, probe: { expectedStatus: [99] } } } })).toThrow(/expectedStatus/);
});
