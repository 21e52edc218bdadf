/**
 * The operator CLI as a user runs it: the compiled `node dist/cli/switchyard.js` (built by
 * `npm test`'s set-up) as a child process against a running test API and worker. A signed test
 * webhook for every signable source is accepted and shows up in `events show`; `keys create`
 * makes a working key straight in PostgreSQL; `webhook-secrets` stores, lists, expires and removes
 * signing secrets (a supplied one read from stdin) and `audit` lists those actions; every list
 * (calls, bookings, batch items, subscribers, SLA, circuits and the others) prints a header row; a bad argument exits 2
 * before any request; `secrets` stores, lists and deletes a provider credential; the npm scripts
 * `api-key`, `secrets` and `send-stripe-event` run the same commands; `--json` parses; exit codes
 * 1, 2 and 3 mean what they say.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Pool } from 'pg';
import { SwitchyardClient } from '../../client';
import type { Config } from '../../lib/config/config';
import { newKeyringEntry } from '../../lib/security/keyring';
import { loadRegistry } from '../../lib/config/registry';
import { projectRoot } from '../../lib/config/paths';
import { eventually, startApi, startWorker, testConfig, testPool, TEST_STRIPE_SECRET, type RunningApi, type RunningWorker } from '../support/harness';

const cliEntry = path.join(projectRoot, 'dist', 'cli', 'switchyard.js');

/** Secrets of every signable source, for the default tenant, as the API and the CLI both read them. */
const secrets = {
  STRIPE_WEBHOOK_SECRETS: TEST_STRIPE_SECRET,
  WEBHOOK_SECRETS_TWILIO: 'twilio-auth-token-cli-test',
  WEBHOOK_SECRETS_STANDARD: `whsec_${Buffer.from('standard-webhooks-cli-test-secret').toString('base64')}`,
  WEBHOOK_SECRETS_GITHUB: 'github-cli-test-secret',
  WEBHOOK_SECRETS_GOOGLE_CALENDAR: 'google-channel-token-cli-test',
  WEBHOOK_SECRETS_GENERIC_EXAMPLE: 'generic-example-cli-test-secret',
  WEBHOOK_SECRETS_GENERIC_SHOPIFY: 'generic-shopify-cli-test-secret',
};

let pool: Pool;
let config: Config;
let worker: RunningWorker;
let api: RunningApi;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI; `input` is written to its stdin, which is then closed. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}, input = ''): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [cliEntry, ...args],
      {
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: process.env.DATABASE_URL,
          DEFAULT_TENANT: config.DEFAULT_TENANT,
          SWITCHYARD_URL: api.url,
          ...secrets,
          ...env,
        },
        timeout: 30_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input);
  });
}

/** Runs `npm run <script> -- <args>` in the project, as an operator would; env as cli()'s. */
function npmRun(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['run', '--silent', script, '--', ...args],
      {
        cwd: projectRoot,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          npm_config_update_notifier: 'false',
          DATABASE_URL: process.env.DATABASE_URL,
          DEFAULT_TENANT: config.DEFAULT_TENANT,
          SWITCHYARD_URL: api.url,
          ...secrets,
          ...env,
        },
        timeout: 30_000,
      },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

/** The first line of a list's table: its header row. */
const headerOf = (run: Run) => run.stdout.split('\n')[0]!.split(/ {2,}/);

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  if (!existsSync(cliEntry)) throw new Error(`${cliEntry} is missing: run npm run build (npm test's set-up builds dist/)`);
  pool = testPool();
  config = testConfig();
  worker = await startWorker(config, pool);
  api = await startApi(config, pool, loadRegistry(), { secretsEnv: secrets }); // the whole registry: circuits lists every provider
});

afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await pool?.end();
});

