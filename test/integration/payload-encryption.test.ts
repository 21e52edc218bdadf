/**
 * Encrypted payloads on the real Temporal dev server: a webhook's body and a
 * provider call's arguments and result reach the server only as AES-256-GCM ciphertext (the raw
 * history, read without any codec, holds no plaintext of a known field), yet the API answers
 * with the decrypted result; the recorded history replays with the codec (and not without it);
 * key rotation (new key encrypts, old key still decrypts a workflow started before); and the
 * Web UI's codec endpoint: authenticated, permission-checked, CORS for the UI origin only, and a
 * clear 400 for a tampered payload or an unknown key id. Owners: the raw
 * history of a tenant's webhook, call and delivery names that tenant (or subscriber) in every
 * payload, the SDK's serialization context reaching client starts, workflow tasks, activities,
 * local activities and failures; the codec endpoint opens only the caller's payloads and hands
 * another tenant's, system ones (to a non-admin) and pre-owner ones back unchanged.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import { newKeyringEntry, parseKeyring, type Keyring } from '../../lib/security/keyring';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA, OWNER_METADATA, payloadDataConverter } from '../../lib/security/payload-codec';
import { deliveryWorkflowId } from '../../contracts/delivery';
import type { pruneData } from '../../workflows/retention';
import { workerDataConverter, workflowsPath } from '../../workers/worker';
import { eventually, postStripe, signStripe, startStack, startWorker, stripeEvent, TEST_STRIPE_SECRET, type RunningApi, type TestStack } from '../support/harness';
import { whenStarted } from '../support/inbox';

const marker = `marker-${randomUUID()}`;

let stack: TestStack;
let pool: Pool;
let config: Config;
let api: RunningApi;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  ({ pool, config, api } = stack = await startStack({ config: { CALL_WAIT_MS: 30_000 } }));
  expect(config.PAYLOAD_ENCRYPTION_KEYS).toBeDefined(); // set for every test process by the jest global set-up
  connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: payloadDataConverter(config.PAYLOAD_ENCRYPTION_KEYS) });
});

afterAll(async () => {
  await connection?.close();
  await stack?.close();
});

/** The workflow's whole history as the server stores it (no codec), encoded to bytes. */
async function rawHistory(workflowId: string): Promise<{ bytes: Buffer; payloads: Payload[] }> {
  const response = await connection.workflowService.getWorkflowExecutionHistory({ namespace: config.TEMPORAL_NAMESPACE, execution: { workflowId } });
  const history = response.history ?? {};
  const payloads: Payload[] = [];
  // Every `payloads` list anywhere in the events (inputs, results, signals, activity inputs and
  // results, local activity results in markers). A marker's other details (`data`, `patch-data`)
  // are the SDK core's own bookkeeping (sequence number, activity type, patch id), never encoded.
  const visit = (value: unknown): void => {
    if (!value || typeof value !== 'object') return;
    if (Array.isArray(value)) return value.forEach(visit);
    const marker = value as { markerName?: unknown; details?: Record<string, unknown> };
    if (typeof marker.markerName === 'string') return visit(marker.details?.result);
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'payloads' && Array.isArray(inner)) payloads.push(...(inner as Payload[]));
      else visit(inner);
    }
  };
  visit(history.events);
  return { bytes: Buffer.from(temporal.api.history.v1.History.encode(history).finish()), payloads };
}

function metadataText(payload: Payload, key: string): string | undefined {
  const value = payload.metadata?.[key];
  return value ? Buffer.from(value).toString('utf8') : undefined;
}

