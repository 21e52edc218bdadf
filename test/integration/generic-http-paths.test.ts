/**
 * A generic HTTP provider's path parameters stay inside the operation's declared path.
 * `{"pathParams":{"id":".."}}` on `GET /anything/{id}` was accepted and sent as `GET /`
 * with the provider's credentials. Now a parameter of `.` or `..`, or one holding `/` or `\` (also
 * percent-encoded, any case), answers 400 at the API before anything starts, and the adapter
 * refuses it too, non-retryably, if it is reached another way. The generic fake (httpbin's
 * /anything, test/fakes/providers/http-echo.ts) logs every request: nothing reaches it.
 */
import { randomUUID } from 'node:crypto';
import { httpOperation } from '../../providers/http/adapter';
import type { ProviderCallContext } from '../../providers/core/adapter-types';
import type { Config } from '../../lib/config/config';
import { outboundPolicyOf } from '../../lib/security/outbound-policy';
import type { ProviderRegistry } from '../../lib/config/registry';
import type { FakeProviders } from '../fakes/provider-server';
import { startStack, type RunningApi, type TestStack } from '../support/harness';
import { sendProviderCall } from '../support/provider-calls';

let stack: TestStack;
let fakes: FakeProviders;
let api: RunningApi;
let config: Config;
let registry: ProviderRegistry;

beforeAll(async () => {
  ({ fakes, api, config, registry } = stack = await startStack({ config: { CALL_WAIT_MS: 20_000 } }));
});

afterAll(() => stack?.close());

beforeEach(() => fakes.reset());

const escaping = ['.', '..', '%2e%2e', '%2E%2e', '.%2e', '%2e', 'a/b', '../..', '..%2F..', '%2f', '%2Fx', 'a\\b', '%5c', '%5C..', '%252e%252e', '%252F'];

async function call(route: 'calls' | 'batches', id: string, key = `k-${randomUUID()}`) {
  const res = await api.fetch(`/${route}/httpbin/getAnything`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({ params: { pathParams: { id } } }),
  });
  return { status: res.status, key, json: (await res.json()) as { error?: string; fields?: Record<string, string>; workflowId?: string } };
}

async function workflowExists(workflowId: string): Promise<boolean> {
  return api.workflows
    .getHandle(workflowId)
    .describe()
    .then(() => true)
    .catch(() => false);
}

test('a valid path parameter reaches the fake under the declared path (the set-up works)', async () => {
  const ok = await call('calls', 'item-7');
  expect(ok.status).toBe(200);
  expect(fakes.requests({ provider: 'http' }).map((r) => r.operation)).toEqual(['GET /anything/item-7']);
});

test.each(escaping)('POST /calls and /batches with pathParams.id %j answer 400 naming the field; nothing starts or reaches the fake', async (id) => {
  for (const route of ['calls', 'batches'] as const) {
    const refused = await call(route, id);
    expect({ route, status: refused.status, error: refused.json.error }).toEqual({ route, status: 400, error: 'invalid_params' });
    expect(Object.keys(refused.json.fields ?? {})).toEqual(['pathParams.id']);
    expect(await workflowExists(`call:${config.DEFAULT_TENANT}:httpbin:${refused.key}`)).toBe(false);
  }
  // A call that was (wrongly) started would have run by now.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(fakes.requests({ provider: 'http' })).toEqual([]);
});

test.each(escaping)('the adapter refuses pathParams.id %j itself, non-retryably, before sending', async (id) => {
  const ctx: ProviderCallContext = {
    provider: registry.httpbin!,
    operation: 'getAnything',
    credentials: { bearerToken: 'httpbin-secret' },
    idempotencyKey: 'k',
    outbound: outboundPolicyOf(config),
  };
  await expect(sendProviderCall(ctx, { pathParams: { id } })).rejects.toMatchObject({ type: 'InvalidCallParams', nonRetryable: true });
  // Past the params schema, as a caller that skips it would be.
  await expect(httpOperation.run({ pathParams: { id } }, ctx)).rejects.toMatchObject({ type: 'ProviderRequestInvalid', nonRetryable: true });
  expect(fakes.requests({ provider: 'http' })).toEqual([]);
});

test('a missing path parameter answers 400 naming it at the API, instead of starting a call that can only fail', async () => {
  const key = `k-${randomUUID()}`;
  const res = await api.fetch('/calls/httpbin/getAnything', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify({ params: {} }) });
  expect(res.status).toBe(400);
  expect((await res.json())).toMatchObject({ error: 'invalid_params', fields: { 'pathParams.id': expect.stringContaining('/anything/{id}') as unknown } });
  expect(await workflowExists(`call:${config.DEFAULT_TENANT}:httpbin:${key}`)).toBe(false);
  expect(fakes.requests({ provider: 'http' })).toEqual([]);
});