test('keys create (no credential: straight to PostgreSQL) prints a key that works; --json parses', async () => {
  const plain = await cli(['keys', 'create', '--role', 'admin', '--name', 'cli first admin']);
  expect(plain).toMatchObject({ code: 0 });
  const key = plain.stdout.trim();
  expect(key).toMatch(/^sy_[a-z0-9]{12}_[A-Za-z0-9_-]{32}$/);
  expect(plain.stderr).toContain('shown once');
  const admin = new SwitchyardClient({ baseUrl: api.url, apiKey: key });
  expect((await admin.listApiKeys()).keys.map((k) => k.name)).toContain('cli first admin');

  const json = await cli(['keys', 'create', '--role', 'service', '--name', 'cli json', '--json']);
  expect(json.code).toBe(0);
  const created = JSON.parse(json.stdout) as { key: string; keyId: string; tenant: string; role: string };
  expect(created).toMatchObject({ tenant: config.DEFAULT_TENANT, role: 'service' });
  expect(created.key).toMatch(/^sy_/);

  // With a credential the same command goes through the API; list and revoke too.
  const listed = await cli(['keys', 'list', '--json', '--key', key]);
  expect((JSON.parse(listed.stdout) as { keys: Array<{ keyId: string }> }).keys.map((k) => k.keyId)).toContain(created.keyId);
  expect((await cli(['keys', 'revoke', created.keyId, '--key', key])).code).toBe(0);
  await expect(new SwitchyardClient({ baseUrl: api.url, apiKey: created.key }).listEvents()).rejects.toMatchObject({ status: 401 });
});

test('send-webhook stripe is accepted (202) and the event shows up in events show', async () => {
  const sent = await cli(['send-webhook', 'stripe', '--type', 'payment_intent.succeeded', '--json']);
  expect(sent.stderr).toBe('');
  expect(sent.code).toBe(0);
  const answer = JSON.parse(sent.stdout) as { status: number; workflowId: string };
  expect(answer.status).toBe(202);
  expect(answer.workflowId).toMatch(new RegExp(`^webhook:${config.DEFAULT_TENANT}:stripe:evt_`));

  const key = await api.keyFor('operator');
  const shown = await eventually(async () => {
    const run = await cli(['events', 'show', answer.workflowId, '--json', '--key', key]);
    const view = JSON.parse(run.stdout) as { workflowId: string; status: string | null };
    return run.code === 0 && view.status === 'completed' ? view : undefined;
  }, 30_000);
  expect(shown).toMatchObject({ workflowId: answer.workflowId, eventType: 'payment_intent.succeeded' });

  const listed = await cli(['events', 'list', '--provider', 'stripe', '--key', key]);
  expect(listed.code).toBe(0);
  expect(listed.stdout).toContain(answer.workflowId);
});

test.each(['twilio', 'standard', 'github', 'google-calendar', 'generic:example', 'shopify'])('send-webhook %s is signed as the API verifies it', async (source) => {
  const sent = await cli(['send-webhook', source, '--json']);
  expect(sent.stderr).toBe('');
  expect(sent.code).toBe(0);
  const answer = JSON.parse(sent.stdout) as { status: number; workflowId: string };
  expect(answer.status).toBe(202);
  expect(answer.workflowId).toMatch(/^webhook:/);
});