test('a webhook body and a provider call’s arguments and result are ciphertext on the server; the API still reads them', async () => {
  const event = stripeEvent('payment_intent.succeeded', {
    object: { id: `pi_${randomUUID().replace(/-/g, '').slice(0, 24)}`, object: 'payment_intent', amount: 500, currency: 'usd', status: 'succeeded', description: marker },
  });
  const accepted = await postStripe(api.url, event);
  expect(accepted.status).toBe(202);
  const webhookId = accepted.json.workflowId as string;
  await (await whenStarted(client.workflow, webhookId)).result();

  const call = await api.fetch('/calls/stripe/createPaymentIntent', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ params: { amount: 1200, currency: 'usd', description: marker } }),
  });
  expect(call.status).toBe(200);
  const answer = (await call.json()) as { workflowId: string; status: string; result: unknown };
  expect(answer.status).toBe('completed');

  for (const workflowId of [webhookId, answer.workflowId]) {
    const { bytes, payloads } = await rawHistory(workflowId);
    expect(bytes.includes(marker)).toBe(false);
    expect(payloads.length).toBeGreaterThan(1);
    for (const payload of payloads) {
      expect(metadataText(payload, 'encoding')).toBe(ENCRYPTED_ENCODING);
      expect(metadataText(payload, KEY_ID_METADATA)).toBe(config.PAYLOAD_ENCRYPTION_KEYS!.currentId);
      expect(metadataText(payload, OWNER_METADATA)).toBe(`tenant:${config.DEFAULT_TENANT}`);
    }
    // What the Web UI would show through the codec endpoint: the marker is there, it was sealed, not dropped.
    const wire = payloads.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
      data: Buffer.from(p.data ?? []).toString('base64'),
    }));
    const decoded = await api.fetch('/codec/decode', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ payloads: wire }) });
    expect(decoded.status).toBe(200);
    const texts = ((await decoded.json()) as { payloads: Array<{ data: string }> }).payloads.map((p) => Buffer.from(p.data, 'base64').toString());
    expect(texts.some((text) => text.includes(marker))).toBe(true);
  }
  // And the API, a client with the keyring, answered the call's decrypted result.
  expect(answer.result).toMatchObject({ servedBy: 'stripe', data: { status: 'succeeded', amount: 1200 } });
});

test('a failure’s message and stack travel sealed too; the API still reports them', async () => {
  stack.fakes.addFault({ provider: 'stripe', kind: 'validation', times: 1 });
  const call = await api.fetch('/calls/stripe/createPaymentIntent', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ params: { amount: 1300, currency: 'usd', description: marker } }),
  });
  const answer = (await call.json()) as { workflowId: string; status: string; error: { message: string; type: string } };
  expect(answer).toMatchObject({ status: 'failed', error: { type: 'ProviderRejected' } });
  expect(answer.error.message.length).toBeGreaterThan(20);

  const response = await connection.workflowService.getWorkflowExecutionHistory({ namespace: config.TEMPORAL_NAMESPACE, execution: { workflowId: answer.workflowId } });
  const events = response.history?.events ?? [];
  const failed = events.find((e) => e.workflowExecutionFailedEventAttributes)?.workflowExecutionFailedEventAttributes?.failure;
  expect(failed?.message).toBe('Encoded failure');
  expect(failed?.stackTrace ?? '').toBe('');
  expect(metadataText(failed!.encodedAttributes!, 'encoding')).toBe(ENCRYPTED_ENCODING);
  expect(metadataText(failed!.encodedAttributes!, OWNER_METADATA)).toBe(`tenant:${config.DEFAULT_TENANT}`); // the failure converter's payload too
  const bytes = Buffer.from(temporal.api.history.v1.History.encode(response.history ?? {}).finish());
  expect(bytes.includes(answer.error.message)).toBe(false);
  expect(bytes.includes('ProviderRejected')).toBe(true); // the failure's type stays readable (retry policies match on it)
});

test('the recorded history replays with the codec, and fails to without it', async () => {
  const workflowId = `enc-replay-${randomUUID()}`;
  await client.workflow.execute<typeof pruneData>('pruneData', { taskQueue: config.TEMPORAL_TASK_QUEUE, workflowId, args: [{ batchSize: 50 }] });
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  await Worker.runReplayHistory({ workflowsPath, dataConverter: workerDataConverter(config.PAYLOAD_ENCRYPTION_KEYS) }, history, workflowId);
  await expect(Worker.runReplayHistory({ workflowsPath }, history, workflowId)).rejects.toThrow();
});

