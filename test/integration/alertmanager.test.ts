/**
 * Alertmanager's receiver on the real Temporal dev server and PostgreSQL: a firing payload raises
 * a Switchyard alert through the alert workflows (listed by GET /alerts, notified on the worker's
 * alert webhook like any other alert), sending it again keeps the one open alert (same run, no
 * second notification), resolved resolves it; severities map, a resolve of an unknown alert does
 * nothing; a missing or wrong credential answers 401, a role without `alerts:raise` 403, a bad
 * payload 400 with the field, and none of those raise anything.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import type { AlertView } from '../../contracts/monitoring';
import { alertmanagerAlert, alertmanagerPayload } from '../support/alertmanager';
import { eventually, startApi, startWorker, testConfig, testPool, type RunningApi, type RunningWorker } from '../support/harness';

/** Unique alert names per run: alerts are system-wide. */
const run = randomUUID().slice(0, 8);
const fingerprint = () => randomBytes(8).toString('hex');

interface AlertJson {
  id: string;
  runId: string;
  rule: string;
  state: string;
  severity: string;
  provider: string | null;
  summary: string;
}
interface Answer {
  alerts: Array<{ id: string; status: string; severity: string; outcome: string }>;
}

let pool: Pool;
let config: Config;
let worker: RunningWorker;
let api: RunningApi;
let sink: Server;
let serviceKey: string;
/** What the worker's alert webhook (ALERT_WEBHOOK_URL) received. */
const notified: Array<{ event: string; alert: AlertView }> = [];

function startSink(): Promise<Server> {
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (chunk: Buffer) => (data += chunk.toString()));
    req.on('end', () => {
      notified.push(JSON.parse(data) as { event: string; alert: AlertView });
      res.writeHead(200).end('ok');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  pool = testPool();
  sink = await startSink();
  config = testConfig();
  worker = await startWorker(config, pool, { env: { ALERT_WEBHOOK_URL: `http://127.0.0.1:${(sink.address() as AddressInfo).port}/alerts` } });
  api = await startApi(config, pool);
  serviceKey = await api.keyFor('service');
});

afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await new Promise((resolve) => sink?.close(resolve));
  await pool?.end();
});

async function post(body: unknown, key: string | null = serviceKey): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${api.url}/alerts/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function alertsListed(state: string): Promise<AlertJson[]> {
  const res = await api.fetch(`/alerts?state=${state}&limit=1000`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { alerts: AlertJson[] }).alerts;
}

async function alertRows(ids: string[]): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM alerts WHERE id = ANY($1)', [ids]);
  return Number(rows[0]!.n);
}

const notificationsOf = (id: string, event: string) => notified.filter((n) => n.alert.id === id && n.event === event);

test('firing raises the alert, a repeat keeps the one open alert, resolved resolves it', async () => {
  const alertname = `ProviderDown_${run}`;
  const fp = fingerprint();
  const id = `alert:alertmanager:${alertname}:${fp}`;
  const firing = alertmanagerPayload({
    alerts: [alertmanagerAlert({ alertname, fingerprint: fp, labels: { provider: 'stripe', severity: 'critical' }, summary: 'stripe is down' })],
  });

  const first = await post(firing);
  expect(first.status).toBe(202);
  expect((first.json as unknown as Answer).alerts).toEqual([{ id, status: 'firing', severity: 'critical', outcome: 'raised' }]);

  // The alert workflow saves itself: GET /alerts lists it, and the worker's channels were told.
  const listed = await eventually(async () => (await alertsListed('firing')).find((a) => a.id === id));
  expect(listed).toMatchObject({ rule: `alertmanager:${alertname}`, severity: 'critical', provider: 'stripe', summary: 'stripe is down', state: 'firing' });
  await eventually(() => Promise.resolve(notificationsOf(id, 'firing').length === 1 ? true : undefined));

  // Alertmanager sends it again (repeat_interval, or a retry): the same open alert, no new run, no second notification.
  const repeat = await post(firing);
  expect(repeat.status).toBe(202);
  expect((repeat.json as unknown as Answer).alerts).toEqual([{ id, status: 'firing', severity: 'critical', outcome: 'already_open' }]);
  const open = (await alertsListed('open')).filter((a) => a.id === id);
  expect(open).toHaveLength(1);
  expect(open[0]!.runId).toBe(listed.runId);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(notificationsOf(id, 'firing')).toHaveLength(1);

  // Resolved: the alert workflow finishes, the row says resolved, the channels are told.
  const resolved = await post(
    alertmanagerPayload({ status: 'resolved', alerts: [alertmanagerAlert({ alertname, fingerprint: fp, status: 'resolved', labels: { provider: 'stripe', severity: 'critical' } })] }),
  );
  expect(resolved.status).toBe(202);
  expect((resolved.json as unknown as Answer).alerts).toEqual([{ id, status: 'resolved', severity: 'critical', outcome: 'resolved' }]);
  const final = (await api.workflows.getHandle(id).result()) as AlertView;
  expect(final).toMatchObject({ state: 'resolved', resolveReason: expect.stringMatching(/^Alertmanager: resolved at /) as unknown });
  await eventually(async () => (await alertsListed('resolved')).find((a) => a.id === id));
  await eventually(() => Promise.resolve(notificationsOf(id, 'resolved').length === 1 ? true : undefined));

  // Resolved again (Alertmanager retried): nothing left to resolve.
  const again = await post(alertmanagerPayload({ status: 'resolved', alerts: [alertmanagerAlert({ alertname, fingerprint: fp, status: 'resolved' })] }));
  expect((again.json as unknown as Answer).alerts[0]!.outcome).toBe('not_open');
});