test('exit codes: 2 bad usage, 3 API unreachable, 1 API error naming status and reason', async () => {
  const missingArgument = await cli(['events', 'show']);
  expect(missingArgument.code).toBe(2);
  expect(missingArgument.stderr).toContain("missing required argument 'workflowId'");
  expect((await cli(['no-such-command'])).code).toBe(2);
  expect((await cli(['send-webhook', 'no-such-source'])).code).toBe(2);
  expect((await cli(['keys', 'create', '--role', 'root', '--name', 'x'])).code).toBe(2);

  const unreachable = await cli(['health', '--url', `http://127.0.0.1:${await closedPort()}`, '--key', 'sy_x']);
  expect(unreachable.code).toBe(3);
  expect(unreachable.stderr).toContain('cannot reach the Switchyard API');

  const key = await api.keyFor('operator');
  const missing = await cli(['calls', 'show', `call:${config.DEFAULT_TENANT}:stripe:nope`, '--key', key]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('404 not_found');

  const json = await cli(['calls', 'show', `call:${config.DEFAULT_TENANT}:stripe:nope`, '--key', key, '--json']);
  expect(json.code).toBe(1);
  expect(JSON.parse(json.stderr)).toMatchObject({ status: 404, code: 'not_found' });

  const budgets = await cli(['budgets', '--json', '--key', key]);
  expect(budgets.code).toBe(0);
  expect(Array.isArray((JSON.parse(budgets.stdout) as { budgets: unknown }).budgets)).toBe(true);
});

test('webhook-secrets add (generated, or supplied on stdin), list, expire, remove; audit lists it; admins only', async () => {
  const admin = await api.keyFor('admin');
  const generated = await cli(['webhook-secrets', 'add', 'standard', '--generate', '--key', admin]);
  expect(generated.code).toBe(0);
  const standardSecret = generated.stdout.trim();
  expect(standardSecret).toMatch(/^whsec_/);
  expect(generated.stderr).toContain('shown once');

  const suppliedValue = 'gh-cli-supplied-secret-1';
  const supplied = await cli(['webhook-secrets', 'add', 'github', '--json', '--key', admin], {}, `${suppliedValue}\n`);
  expect(supplied.code).toBe(0);
  const github = JSON.parse(supplied.stdout) as { id: string; source: string; fingerprint: string };
  expect(github).toMatchObject({ source: 'github' });
  expect(github).not.toHaveProperty('secret');
  expect(supplied.stdout).not.toContain(suppliedValue);

  // Bad input: exit 2 and nothing stored.
  const empty = await cli(['webhook-secrets', 'add', 'github', '--key', admin]);
  expect(empty.code).toBe(2);
  expect(empty.stderr).toContain('no secret on stdin');
  expect((await cli(['webhook-secrets', 'expire', github.id, '--not-after', 'soon', '--key', admin])).code).toBe(2);
  const refused = await cli(['webhook-secrets', 'add', 'stripe', '--generate', '--key', admin]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('400 invalid_request');

  const listed = await cli(['webhook-secrets', 'list', '--json', '--key', admin]);
  expect(listed.code).toBe(0);
  const list = JSON.parse(listed.stdout) as { webhookSecrets: Array<{ id: string; source: string }> };
  expect(list.webhookSecrets.map((w) => w.source).sort()).toEqual(['github', 'standard']);
  expect(listed.stdout).not.toContain(suppliedValue);
  expect(listed.stdout).not.toContain(standardSecret);

  const expired = await cli(['webhook-secrets', 'expire', github.id, '--not-after', '2000-01-01T00:00:00Z', '--json', '--key', admin]);
  expect(expired.code).toBe(0);
  expect(JSON.parse(expired.stdout)).toMatchObject({ id: github.id, notAfter: '2000-01-01T00:00:00.000Z' });
  const reopened = await cli(['webhook-secrets', 'expire', github.id, '--not-after', 'never', '--json', '--key', admin]);
  expect(reopened).toMatchObject({ code: 0, stderr: '' });
  expect(JSON.parse(reopened.stdout)).toMatchObject({ id: github.id, notAfter: null });

  expect((await cli(['webhook-secrets', 'remove', github.id, '--key', admin])).code).toBe(0);
  const again = await cli(['webhook-secrets', 'remove', github.id, '--key', admin]);
  expect(again.code).toBe(1);
  expect(again.stderr).toContain('404 not_found');

  // Audit rows are written once each answer is sent: the two stored and the refused one.
  const audit = await eventually(async () => {
    const run = await cli(['audit', '--action', 'webhook-secret.create', '--json', '--key', admin]);
    return run.code === 0 && (JSON.parse(run.stdout) as { entries: unknown[] }).entries.length >= 3 ? run : undefined;
  }, 10_000);
  const entries = (JSON.parse(audit.stdout) as { entries: Array<{ action: string; outcome: string }> }).entries;
  expect(entries.map((e) => [e.action, e.outcome]).sort()).toEqual([
    ['webhook-secret.create', 'done'],
    ['webhook-secret.create', 'done'],
    ['webhook-secret.create', 'failed'],
  ]);
  expect(audit.stdout).not.toContain(suppliedValue);
  expect(audit.stdout).not.toContain(standardSecret);
  const table = await eventually(async () => {
    const run = await cli(['audit', '--key', admin]);
    return run.stdout.includes('webhook-secret.delete') ? run : undefined;
  }, 10_000);
  expect(table.code).toBe(0);

  const operator = await api.keyFor('operator');
  for (const args of [['audit'], ['webhook-secrets', 'list']]) {
    const denied = await cli([...args, '--key', operator]);
    expect([args.join(' '), denied.code]).toEqual([args.join(' '), 1]);
    expect(denied.stderr).toContain('403');
  }
});

test('calls list, subscribers list, sla and circuits print a header row, then their rows; --json answers the API body', async () => {
  const admin = await api.keyFor('admin');
  // A subscriber no event matches, so that it is listed and never delivered to.
  const subscriber = await new SwitchyardClient({ baseUrl: api.url, apiKey: admin }).createSubscriber({ url: 'http://127.0.0.1:9/cli-hook', eventTypes: ['cli.never'] });

  const subscribers = await cli(['subscribers', 'list', '--key', admin]);
  expect(subscribers).toMatchObject({ code: 0, stderr: '' });
  expect(headerOf(subscribers)).toEqual(['id', 'url', 'providers', 'event types', 'state']);
  expect(subscribers.stdout).toMatch(new RegExp(`^${subscriber.id} +http://127\\.0\\.0\\.1:9/cli-hook +all +cli\\.never +enabled$`, 'm'));
  expect(subscribers.stdout).not.toContain(subscriber.signingSecret);

  const circuits = await cli(['circuits', '--key', admin]);
  expect(circuits).toMatchObject({ code: 0, stderr: '' });
  expect(headerOf(circuits)).toEqual(['provider', 'state', 'failures', 'open until']);
  expect(circuits.stdout).toMatch(/^stripe +closed +0 +-$/m);

  const sla = await cli(['sla', '--window', 'hourly', '--key', admin]);
  expect(sla).toMatchObject({ code: 0, stderr: '' });
  expect(headerOf(sla)).toEqual(['provider', 'window', 'period end', 'availability', 'p95', 'error rate', 'compliant']);
  expect(sla.stdout).toMatch(/^\d+ of \d+ compliant(, \d+ without data)?$/m);

  const calls = await cli(['calls', 'list', '--status', 'completed', '--limit', '10', '--key', admin]);
  expect(calls).toMatchObject({ code: 0, stderr: '' });
  expect(headerOf(calls)).toEqual(['workflow id', 'provider', 'status', 'started', 'closed']);

  for (const args of [['subscribers', 'list'], ['circuits'], ['sla'], ['calls', 'list']]) {
    const json = await cli([...args, '--json', '--key', admin]);
    expect([args.join(' '), json.code]).toEqual([args.join(' '), 0]);
    expect(Object.keys(JSON.parse(json.stdout) as object).sort()).toEqual(
      { subscribers: ['subscribers'], circuits: ['circuits'], sla: ['reports', 'summary', 'total'], calls: ['calls', 'total'] }[args[0]!],
    );
  }
});

test("bookings list and batches list print a header row, then the tenant's bookings and sent or failed items; --json answers the API body", async () => {
  const admin = await api.keyFor('admin');
  const client = new SwitchyardClient({ baseUrl: api.url, apiKey: admin });
  const booked = await client.book(
    { amount: 900, currency: 'usd', calendarId: 'primary', summary: 'CLI list', start: '2030-01-01T10:00:00Z', end: '2030-01-01T11:00:00Z', phone: '+14155550100', email: 'cli@example.com' },
    { idempotencyKey: `cli-${randomUUID()}`, wait: 0 },
  );
  // A sent item as the batch workflow records it (test/integration/client.test.ts lists one the batch really sent).
  const item = { itemId: `sendgrid.sendMail.high.cli-${randomUUID()}` };
  await pool.query(
    `INSERT INTO batch_items (item_id, tenant, provider, operation, priority, status, result, error, batch_size, batch_workflow_id)
     VALUES ($1, $2, 'sendgrid', 'sendMail', 'high', 'sent', '{}', NULL, 3, $3)`,
    [item.itemId, config.DEFAULT_TENANT, `batch:${config.DEFAULT_TENANT}:sendgrid:sendMail:high`],
  );

  const bookings = await eventually(async () => {
    const run = await cli(['bookings', 'list', '--from', new Date(Date.now() - 600_000).toISOString(), '--key', admin]);
    return run.stdout.includes(booked.workflowId) ? run : undefined;
  }, 15_000);
  expect(bookings).toMatchObject({ code: 0, stderr: '' });
  expect(headerOf(bookings)).toEqual(['workflow id', 'status', 'started', 'closed']);
  expect(bookings.stdout).toMatch(new RegExp(`^${booked.workflowId} +[A-Z_]+ +\\S+ +\\S+$`, 'm'));

  const batches = await cli(['batches', 'list', '--provider', 'sendgrid', '--operation', 'sendMail', '--status', 'sent', '--key', admin]);
  expect(batches).toMatchObject({ code: 0, stderr: '' });
  expect(headerOf(batches)).toEqual(['item id', 'provider', 'operation', 'status', 'batch size', 'sent']);
  expect(batches.stdout).toMatch(new RegExp(`^${item.itemId.replace(/\./g, '\\.')} +sendgrid +sendMail +sent +3 +\\d{4}-`, 'm'));
  const failed = await cli(['batches', 'list', '--status', 'failed', '--key', admin]);
  expect(failed.stdout).not.toContain(item.itemId);

  for (const [args, keys] of [[['bookings', 'list'], ['bookings', 'total']], [['batches', 'list'], ['items']]] as const) {
    const json = await cli([...args, '--json', '--key', admin]);
    expect([args.join(' '), json.code]).toEqual([args.join(' '), 0]);
    expect(Object.keys(JSON.parse(json.stdout) as object)).toEqual(keys);
  }
});

test('every other list prints a header row too, also when it is empty', async () => {
  const admin = await api.keyFor('admin');
  const headers: Array<[string[], string[]]> = [
    [['events', 'list'], ['workflow id', 'status', 'type', 'received']],
    [['deliveries', 'list', '--status', 'dead_lettered'], ['id', 'status', 'attempts']],
    [['alerts', 'list', '--state', 'firing'], ['id', 'state', 'severity', 'provider', 'summary']],
    [['keys', 'list'], ['key', 'tenant', 'role', 'name', 'state']],
    [['webhook-secrets', 'list', '--source', 'twilio'], ['id', 'source', 'fingerprint', 'created', 'state']],
    [['audit', '--limit', '5'], ['at', 'actor', 'action', 'target', 'outcome']],
    [['health'], ['provider', 'status', 'score', 'circuit']],
    [['budgets'], ['provider', 'today', 'this month']],
    [['bookings', 'list', '--from', '2999-01-01T00:00:00Z'], ['workflow id', 'status', 'started', 'closed']],
    [['batches', 'list', '--from', '2999-01-01T00:00:00Z'], ['item id', 'provider', 'operation', 'status', 'batch size', 'sent']],
  ];
  for (const [args, header] of headers) {
    const run = await cli([...args, '--key', admin]);
    expect([args.join(' '), run.code, headerOf(run)]).toEqual([args.join(' '), 0, header]);
  }
  const none = await cli(['webhook-secrets', 'list', '--source', 'twilio', '--key', admin]);
  expect(none.stdout).toMatch(/^id +source +fingerprint +created +state\n\(none\)\n$/);
});

test('a bad argument exits 2 naming it, before any request or database write', async () => {
  // Nothing answers at this URL or database: a request would exit 3, a database use 1.
  const nowhere = { SWITCHYARD_URL: `http://127.0.0.1:${await closedPort()}`, SWITCHYARD_API_KEY: 'sy_x', DATABASE_URL: `postgres://postgres@127.0.0.1:${await closedPort()}/none` };
  const cases: Array<[string[], string]> = [
    [['calls', 'list', '--status', 'lost'], '--status'],
    [['calls', 'list', '--limit', '0'], '--limit'],
    [['calls', 'list', '--from', 'yesterday'], '--from'],
    [['sla', '--window', 'weekly'], '--window'],
    [['bookings', 'list', '--status', 'lost'], '--status'],
    [['bookings', 'list', '--limit', '501'], '--limit'],
    [['batches', 'list', '--status', 'queued'], '--status'],
    [['batches', 'list', '--from', 'yesterday'], '--from'],
    [['batches', 'list', '--operation', 'send mail'], '--operation'],
    [['sla', '--limit', '1001'], '--limit'],
    [['events', 'list', '--status', 'done'], '--status'],
    [['deliveries', 'list', '--status', 'gone'], '--status'],
    [['alerts', 'list', '--state', 'loud'], '--state'],
    [['audit', '--action', 'key.steal'], '--action'],
    [['calls', 'start', 'stripe', 'createPaymentIntent', '--idempotency-key', 'a/b'], '--idempotency-key'],
    [['calls', 'start', 'stripe', 'createPaymentIntent', '--idempotency-key', 'k', '--priority', 'urgent'], '--priority'],
    [['calls', 'start', 'stripe', 'createPaymentIntent', '--idempotency-key', 'k', '--params', '[1]'], '--params'],
    [['calls', 'wait', 'call:x:stripe:k', '--timeout', 'soon'], '--timeout'],
    [['webhook-secrets', 'add', 'Not A Source', '--generate'], '<source>'],
    [['webhook-secrets', 'expire', 'whs_x', '--not-after', '2027-01-01'], '--not-after'],
    [['keys', 'create', '--role', 'root', '--name', 'x'], '--role'],
    [['keys', 'create', '--db', '--role', 'admin', '--name', ' '], '--name'],
    [['secrets', 'rotate-master', '--batch-size', '0'], '--batch-size'],
    [['subscribers', 'list', 'extra'], 'too many arguments'],
  ];
  for (const [args, named] of cases) {
    const run = await cli(args, nowhere);
    expect([args.join(' '), run.code, run.stderr.includes(named)]).toEqual([args.join(' '), 2, true]);
  }
});

test('secrets: a provider credential set from stdin, listed under a header (never its value), deleted; exit 1 when nothing to delete', async () => {
  const env = { SECRETS_MASTER_KEYS: newKeyringEntry('cli-test') };
  const value = 'yandex-key-from-the-cli';
  const set = await cli(['secrets', 'credentials', 'set', 'yandex-maps', 'apiKey'], env, `${value}\n`);
  expect(set).toMatchObject({ code: 0, stderr: '' });
  expect(set.stdout).toContain('stored yandex-maps apiKey (encrypted under master key "cli-test")');
  try {
    const listed = await cli(['secrets', 'credentials', 'list'], env);
    expect(listed.code).toBe(0);
    expect(headerOf(listed)).toEqual(['provider', 'field', 'master key', 'updated']);
    expect(listed.stdout).toMatch(/^yandex-maps +apiKey +cli-test /m);
    expect(listed.stdout).not.toContain(value);
    expect((await cli(['secrets', 'credentials', 'set', 'yandex-maps', 'nope'], env, value)).code).toBe(2);
  } finally {
    expect((await cli(['secrets', 'credentials', 'delete', 'yandex-maps', 'apiKey'], env)).code).toBe(0);
  }
  const again = await cli(['secrets', 'credentials', 'delete', 'yandex-maps', 'apiKey'], env);
  expect(again.code).toBe(1);
  expect(again.stdout).toContain('no stored yandex-maps apiKey');
  const status = await cli(['secrets', 'status', '--json'], env);
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout)).toMatchObject({ currentKeyId: 'cli-test' });
});

