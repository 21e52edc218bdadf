/**
 * The audit log on the real app, PostgreSQL and Temporal (no worker: started workflows wait, and
 * are terminated at the end): every audited action through the API leaves exactly one row with
 * actor, role, tenant, action and target; failed or refused attempts are recorded with their
 * status and never as done; GET /audit is for the tenant's admins only; the database refuses to
 * change or remove rows; key changes made by the CLI straight in PostgreSQL are recorded as `cli`.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Pool } from 'pg';
import { parseApiKey } from '../../lib/security/api-keys';
import type { Config } from '../../lib/config/config';
import { projectRoot } from '../../lib/config/paths';
import { deliveryWorkflowId } from '../../contracts/delivery';
import { eventually, startApi, testConfig, testPool, type RunningApi } from '../support/harness';

let pool: Pool;
let config: Config;
let api: RunningApi;
/** Workflows this file starts (nothing runs them): terminated in afterAll. */
const started: string[] = [];
const alertIds: string[] = [];

beforeAll(async () => {
  pool = testPool();
  config = testConfig();
  api = await startApi(config, pool);
});

afterAll(async () => {
  for (const workflowId of started) await api?.workflows.getHandle(workflowId).terminate('audit test done').catch(() => undefined);
  if (alertIds.length > 0) await pool?.query('DELETE FROM alerts WHERE id = ANY($1)', [alertIds]);
  await api?.close();
  await pool?.end();
});

interface Row {
  actor_kind: string;
  actor_id: string;
  role: string | null;
  action: string;
  target: string | null;
  detail: Record<string, unknown>;
  status: number | null;
  outcome: string;
}

async function rowsOf(tenant: string, action?: string): Promise<Row[]> {
  const { rows } = await pool.query<Row>(
    'SELECT actor_kind, actor_id, role, action, target, detail, status, outcome FROM audit_log WHERE tenant = $1 AND ($2::text IS NULL OR action = $2) ORDER BY at, id',
    [tenant, action ?? null],
  );
  return rows;
}

/**
 * Rows are written once the answer is sent (so not always in request order), stamped with the
 * request's arrival: wait until `count` rows of the tenant are there; they list by that time.
 */
async function auditRows(tenant: string, count: number): Promise<Row[]> {
  return eventually(async () => {
    const rows = await rowsOf(tenant);
    return rows.length >= count ? rows : undefined;
  });
}

const keyIdOf = (key: string) => parseApiKey(key)!.keyId;

