/**
 * Secrets at rest on the real PostgreSQL and Temporal server: subscriber signing secrets, webhook
 * signing secrets and provider credentials are stored encrypted, shown once, never returned or
 * audited afterwards, and still used: deliveries are signed with them, webhooks verify with them,
 * provider calls authenticate with them. Rotating the master key re-wraps every row while an API
 * serves; rows under an unknown key or altered are reported by id and left unchanged.
 * The rotation runs in a database of its own: it re-wraps every row it finds, and the shared test
 * database belongs to every test file running meanwhile.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Client, type Pool } from 'pg';
import { Webhook } from 'standardwebhooks';
import * as schemas from '../../api/schemas';
import { createStoredWebhookSecrets } from '../../api/stored-webhook-secrets';
import { migrate } from '../../db/migrate';
import type { Config } from '../../lib/config/config';
import { createPool } from '../../lib/data/db';
import { newKeyringEntry, parseKeyring, type Keyring } from '../../lib/security/keyring';
import { sealSecret } from '../../lib/security/secret-box';
import {
  addWebhookSecret,
  countByMasterKey,
  fingerprintOf,
  openProviderCredentials,
  openSubscriberSecret,
  openWebhookSecrets,
  sealPlaintextSubscriberSecrets,
  sealSubscriberSecret,
  setProviderCredential,
  subscriberSecretColumns,
  webhookSecretContext,
  type SubscriberSecretRow,
} from '../../lib/security/stored-secrets';
import type { ProviderRegistry } from '../../lib/config/registry';
import { secretsCommand } from '../../cli/secrets';
import {
  eventually,
  fakeCredentials,
  postStripe,
  startApi,
  startStack,
  stripeEvent,
  testConfig,
  type RunningApi,
  type TestStack,
} from '../support/harness';

function keyring(value: string): Keyring {
  const parsed = parseKeyring(value);
  if (!('keyring' in parsed)) throw new Error(parsed.problems.join('; '));
  return parsed.keyring;
}

const provider = `secstripe-${randomUUID().slice(0, 8)}`;
let stack: TestStack;
let pool: Pool;
let config: Config;
let registry: ProviderRegistry;
let api: RunningApi;
let receiver: http.Server;
let receiverUrl = '';
const received: Array<{ verified: boolean; secretUsed: string }> = [];
let receiverSecret = '';

beforeAll(async () => {
  ({ pool, config, registry, api } = stack = await startStack({
    config: { CALL_WAIT_MS: 30_000 },
    registry: (r) => {
      r[provider] = { ...structuredClone(r.stripe!), name: provider, failover: null };
      for (const name of Object.keys(r)) if (name !== provider) delete r[name];
    },
    // The environment's Stripe key is one the fake refuses: a call succeeds only with the stored one.
    worker: { env: { ...fakeCredentials, STRIPE_API_KEY: 'not-a-stripe-key' } },
  }));
  expect(config.SECRETS_MASTER_KEYS).toBeDefined(); // test/support/global-setup.ts
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let verified = false;
      try {
        new Webhook(receiverSecret).verify(Buffer.concat(chunks).toString(), req.headers as Record<string, string>);
        verified = true;
      } catch {
        verified = false;
      }
      received.push({ verified, secretUsed: receiverSecret });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  receiver?.close();
  await stack?.close();
});

/**
 * The tenant's audit rows for actions starting with the prefix, as JSON, once one for `waitFor` is
 * there: rows are written after the answer is sent (api/audit-middleware.ts).
 */
async function auditDetails(tenant: string, actionPrefix: string, waitFor: string): Promise<string> {
  return eventually(async () => {
    const { rows } = await pool.query<{ action: string; target: string | null; detail: unknown }>(
      'SELECT action, target, detail FROM audit_log WHERE tenant = $1 AND action LIKE $2',
      [tenant, `${actionPrefix}%`],
    );
    return rows.some((row) => row.action === waitFor) ? JSON.stringify(rows) : undefined;
  });
}