test('the npm scripts api-key, secrets and send-stripe-event run the CLI commands with their arguments', async () => {
  const tenant = `t${config.DEFAULT_TENANT.slice(1, 7)}npm`;
  // api-key always goes to PostgreSQL, even with SWITCHYARD_API_KEY set.
  const created = await npmRun('api-key', ['create', '--tenant', tenant, '--role', 'operator', '--name', 'npm alias', '--json'], { SWITCHYARD_API_KEY: 'sy_not_used' });
  expect(created.code).toBe(0);
  const key = JSON.parse(created.stdout) as { key: string; keyId: string; tenant: string; role: string };
  expect(key).toMatchObject({ tenant, role: 'operator' });
  expect((await new SwitchyardClient({ baseUrl: api.url, apiKey: key.key, tenant }).listEvents()).events).toEqual([]);
  const listed = await npmRun('api-key', ['list', '--tenant', tenant]);
  expect(headerOf(listed)).toEqual(['key', 'tenant', 'role', 'name', 'state']);
  expect(listed.stdout).toMatch(new RegExp(`^${key.keyId} +${tenant} +operator +npm alias +live$`, 'm'));
  expect((await npmRun('api-key', ['revoke', key.keyId])).stdout).toContain(`revoked ${key.keyId}`);
  expect((await npmRun('api-key', ['create', '--role', 'root', '--name', 'x'])).code).toBe(2);

  const secretsList = await npmRun('secrets', ['credentials', 'list']);
  expect(secretsList.code).toBe(0);
  expect(headerOf(secretsList)).toEqual(['provider', 'field', 'master key', 'updated']);
  expect((await npmRun('secrets', ['rotate-master', '--batch-size', 'many'])).code).toBe(2);

  const sent = await npmRun('send-stripe-event', ['--type', 'payment_intent.succeeded', '--json']);
  expect(sent).toMatchObject({ code: 0, stderr: '' });
  expect(JSON.parse(sent.stdout)).toMatchObject({ status: 202, source: 'stripe', eventType: 'payment_intent.succeeded' });
});