test('rotation: a workflow started under the old key completes on a worker whose new key encrypts; a client without the new key cannot read the result', async () => {
  const old = config.PAYLOAD_ENCRYPTION_KEYS!;
  const rotatedText = `${newKeyringEntry(`rotated-${randomUUID().slice(0, 8)}`)}`;
  const newOnly = (parseKeyring(rotatedText) as { keyring: Keyring }).keyring;
  const rotated: Keyring = { currentId: newOnly.currentId, keys: new Map([...newOnly.keys, ...old.keys]) };
  const queue = `enc-rotation-${randomUUID()}`;
  const workflowId = `enc-rotation-${randomUUID()}`;

  // Started (input sealed under the old key) before any worker polls the queue.
  const handle = await client.workflow.start<typeof pruneData>('pruneData', { taskQueue: queue, workflowId, args: [{ batchSize: 50 }] });
  const rotatedWorker = await startWorker({ ...config, TEMPORAL_TASK_QUEUE: queue, PAYLOAD_ENCRYPTION_KEYS: rotated }, pool);
  try {
    const rotatedClient = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: payloadDataConverter(rotated) });
    const totals = (await rotatedClient.workflow.getHandle<typeof pruneData>(workflowId).result());
    expect(typeof totals.costRows).toBe('number');
    const { payloads } = await rawHistory(workflowId);
    const keyIds = new Set(payloads.map((p) => metadataText(p, KEY_ID_METADATA)));
    expect(keyIds).toEqual(new Set([old.currentId, rotated.currentId])); // input under the old key, results under the new
    await expect(handle.result()).rejects.toThrow(new RegExp(`unknown key id "${rotated.currentId}"`));
  } finally {
    await rotatedWorker.stop();
  }
});