function send(key: string, method: string, route: string, body?: unknown): Promise<Response> {
  return fetch(`${api.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

test('each audited action through the API leaves exactly one row: actor, role, tenant, action, target; no secrets', async () => {
  const tenant = config.DEFAULT_TENANT;
  const admin = await api.keyFor('admin');
  const operator = await api.keyFor('operator');
  const asAdmin = { kind: 'api-key', id: keyIdOf(admin), role: 'admin' };
  const asOperator = { kind: 'api-key', id: keyIdOf(operator), role: 'operator' };

  const created = await send(admin, 'POST', '/subscribers', { url: 'https://hooks.example.com/t/secret-path-token', providers: ['stripe'] });
  expect(created.status).toBe(201);
  const subscriber = (await created.json()) as { id: string; signingSecret: string };
  expect((await send(admin, 'PATCH', `/subscribers/${subscriber.id}`, { eventTypes: ['payment_intent.*'] })).status).toBe(200);
  expect((await send(operator, 'POST', `/subscribers/${subscriber.id}/replay?since=${encodeURIComponent(new Date().toISOString())}`)).status).toBe(202);

  // A failed event in the ledger, retried (its new run waits: no worker).
  const eventId = `evt_audit_${randomUUID().slice(0, 8)}`;
  const eventWorkflow = `webhook:${tenant}:stripe:${eventId}`;
  await pool.query(
    `INSERT INTO webhook_events (tenant, provider, event_id, event_type, workflow_id, status, payload, received_at, started_at)
     VALUES ($1, 'stripe', $2, 'payment_intent.succeeded', $3, 'failed', '{}', now(), now())`,
    [tenant, eventId, eventWorkflow],
  );
  started.push(eventWorkflow);
  expect((await send(operator, 'POST', `/webhooks/events/${eventWorkflow}/retry`)).status).toBe(202);

  // A dead-lettered delivery, replayed.
  const deliveryId = deliveryWorkflowId(subscriber.id, 'stripe', eventId);
  await pool.query(
    `INSERT INTO deliveries (id, tenant, subscriber_id, provider, event_id, event_type, status) VALUES ($1, $2, $3, 'stripe', $4, 'payment_intent.succeeded', 'dead_lettered')`,
    [deliveryId, tenant, subscriber.id, eventId],
  );
  started.push(deliveryId);
  expect((await send(operator, 'POST', `/deliveries/${encodeURIComponent(deliveryId)}/replay`)).status).toBe(202);

  // A firing alert whose workflow is running (any workflow takes the signal).
  const alertId = `alert:audit-test:${randomUUID().slice(0, 8)}`;
  const alertRun = await api.workflows.start('auditTestIdle', { taskQueue: config.TEMPORAL_TASK_QUEUE, workflowId: alertId });
  started.push(alertId);
  alertIds.push(alertId);
  await pool.query(
    `INSERT INTO alerts (id, run_id, rule, fingerprint, severity, summary, state, started_at) VALUES ($1, $2, 'audit-test', 'x', 'low', 'audit test', 'firing', now())`,
    [alertId, alertRun.firstExecutionRunId],
  );
  expect((await send(operator, 'POST', `/alerts/${encodeURIComponent(alertId)}/ack`, { by: 'oncall-ann' })).status).toBe(202);

  expect((await send(admin, 'DELETE', '/cache?prefix=stripe:')).status).toBe(200);
  const keyAnswer = await send(admin, 'POST', '/api-keys', { role: 'service', name: 'audited' });
  expect(keyAnswer.status).toBe(201);
  const newKey = (await keyAnswer.json()) as { keyId: string; key: string };
  expect((await send(admin, 'DELETE', `/api-keys/${newKey.keyId}`)).status).toBe(204);
  expect((await send(admin, 'DELETE', `/subscribers/${subscriber.id}`)).status).toBe(204);

  const rows = await auditRows(tenant, 10);
  const summary = rows.map((r) => ({ actor: { kind: r.actor_kind, id: r.actor_id, role: r.role }, action: r.action, target: r.target, status: r.status, outcome: r.outcome }));
  expect(summary).toEqual([
    { actor: asAdmin, action: 'subscriber.create', target: subscriber.id, status: 201, outcome: 'done' },
    { actor: asAdmin, action: 'subscriber.update', target: subscriber.id, status: 200, outcome: 'done' },
    { actor: asOperator, action: 'subscriber.replay', target: subscriber.id, status: 202, outcome: 'done' },
    { actor: asOperator, action: 'event.retry', target: eventWorkflow, status: 202, outcome: 'done' },
    { actor: asOperator, action: 'delivery.replay', target: deliveryId, status: 202, outcome: 'done' },
    { actor: asOperator, action: 'alert.ack', target: alertId, status: 202, outcome: 'done' },
    { actor: asAdmin, action: 'cache.invalidate', target: `${tenant}:stripe:`, status: 200, outcome: 'done' },
    { actor: asAdmin, action: 'key.create', target: newKey.keyId, status: 201, outcome: 'done' },
    { actor: asAdmin, action: 'key.revoke', target: newKey.keyId, status: 204, outcome: 'done' },
    { actor: asAdmin, action: 'subscriber.delete', target: subscriber.id, status: 204, outcome: 'done' },
  ]);
  expect(rows.find((r) => r.action === 'subscriber.create')!.detail).toEqual({ host: 'hooks.example.com', providers: ['stripe'], eventTypes: [] });
  expect(rows.find((r) => r.action === 'subscriber.update')!.detail).toEqual({ changed: ['eventTypes'] });
  expect(rows.find((r) => r.action === 'alert.ack')!.detail).toEqual({ by: 'oncall-ann' });
  const stored = JSON.stringify(rows);
  for (const secret of [subscriber.signingSecret, newKey.key, parseApiKey(newKey.key)!.secret, 'secret-path-token', admin, operator]) expect(stored).not.toContain(secret);

  // GET /audit: the same rows, newest first, filtered by action and time.
  const listed = await send(admin, 'GET', '/audit');
  expect(listed.status).toBe(200);
  const { entries } = (await listed.json()) as { entries: Array<{ action: string; target: string | null; tenant: string; actor: { kind: string; id: string }; role: string; outcome: string }> };
  expect(entries.map((e) => e.action)).toEqual(summary.map((r) => r.action).reverse());
  expect(entries[0]).toMatchObject({ tenant, actor: { kind: 'api-key', id: keyIdOf(admin) }, role: 'admin', action: 'subscriber.delete', outcome: 'done' });
  const keyCreates = (await (await send(admin, 'GET', '/audit?action=key.create')).json()) as { entries: Array<{ target: string }> };
  expect(keyCreates.entries.map((e) => e.target)).toEqual([newKey.keyId]);
  const future = encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString());
  expect(((await (await send(admin, 'GET', `/audit?from=${future}`)).json()) as { entries: unknown[] }).entries).toEqual([]);
  expect((await send(admin, 'GET', '/audit?action=drop.table')).status).toBe(400);
  expect((await send(admin, 'GET', '/audit?limit=0')).status).toBe(400);
});

test('a failed or refused action is recorded with its status, never as done', async () => {
  const tenant = `t${randomUUID().slice(0, 8)}`;
  const operator = await api.keyFor('operator', tenant);
  const admin = await api.keyFor('admin', tenant);
  expect((await send(operator, 'POST', `/webhooks/events/webhook:${tenant}:stripe:evt_none/retry`)).status).toBe(404);
  expect((await send(operator, 'DELETE', '/subscribers/sub_x')).status).toBe(403);
  expect((await send(admin, 'POST', '/subscribers', { url: 'not a url' })).status).toBe(400);
  const rows = await auditRows(tenant, 3);
  expect(rows.map((r) => [r.action, r.role, r.target, r.status, r.outcome])).toEqual([
    ['event.retry', 'operator', `webhook:${tenant}:stripe:evt_none`, 404, 'failed'],
    ['subscriber.delete', 'operator', 'sub_x', 403, 'denied'],
    ['subscriber.create', 'admin', null, 400, 'failed'],
  ]);
  // Reads are not audited.
  expect((await send(admin, 'GET', '/subscribers')).status).toBe(200);
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(await rowsOf(tenant)).toHaveLength(3);
});

test('GET /audit: admins only, each of its own tenant', async () => {
  const tenant = `t${randomUUID().slice(0, 8)}`;
  const admin = await api.keyFor('admin', tenant);
  expect((await send(admin, 'DELETE', '/cache?prefix=mine')).status).toBe(200);
  await auditRows(tenant, 1);
  for (const role of ['operator', 'service'] as const) expect((await send(await api.keyFor(role, tenant), 'GET', '/audit')).status).toBe(403);

  const otherTenant = `t${randomUUID().slice(0, 8)}`;
  const otherAdmin = await api.keyFor('admin', otherTenant);
  const theirs = (await (await send(otherAdmin, 'GET', '/audit')).json()) as { entries: unknown[] };
  expect(theirs.entries).toEqual([]);
  expect((await send(otherAdmin, 'GET', `/tenants/${tenant}/audit`)).status).toBe(404);
  const mine = (await (await send(admin, 'GET', `/tenants/${tenant}/audit`)).json()) as { entries: Array<{ target: string }> };
  expect(mine.entries.map((e) => e.target)).toEqual([`${tenant}:mine`]);
});

test('the database refuses UPDATE, DELETE and TRUNCATE on audit_log', async () => {
  const tenant = `t${randomUUID().slice(0, 8)}`;
  expect((await send(await api.keyFor('admin', tenant), 'DELETE', '/cache?prefix=x')).status).toBe(200);
  await auditRows(tenant, 1);
  await expect(pool.query(`UPDATE audit_log SET outcome = 'failed' WHERE tenant = $1`, [tenant])).rejects.toThrow(/append-only: UPDATE refused/);
  await expect(pool.query('DELETE FROM audit_log WHERE tenant = $1', [tenant])).rejects.toThrow(/append-only: DELETE refused/);
  await expect(pool.query('TRUNCATE audit_log')).rejects.toThrow(/append-only: TRUNCATE refused/);
  expect(await rowsOf(tenant)).toHaveLength(1);
});

test('keys created and revoked by the CLI straight in PostgreSQL are recorded as actor cli', async () => {
  const cliEntry = path.join(projectRoot, 'dist', 'cli', 'switchyard.js');
  if (!existsSync(cliEntry)) throw new Error(`${cliEntry} is missing: run npm run build (npm test's set-up builds dist/)`);
  const tenant = `t${randomUUID().slice(0, 8)}`;
  const run = async (args: string[]) =>
    (await promisify(execFile)(process.execPath, [cliEntry, ...args], { env: { PATH: process.env.PATH, DATABASE_URL: process.env.DATABASE_URL, DEFAULT_TENANT: tenant }, timeout: 30_000 })).stdout;
  const created = JSON.parse(await run(['keys', 'create', '--role', 'service', '--name', 'from cli', '--json'])) as { keyId: string; key: string };
  await run(['keys', 'revoke', created.keyId]);
  const rows = await rowsOf(tenant);
  expect(rows.map((r) => [r.actor_kind, r.role, r.action, r.target, r.status, r.outcome])).toEqual([
    ['cli', null, 'key.create', created.keyId, null, 'done'],
    ['cli', null, 'key.revoke', created.keyId, null, 'done'],
  ]);
  expect(rows[0]!.actor_id).not.toBe('');
  expect(rows[0]!.detail).toEqual({ role: 'service', name: 'from cli' });
  expect(JSON.stringify(rows)).not.toContain(parseApiKey(created.key)!.secret);
});