test('a subscriber secret: shown once, stored encrypted, never returned, and deliveries are signed with it', async () => {
  const res = await api.fetch('/subscribers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: receiverUrl, providers: ['stripe'] }) });
  expect(res.status).toBe(201);
  const created = (await res.json()) as { id: string; signingSecret: string };
  expect(created.signingSecret).toMatch(/^whsec_/);
  receiverSecret = created.signingSecret;

  const { rows } = await pool.query<SubscriberSecretRow & { tenant: string }>(`SELECT tenant, ${subscriberSecretColumns} FROM subscribers WHERE id = $1`, [created.id]);
  const row = rows[0]!;
  expect(row.signing_secret).toBeNull();
  expect(row.secret_master_key_id).toBe(config.SECRETS_MASTER_KEYS!.currentId);
  for (const column of [row.secret_ciphertext!, row.secret_wrapped_key!]) {
    expect(column.includes(Buffer.from(created.signingSecret))).toBe(false);
    expect(column.includes(Buffer.from(created.signingSecret.slice('whsec_'.length)))).toBe(false);
  }
  expect(openSubscriberSecret(config.SECRETS_MASTER_KEYS, row.tenant, created.id, row)).toBe(created.signingSecret);

  const answers = [await (await api.fetch(`/subscribers/${created.id}`)).text(), await (await api.fetch('/subscribers')).text()];
  for (const text of answers) {
    expect(text).toContain(created.id);
    expect(text).not.toContain(created.signingSecret.slice('whsec_'.length, 20));
    expect(text).not.toMatch(/signingSecret|whsec_/);
  }
  expect(await auditDetails(config.DEFAULT_TENANT, 'subscriber.', 'subscriber.create')).not.toContain(created.signingSecret.slice('whsec_'.length, 20));

  const event = stripeEvent();
  expect((await postStripe(api.url, event)).status).toBe(202);
  const delivery = await eventually(async () => {
    const list = (await (await api.fetch(`/deliveries?subscriber=${created.id}`)).json()) as { deliveries: Array<{ status: string; lastError: string | null }> };
    return list.deliveries.find((d) => d.status !== 'pending');
  }, 30_000);
  expect(delivery).toMatchObject({ status: 'delivered' });
  expect(received.length).toBeGreaterThanOrEqual(1);
  expect(received.every((r) => r.verified)).toBe(true);
});

test('a subscriber whose stored secret was altered: the delivery attempt fails with the reason, nothing is sent or changed', async () => {
  const res = await api.fetch('/subscribers', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: receiverUrl, providers: ['stripe'] }) });
  const { id } = (await res.json()) as { id: string };
  await pool.query('UPDATE subscribers SET secret_ciphertext = set_byte(secret_ciphertext, 30, get_byte(secret_ciphertext, 30) # 1) WHERE id = $1', [id]);
  const before = (await pool.query('SELECT * FROM subscribers WHERE id = $1', [id])).rows;
  const sent = received.length;
  expect((await postStripe(api.url, stripeEvent())).status).toBe(202);
  const delivery = await eventually(async () => {
    const list = (await (await api.fetch(`/deliveries?subscriber=${id}`)).json()) as { deliveries: Array<{ attempts: number; lastError: string | null }> };
    return list.deliveries.find((d) => d.attempts > 0);
  }, 30_000);
  expect(delivery.lastError).toBe('subscriber signing secret cannot be opened: the stored secret does not authenticate (ciphertext altered, or copied from another row)');
  expect((await pool.query('SELECT * FROM subscribers WHERE id = $1', [id])).rows).toEqual(before);
  // The first subscriber got the event; this one sent nothing.
  await eventually(() => Promise.resolve(received.length > sent ? true : undefined));
  expect(received.length).toBe(sent + 1);
  await api.fetch(`/subscribers/${id}`, { method: 'DELETE' });
});

