/**
 * The operator CLI as a user runs it: the compiled `node dist/cli/switchyard.js` (built by
 * `npm test`'s set-up) as a child process against a running test API and worker. A signed test
 * webhook for every signable source is accepted and shows up in `events show`; `keys create`
 * makes a working key straight in PostgreSQL; `webhook-secrets` stores, lists, expires and removes
 * signing secrets (a supplied one read from stdin) and `audit` lists those actions; `--json`
 * parses; exit codes 1, 2 and 3 mean what they say.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Pool } from 'pg';
import { SwitchyardClient } from '../../client';
import type { Config } from '../../lib/config';
import { projectRoot } from '../../lib/paths';
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
  api = await startApi(config, pool, {}, { secretsEnv: secrets });
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