test('one payload carries several alerts: each its own alert, its severity mapped (unknown → high)', async () => {
  const alerts = [
    { alertname: `HighLatency_${run}`, fingerprint: fingerprint(), labels: { severity: 'warning' } },
    { alertname: `Mystery_${run}`, fingerprint: fingerprint(), labels: { severity: 'bogus' } },
    { alertname: `NoSeverity_${run}`, fingerprint: fingerprint() },
  ];
  const ids = alerts.map((a) => `alert:alertmanager:${a.alertname}:${a.fingerprint}`);
  const answer = await post(alertmanagerPayload({ alerts: alerts.map((a) => alertmanagerAlert(a)) }));
  expect(answer.status).toBe(202);
  expect((answer.json as unknown as Answer).alerts.map((a) => [a.id, a.severity, a.outcome])).toEqual([
    [ids[0], 'medium', 'raised'],
    [ids[1], 'high', 'raised'],
    [ids[2], 'high', 'raised'],
  ]);
  const listed = await eventually(async () => {
    const open = (await alertsListed('open')).filter((a) => ids.includes(a.id));
    return open.length === 3 ? open : undefined;
  });
  expect(Object.fromEntries(listed.map((a) => [a.id, a.severity]))).toEqual({ [ids[0]!]: 'medium', [ids[1]!]: 'high', [ids[2]!]: 'high' });

  // A resolve of an alert Switchyard never had does nothing; the others resolve.
  const unknown = { alertname: `Unknown_${run}`, fingerprint: fingerprint(), status: 'resolved' as const };
  const resolved = await post(alertmanagerPayload({ status: 'resolved', alerts: [...alerts, unknown].map((a) => alertmanagerAlert({ ...a, status: 'resolved' })) }));
  expect((resolved.json as unknown as Answer).alerts.map((a) => a.outcome)).toEqual(['resolved', 'resolved', 'resolved', 'not_open']);
  await eventually(async () => ((await alertsListed('resolved')).filter((a) => ids.includes(a.id)).length === 3 ? true : undefined));
  expect(await alertRows([`alert:alertmanager:${unknown.alertname}:${unknown.fingerprint}`])).toBe(0);
});

test('no, a wrong or a revoked credential answers 401, a role without alerts:raise 403; nothing is raised', async () => {
  const alertname = `Unauthorized_${run}`;
  const fp = fingerprint();
  const body = alertmanagerPayload({ alerts: [alertmanagerAlert({ alertname, fingerprint: fp, labels: { severity: 'critical' } })] });

  const none = await post(body, null);
  expect(none.status).toBe(401);
  expect(none.json).toMatchObject({ error: 'unauthenticated' });
  const wrong = await post(body, `sy_${'0'.repeat(12)}_${'x'.repeat(32)}`);
  expect(wrong.status).toBe(401);
  expect(wrong.json.reason).toMatch(/unknown or revoked/);
  const garbage = await post(body, 'not-a-key');
  expect(garbage.status).toBe(401);
  const operator = await post(body, await api.keyFor('operator'));
  expect(operator.status).toBe(403);
  expect(operator.json.reason).toMatch(/alerts:raise/);

  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(await alertRows([`alert:alertmanager:${alertname}:${fp}`])).toBe(0);
  await expect(api.workflows.getHandle(`alert:alertmanager:${alertname}:${fp}`).describe()).rejects.toThrow();
});

test('a bad payload answers 400 with the reason and the field, and raises nothing', async () => {
  const alertname = `BadPayload_${run}`;
  const fp = fingerprint();
  const alert = alertmanagerAlert({ alertname, fingerprint: fp, labels: { severity: 'critical' } });
  const cases: Array<[unknown, string]> = [
    [alertmanagerPayload({ version: '3', alerts: [alert] }), 'version'],
    [alertmanagerPayload({ alerts: [{ ...alert, fingerprint: 'not hex!' }] }), 'alerts.0.fingerprint'],
    [alertmanagerPayload({ alerts: [{ ...alert, labels: { severity: 'critical' } }] }), 'alerts.0.labels.alertname'],
    [alertmanagerPayload({ alerts: [{ ...alert, status: 'pending' }] }), 'alerts.0.status'],
    [alertmanagerPayload({ alerts: [alert, { ...alert, startsAt: 'yesterday' }] }), 'alerts.1.startsAt'],
    [alertmanagerPayload({ alerts: [] }), 'alerts'],
    [{ alerts: [alert] }, 'receiver'],
  ];
  for (const [body, field] of cases) {
    const res = await post(body);
    expect([field, res.status]).toEqual([field, 400]);
    expect(res.json).toMatchObject({ error: 'invalid_request', reason: expect.stringMatching(/Alertmanager/) as unknown });
    expect(res.json.fields).toHaveProperty([field]);
  }
  const notJson = await post('{"version": "4", ');
  expect(notJson.status).toBe(400);

  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(await alertRows([`alert:alertmanager:${alertname}:${fp}`])).toBe(0);
  expect(notified.filter((n) => n.alert.rule === `alertmanager:${alertname}`)).toEqual([]);
});