describe('codec endpoint for the Temporal Web UI', () => {
  const uiOrigin = (): string => new URL(config.TEMPORAL_UI_URL).origin;
  let sealed: { metadata: Record<string, string>; data: string };

  beforeAll(async () => {
    const encoded = await api.fetch('/codec/encode', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from(JSON.stringify({ note: marker })).toString('base64') }] }),
    });
    expect(encoded.status).toBe(200);
    sealed = ((await encoded.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> }).payloads[0]!;
    expect(Buffer.from(sealed.metadata.encoding!, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(sealed.data, 'base64').includes(marker)).toBe(false);
  });

  const decode = (body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    api.fetch('/codec/decode', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  test('decodes what the server holds for an operator; unencrypted payloads pass through', async () => {
    const operator = await api.keyFor('operator');
    const plain = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"as is"').toString('base64') };
    const res = await decode({ payloads: [sealed, plain] }, { authorization: `Bearer ${operator}`, 'x-namespace': config.TEMPORAL_NAMESPACE });
    expect(res.status).toBe(200);
    const out = ((await res.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> }).payloads;
    expect(JSON.parse(Buffer.from(out[0]!.data, 'base64').toString())).toEqual({ note: marker });
    expect(out[1]).toEqual(plain);
  });

  test('no credential 401, a service key 403, another namespace 400', async () => {
    expect((await fetch(`${api.url}/codec/decode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"payloads":[]}' })).status).toBe(401);
    const service = await api.keyFor('service');
    const forbidden = await decode({ payloads: [sealed] }, { authorization: `Bearer ${service}` });
    expect(forbidden.status).toBe(403);
    const elsewhere = await decode({ payloads: [sealed] }, { 'x-namespace': 'someone-else' });
    expect(elsewhere.status).toBe(400);
  });

  test('a tampered payload, an unknown key id and a malformed body get 400 with the reason', async () => {
    const data = Buffer.from(sealed.data, 'base64');
    data[data.length - 20]! ^= 0x01;
    const tampered = await decode({ payloads: [{ ...sealed, data: data.toString('base64') }] });
    expect(tampered.status).toBe(400);
    expect(((await tampered.json()) as { reason: string }).reason).toMatch(/failed authentication/);

    const relabelled = { ...sealed, metadata: { ...sealed.metadata, [KEY_ID_METADATA]: Buffer.from('retired-key').toString('base64') } };
    const unknown = await decode({ payloads: [relabelled] });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { reason: string }).reason).toMatch(/unknown key id "retired-key"/);

    const malformed = await decode({ payloads: [{ data: 'not base64!' }] });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { reason: string }).reason).toMatch(/payloads\.0\.data: must be base64/);
  });

  test('CORS: the Temporal Web UI origin may call it (preflight without a credential), another origin may not', async () => {
    const preflight = (origin: string): Promise<Response> =>
      fetch(`${api.url}/codec/decode`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-namespace' },
      });
    const allowed = await preflight(uiOrigin());
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(uiOrigin());
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('payloads are bound to their owner', () => {
  type Wire = { metadata: Record<string, string>; data: string };
  const tenantA = `pa${randomUUID().slice(0, 8)}`;
  const tenantB = `pb${randomUUID().slice(0, 8)}`;
  const json = { 'content-type': 'application/json' };
  const toWire = (p: Payload): Wire => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
    data: Buffer.from(p.data ?? []).toString('base64'),
  });
  const owners = (payloads: Payload[]) => new Set(payloads.map((p) => metadataText(p, OWNER_METADATA)));
  const plainText = (wire: Wire) => Buffer.from(wire.data, 'base64').toString('utf8');
  async function decodeAs(key: string, payloads: Wire[]): Promise<{ status: number; payloads: Wire[]; text: string }> {
    const res = await fetch(`${api.url}/codec/decode`, { method: 'POST', headers: { ...json, authorization: `Bearer ${key}` }, body: JSON.stringify({ payloads }) });
    const text = await res.text();
    return { status: res.status, payloads: res.status === 200 ? (JSON.parse(text) as { payloads: Wire[] }).payloads : [], text };
  }

  let operatorA: string;
  let adminA: string;
  let operatorB: string;
  let call: Wire[];
  let webhook: Payload[];
  let delivery: Wire[];
  let subscriberId: string;
  let system: Wire[];

  beforeAll(async () => {
    [operatorA, adminA, operatorB] = await Promise.all([api.keyFor('operator', tenantA), api.keyFor('admin', tenantA), api.keyFor('operator', tenantB)]);
    // Tenant A: a Stripe secret, a subscriber, a webhook (whose delivery starts) and a provider call.
    expect((await api.fetch(`/tenants/${tenantA}/webhook-secrets`, { method: 'POST', headers: json, body: JSON.stringify({ source: 'stripe', secret: TEST_STRIPE_SECRET }) })).status).toBe(201);
    const subscriber = await api.fetch(`/tenants/${tenantA}/subscribers`, { method: 'POST', headers: json, body: JSON.stringify({ url: 'http://127.0.0.1:9/hook' }) });
    subscriberId = ((await subscriber.json()) as { id: string }).id;
    const event = stripeEvent();
    const body = JSON.stringify(event);
    const accepted = await fetch(`${api.url}/tenants/${tenantA}/webhooks/stripe`, { method: 'POST', headers: { ...json, 'stripe-signature': signStripe(body) }, body });
    expect(accepted.status).toBe(202);
    const webhookId = ((await accepted.json()) as { workflowId: string }).workflowId;
    await (await whenStarted(client.workflow, webhookId)).result();
    webhook = (await rawHistory(webhookId)).payloads;
    const deliveryId = deliveryWorkflowId(subscriberId, 'stripe', String(event.id));
    delivery = (await eventually(async () => ((await rawHistory(deliveryId)).payloads.length > 0 ? (await rawHistory(deliveryId)).payloads : undefined))).map(toWire);

    const started = await api.fetch(`/tenants/${tenantA}/calls/stripe/createPaymentIntent`, {
      method: 'POST',
      headers: { ...json, 'idempotency-key': randomUUID() },
      body: JSON.stringify({ params: { amount: 1400, currency: 'usd', description: marker } }),
    });
    expect(started.status).toBe(200);
    call = (await rawHistory(((await started.json()) as { workflowId: string }).workflowId)).payloads.map(toWire);

    const systemId = `enc-system-${randomUUID()}`;
    await client.workflow.execute<typeof pruneData>('pruneData', { taskQueue: config.TEMPORAL_TASK_QUEUE, workflowId: systemId, args: [{ batchSize: 50 }] });
    system = (await rawHistory(systemId)).payloads.map(toWire);
  });

  test("the server's raw history names the owner in every payload: client start, workflow tasks, activities, local activities, children", () => {
    expect(call.length).toBeGreaterThan(3); // input, provider activity input and result, local activities, result
    const ownerOf = (w: Wire) => Buffer.from(w.metadata[OWNER_METADATA] ?? '', 'base64').toString();
    expect(new Set(call.map(ownerOf))).toEqual(new Set([`tenant:${tenantA}`]));
    // The webhook's own payloads are A's; the delivery child it starts is sealed for its subscriber.
    expect(owners(webhook)).toEqual(new Set([`tenant:${tenantA}`, `subscriber:${subscriberId}`]));
    expect(new Set(delivery.map(ownerOf))).toEqual(new Set([`subscriber:${subscriberId}`]));
    expect(new Set(system.map(ownerOf))).toEqual(new Set(['system']));
  });

  test("another tenant's operator gets A's payloads back unchanged, still sealed; A's operator reads them", async () => {
    const mine = await decodeAs(operatorA, call);
    expect(mine.status).toBe(200);
    expect(mine.payloads.some((p) => plainText(p).includes(marker))).toBe(true);

    const theirs = await decodeAs(operatorB, call);
    expect(theirs.status).toBe(200);
    expect(theirs.payloads).toEqual(call);
    expect(theirs.text).not.toContain(marker);
    expect(theirs.payloads.some((p) => plainText(p).includes(marker))).toBe(false);

    // Per payload: B's own payload in the same request opens, A's next to it stays sealed.
    const encoded = await fetch(`${api.url}/codec/encode`, {
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${operatorB}` },
      body: JSON.stringify({ payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"b\'s own"').toString('base64') }] }),
    });
    const own = ((await encoded.json()) as { payloads: Wire[] }).payloads[0]!;
    expect(Buffer.from(own.metadata[OWNER_METADATA]!, 'base64').toString()).toBe(`tenant:${tenantB}`);
    const mixed = await decodeAs(operatorB, [call[0]!, own]);
    expect(mixed.payloads[0]).toEqual(call[0]);
    expect(plainText(mixed.payloads[1]!)).toBe('"b\'s own"');
  });

  test("relabelling A's payload as B's fails authentication and reveals nothing", async () => {
    const relabelled = call.map((w) => ({ ...w, metadata: { ...w.metadata, [OWNER_METADATA]: Buffer.from(`tenant:${tenantB}`).toString('base64') } }));
    const res = await decodeAs(operatorB, relabelled);
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/failed authentication/);
    expect(res.text).not.toContain(marker);
  });

  test("a delivery's payloads open for its subscriber's tenant only", async () => {
    const mine = await decodeAs(operatorA, delivery);
    expect(mine.payloads).not.toEqual(delivery);
    expect(mine.payloads.some((p) => plainText(p).includes(subscriberId) || plainText(p).includes('payment_intent'))).toBe(true);
    expect((await decodeAs(operatorB, delivery)).payloads).toEqual(delivery);
  });

  test('system payloads, and payloads sealed before owners existed, open for an admin only', async () => {
    expect((await decodeAs(operatorA, system)).payloads).toEqual(system);
    const opened = await decodeAs(adminA, system);
    expect(opened.payloads.every((p) => Buffer.from(p.metadata.encoding ?? '', 'base64').toString() !== ENCRYPTED_ENCODING)).toBe(true);

    // Sealed as before this change: no owner in the metadata nor in the additional data.
    const keyring = config.PAYLOAD_ENCRYPTION_KEYS!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', keyring.keys.get(keyring.currentId)!, iv);
    cipher.setAAD(Buffer.from(`${ENCRYPTED_ENCODING}\0${keyring.currentId}`));
    const inner = temporal.api.common.v1.Payload.encode({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify({ note: marker })) }).finish();
    const legacy = toWire({
      metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from(keyring.currentId) },
      data: Buffer.concat([iv, cipher.update(inner), cipher.final(), cipher.getAuthTag()]),
    });
    const refused = await decodeAs(operatorA, [legacy]);
    expect(refused.payloads).toEqual([legacy]);
    expect(refused.text).not.toContain(marker);
    expect(JSON.parse(plainText((await decodeAs(adminA, [legacy])).payloads[0]!))).toEqual({ note: marker });
  });
});