async function postStandard(secret: string, tenantPrefix = ''): Promise<{ status: number; json: Record<string, unknown> }> {
  const id = `msg_${randomUUID()}`;
  const body = JSON.stringify({ type: 'invoice.paid', data: { n: 1 } });
  const now = new Date();
  const res = await fetch(`${api.url}${tenantPrefix}/webhooks/standard`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, now, body),
    },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function postGithub(url: string, secret: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const body = JSON.stringify({ action: 'opened', number: 1 });
  const res = await fetch(`${url}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-delivery': randomUUID(),
      'x-github-event': 'pull_request',
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

test('webhook signing secrets in PostgreSQL: generated or supplied, verified, listed without values, expired and removed', async () => {
  const json = { 'content-type': 'application/json' };
  // Nothing stored or configured for `standard` yet: 503, the provider retries.
  expect((await postStandard('whsec_dGhpcyBpcyBub3QgY29uZmlndXJlZCB5ZXQ=')).status).toBe(503);

  const generated = await api.fetch('/webhook-secrets', { method: 'POST', headers: json, body: JSON.stringify({ source: 'standard', generate: true }) });
  expect(generated.status).toBe(201);
  const standard = (await generated.json()) as { id: string; secret: string; fingerprint: string; notAfter: string | null };
  expect(standard.secret).toMatch(/^whsec_/);
  expect(standard.fingerprint).toBe(fingerprintOf(standard.secret));
  expect((await postStandard(standard.secret)).status).toBe(202);
  expect((await postStandard('whsec_d3Jvbmcgd3Jvbmcgd3Jvbmcgd3Jvbmcgd3Jvbmc=')).status).toBe(401);

  const supplied = await api.fetch('/webhook-secrets', { method: 'POST', headers: json, body: JSON.stringify({ source: 'github', secret: 'gh-supplied-secret-value-1' }) });
  expect(supplied.status).toBe(201);
  const github = (await supplied.json()) as Record<string, unknown>;
  expect(github).not.toHaveProperty('secret'); // a supplied secret is never echoed
  expect((await postGithub(api.url, 'gh-supplied-secret-value-1')).status).toBe(202);

  // Bad inputs change nothing.
  const refused = [
    { source: 'stripe', generate: true }, // Stripe issues its own
    { source: 'nope', secret: 'x' },
    { source: 'github' },
    { source: 'github', secret: 'x', generate: true },
    { source: 'standard', secret: 'not-a-standard-secret' },
    { source: 'github', secret: ' padded ' },
  ];
  for (const body of refused) {
    const res = await api.fetch('/webhook-secrets', { method: 'POST', headers: json, body: JSON.stringify(body) });
    expect([JSON.stringify(body), res.status]).toEqual([JSON.stringify(body), 400]);
  }

  const listText = await (await api.fetch('/webhook-secrets')).text();
  const list = JSON.parse(listText) as { webhookSecrets: Array<Record<string, unknown>> };
  schemas.webhookSecretList.parse(list); // the documented answers (api/openapi.ts)
  schemas.webhookSecretCreated.parse(standard);
  schemas.webhookSecretCreated.parse(github);
  expect(list.webhookSecrets.map((s) => s.source).sort()).toEqual(['github', 'standard']);
  for (const entry of list.webhookSecrets) expect(Object.keys(entry).sort()).toEqual(['createdAt', 'fingerprint', 'id', 'notAfter', 'source']);
  expect(listText).not.toContain(standard.secret.slice(6, 26));
  expect(listText).not.toContain('gh-supplied-secret-value-1');
  expect(await (await api.fetch('/webhook-secrets?source=github')).json()).toMatchObject({ webhookSecrets: [{ source: 'github' }] });
  // Another tenant sees none of them.
  expect(await (await api.fetch('/tenants/other-tenant/webhook-secrets')).json()).toEqual({ webhookSecrets: [] });

  const { rows } = await pool.query<{ ciphertext: Buffer; wrapped_key: Buffer }>('SELECT ciphertext, wrapped_key FROM webhook_signing_secrets WHERE tenant = $1', [config.DEFAULT_TENANT]);
  for (const row of rows) expect(row.ciphertext.includes(Buffer.from('gh-supplied-secret-value-1'))).toBe(false);

  // The end of a rotation window: from then on the secret no longer verifies.
  const expired = await api.fetch(`/webhook-secrets/${String(github.id)}`, { method: 'PATCH', headers: json, body: JSON.stringify({ notAfter: '2000-01-01T00:00:00Z' }) });
  expect(expired.status).toBe(200);
  expect(await expired.json()).toMatchObject({ id: github.id, notAfter: '2000-01-01T00:00:00.000Z' });
  expect((await postGithub(api.url, 'gh-supplied-secret-value-1')).status).toBe(503); // no live secret left

  expect((await api.fetch(`/webhook-secrets/${standard.id}`, { method: 'DELETE' })).status).toBe(204);
  expect((await api.fetch(`/webhook-secrets/${standard.id}`, { method: 'DELETE' })).status).toBe(404);
  expect((await postStandard(standard.secret)).status).toBe(503);

  const audit = await auditDetails(config.DEFAULT_TENANT, 'webhook-secret.', 'webhook-secret.delete');
  expect(audit).toContain('webhook-secret.create');
  expect(audit).toContain('webhook-secret.update');
  expect(audit).toContain('webhook-secret.delete');
  expect(audit).not.toContain(standard.secret.slice(6, 26));
  expect(audit).not.toContain('gh-supplied-secret-value-1');

  // Admins only.
  const operator = await api.keyFor('operator');
  expect((await fetch(`${api.url}/webhook-secrets`, { headers: { authorization: `Bearer ${operator}` } })).status).toBe(403);
});

test('a provider credential stored in PostgreSQL is what the provider call authenticates with', async () => {
  const call = async () => {
    const res = await api.fetch(`/calls/${provider}/createPaymentIntent?wait=30000`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({ params: { amount: 1200, currency: 'usd' } }),
    });
    return (await res.json()) as { status: string; error?: { message: string } };
  };
  // Only the environment's (refused) key: the fake answers 401.
  expect(await call()).toMatchObject({ status: 'failed' });

  const out: string[] = [];
  const io = { pool, keyring: config.SECRETS_MASTER_KEYS, registry, readInput: () => Promise.resolve('sk_test_stored_in_postgres\n'), out: (line: string) => out.push(line) };
  expect(await secretsCommand(['credentials', 'set', provider, 'apiKey'], io)).toBe(0);
  await expect(secretsCommand(['credentials', 'set', provider, 'nope'], io)).rejects.toThrow(/has no credential "nope"/);
  await expect(secretsCommand(['credentials', 'set', 'no-such-provider', 'apiKey'], io)).rejects.toThrow(/unknown provider/);
  expect(await secretsCommand(['credentials', 'list'], io)).toBe(0);
  expect(out.join('\n')).toMatch(new RegExp(`^${provider} +apiKey `, 'm')); // a row of the table under its header
  expect(out.join('\n')).not.toContain('sk_test_stored_in_postgres');
  const { rows } = await pool.query<{ ciphertext: Buffer }>('SELECT ciphertext FROM provider_credentials WHERE provider = $1', [provider]);
  expect(rows[0]!.ciphertext.includes(Buffer.from('sk_test_stored_in_postgres'))).toBe(false);

  // Workers cache stored credentials briefly (10 s): the call succeeds once they see it.
  const answer = await eventually(async () => {
    const result = await call();
    return result.status === 'completed' ? result : undefined;
  }, 40_000);
  expect(answer.status).toBe('completed');

  expect(await secretsCommand(['credentials', 'delete', provider, 'apiKey'], io)).toBe(0);
  expect(await secretsCommand(['credentials', 'delete', provider, 'apiKey'], io)).toBe(1);

  // On record under the system tenant, as the OS user, never with the value.
  const audited = await pool.query<{ action: string; actor_kind: string; outcome: string; detail: unknown }>(
    `SELECT action, actor_kind, outcome, detail FROM audit_log WHERE tenant = '*' AND target = $1 ORDER BY at, id`,
    [`${provider}.apiKey`],
  );
  expect(audited.rows.map((r) => [r.action, r.actor_kind, r.outcome])).toEqual([
    ['credential.set', 'cli', 'done'],
    ['credential.delete', 'cli', 'done'],
    ['credential.delete', 'cli', 'failed'],
  ]);
  expect(JSON.stringify(audited.rows)).not.toContain('sk_test_stored_in_postgres');
});

describe('master key rotation, in a database of its own', () => {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/switchyard_test_rotation_${randomUUID().slice(0, 8)}`;
  const databaseUrl = url.toString();
  let rotationPool: Pool;

  beforeAll(async () => {
    await migrate(databaseUrl);
    rotationPool = createPool(databaseUrl, { max: 6 });
  });

  afterAll(async () => {
    await rotationPool?.end();
    const admin = new Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${url.pathname.slice(1)}" WITH (FORCE)`);
    await admin.end();
  });

  test('plaintext subscriber secrets from before the migration are encrypted and cleared, safely again', async () => {
    const ringA = config.SECRETS_MASTER_KEYS!;
    // What an older API inserts.
    await rotationPool.query("INSERT INTO subscribers (id, tenant, url, signing_secret) VALUES ('sub_old', 'acme', 'https://example.com/h', 'whsec_b2xkIHBsYWludGV4dCBzZWNyZXQ=')");
    expect(await sealPlaintextSubscriberSecrets(rotationPool, ringA)).toEqual({ sealed: 1 });
    expect(await sealPlaintextSubscriberSecrets(rotationPool, ringA)).toEqual({ sealed: 0 });
    const { rows } = await rotationPool.query<SubscriberSecretRow>(`SELECT ${subscriberSecretColumns} FROM subscribers WHERE id = 'sub_old'`);
    expect(rows[0]!.signing_secret).toBeNull();
    expect(openSubscriberSecret(ringA, 'acme', 'sub_old', rows[0]!)).toBe('whsec_b2xkIHBsYWludGV4dCBzZWNyZXQ=');
  });

  test('rotate-master re-wraps every row under the new key while an API serves; bad rows are reported and left unchanged', async () => {
    const entryA = process.env.SECRETS_MASTER_KEYS!;
    const ringA = keyring(entryA);
    const entryB = newKeyringEntry(`rotation-b-${randomUUID().slice(0, 6)}`);
    const ringBA = keyring(`${entryB},${entryA}`);
    const ringB = keyring(entryB);
    const tenant = `rot${randomUUID().slice(0, 6)}`;

    // Rows under the old key A: webhook secrets, subscribers, provider credentials.
    const standardSecrets: string[] = [];
    for (let i = 0; i < 5; i++) {
      const secret = `whsec_${randomBytes(24).toString('base64')}`;
      standardSecrets.push(secret);
      await addWebhookSecret(rotationPool, ringA, { id: `whs_${String(i).padStart(20, '0')}`, tenant, source: 'standard', secret });
    }
    for (let i = 0; i < 3; i++) {
      const id = `sub_rot_${i}`;
      const box = sealSubscriberSecret(ringA, tenant, id, `whsec_c3Vic2NyaWJlciBzZWNyZXQg${i}`);
      await rotationPool.query(
        'INSERT INTO subscribers (id, tenant, url, secret_master_key_id, secret_wrapped_key, secret_ciphertext) VALUES ($1, $2, $3, $4, $5, $6)',
        [id, tenant, 'https://example.com/h', box.keyId, box.wrappedKey, box.ciphertext],
      );
    }
    await setProviderCredential(rotationPool, ringA, 'stripe', 'apiKey', 'sk_test_rotation');
    await setProviderCredential(rotationPool, ringA, 'twilio', 'authToken', 'tw_rotation');

    // Two bad rows: one under a master key nobody configured, one whose ciphertext was altered.
    const gone = keyring(newKeyringEntry('gone-key'));
    const lost = sealSecret(gone, webhookSecretContext(tenant, 'github', 'whs_lost0000000000000000'), 'lost-secret');
    await rotationPool.query(
      `INSERT INTO webhook_signing_secrets (id, tenant, source, fingerprint, master_key_id, wrapped_key, ciphertext) VALUES ('whs_lost0000000000000000', $1, 'github', 'ffffffff', $2, $3, $4)`,
      [tenant, lost.keyId, lost.wrappedKey, lost.ciphertext],
    );
    await addWebhookSecret(rotationPool, ringA, { id: 'whs_altered0000000000000', tenant, source: 'github', secret: 'github-secret-altered' });
    await rotationPool.query("UPDATE webhook_signing_secrets SET ciphertext = set_byte(ciphertext, 30, get_byte(ciphertext, 30) # 1) WHERE id = 'whs_altered0000000000000'");
    const badBefore = (await rotationPool.query("SELECT * FROM webhook_signing_secrets WHERE id IN ('whs_lost0000000000000000', 'whs_altered0000000000000') ORDER BY id")).rows;

    // Step 1 of the procedure: the new key first, the old one kept; the processes restarted with it.
    const rolled = await startApi(testConfig({ DEFAULT_TENANT: tenant, SECRETS_MASTER_KEYS: ringBA }), rotationPool);
    try {
      const postTo = async (secret: string) => {
        const id = `msg_${randomUUID()}`;
        const body = JSON.stringify({ type: 'invoice.paid' });
        const now = new Date();
        const res = await fetch(`${rolled.url}/webhooks/standard`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(id, now, body) },
          body,
        });
        return res.status;
      };
      expect(await postTo(standardSecrets[0]!)).toBe(202);
      // A github webhook whose secret may be the unreadable one: 503 (retry), not 401.
      expect((await postGithub(rolled.url, 'anything')).status).toBe(503);

      // Step 2: rotate-master, small batches, with webhooks and readers going on meanwhile.
      let serving = true;
      const statuses: number[] = [];
      const readers: string[] = [];
      const traffic = (async () => {
        let i = 0;
        while (serving) {
          statuses.push(await postTo(standardSecrets[i++ % standardSecrets.length]!));
          const { secrets, failures } = await openWebhookSecrets(rotationPool, ringBA, tenant, 'standard');
          readers.push(`${secrets.length}/${failures.length}`);
        }
      })();
      const out: string[] = [];
      const io = { pool: rotationPool, keyring: ringBA, registry, readInput: () => Promise.resolve(''), out: (line: string) => out.push(line) };
      const exitCode = await secretsCommand(['rotate-master', '--batch-size', '2'], io);
      serving = false;
      await traffic;
      expect(exitCode).toBe(1); // two rows could not be re-wrapped
      expect(statuses.length).toBeGreaterThan(0);
      expect(statuses.every((s) => s === 202)).toBe(true);
      expect(readers.every((r) => r === '5/0')).toBe(true);

      const text = out.join('\n');
      expect(text).toMatch(/webhook_signing_secrets: batch 1: \d+ re-wrapped/);
      expect(text).toMatch(/subscribers: batch 2: /);
      expect(text).toContain('whs_lost0000000000000000: the secret is wrapped under master key "gone-key", which SECRETS_MASTER_KEYS does not list');
      expect(text).toContain('whs_altered0000000000000: the stored secret does not authenticate (ciphertext altered');
      expect(text).toMatch(/done: 11 re-wrapped, 2 could not be/);
      const rotation = await rotationPool.query(`SELECT tenant, action, target, detail, outcome FROM audit_log WHERE action = 'master-key.rotate'`);
      expect(rotation.rows).toEqual([{ tenant: '*', action: 'master-key.rotate', target: ringB.currentId, detail: { rewrapped: 11, failed: 2 }, outcome: 'failed' }]);
      for (const secret of [...standardSecrets, 'lost-secret', 'github-secret-altered', 'sk_test_rotation', 'tw_rotation']) expect(text).not.toContain(secret);

      // The bad rows are exactly as they were.
      const badAfter = (await rotationPool.query("SELECT * FROM webhook_signing_secrets WHERE id IN ('whs_lost0000000000000000', 'whs_altered0000000000000') ORDER BY id")).rows;
      expect(badAfter).toEqual(badBefore);

      // Everything else is under B and opens with B alone: the old key can go.
      const counts = await countByMasterKey(rotationPool);
      expect(counts.filter((c) => c.keyId === ringA.currentId)).toEqual([{ table: 'webhook_signing_secrets', keyId: ringA.currentId, rows: 1 }]);
      expect(counts.filter((c) => c.keyId === ringB.currentId).map((c) => [c.table, c.rows])).toEqual(
        expect.arrayContaining([['subscribers', 4], ['webhook_signing_secrets', 5], ['provider_credentials', 2]]),
      );
      const opened = await openWebhookSecrets(rotationPool, ringB, tenant, 'standard');
      expect(opened.secrets.map((s) => s.secret).sort()).toEqual([...standardSecrets].sort());
      expect(opened.failures).toEqual([]);
      expect((await openProviderCredentials(rotationPool, ringB, 'stripe')).values).toEqual({ apiKey: 'sk_test_rotation' });
      const subs = await rotationPool.query<SubscriberSecretRow & { id: string }>(`SELECT id, ${subscriberSecretColumns} FROM subscribers WHERE tenant = $1 ORDER BY id`, [tenant]);
      expect(subs.rows.map((r) => openSubscriberSecret(ringB, tenant, r.id, r))).toEqual([0, 1, 2].map((i) => `whsec_c3Vic2NyaWJlciBzZWNyZXQg${i}`));

      // Safe to re-run: nothing left to do but the two bad rows, reported again.
      out.length = 0;
      expect(await secretsCommand(['rotate-master'], io)).toBe(1);
      expect(out.join('\n')).toMatch(/done: 0 re-wrapped, 2 could not be/);
      out.length = 0;
      expect(await secretsCommand(['status'], io)).toBe(0);
      expect(out.join('\n')).toContain('key gone-key (NOT CONFIGURED: these rows cannot be opened)  1 row(s)');
    } finally {
      await rolled.close();
    }
  });

  test('an unreadable stored webhook secret is logged by id and reason, never with a value', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) }));
    const tenant = `log${randomUUID().slice(0, 6)}`;
    const ringA = config.SECRETS_MASTER_KEYS!;
    await addWebhookSecret(rotationPool, ringA, { id: 'whs_logged00000000000000', tenant, source: 'github', secret: 'logged-secret-value' });
    await addWebhookSecret(rotationPool, ringA, { id: 'whs_good0000000000000000', tenant, source: 'github', secret: 'good-secret-value' });
    await rotationPool.query("UPDATE webhook_signing_secrets SET wrapped_key = set_byte(wrapped_key, 40, get_byte(wrapped_key, 40) # 1) WHERE id = 'whs_logged00000000000000'");
    const stored = createStoredWebhookSecrets({ pool: rotationPool, keyring: ringA, logger });
    expect(await stored.secretsFor(tenant, 'github', new Date())).toEqual({ secrets: ['good-secret-value'], complete: false });
    const log = lines.join('');
    expect(log).toContain('whs_logged00000000000000');
    expect(log).toContain('wrapped key altered');
    expect(log).not.toContain('logged-secret-value');
    expect(log).not.toContain('good-secret-value');
  });
});
