/**
 * Every webhook scheme end to end on the real server: a request signed the provider's way (by the
 * provider's official library where one exists) becomes one processWebhook run per event and one
 * ledger row each; refused requests start nothing and write nothing. Rotation and hot reload of
 * secrets, and tenant routes, on the same path.
 */
import { createHmac, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import twilio from 'twilio';
import type { Config } from '../../lib/config/config';
import { fingerprintOf } from '../../lib/security/stored-secrets';
import { startApi, startWorker, stripeEvent, testConfig, testPool, type RunningApi, type RunningWorker } from '../support/harness';
import { whenStarted } from '../support/inbox';

const secrets = {
  stripe: 'whsec_scheme_test',
  twilio: 'twilio_auth_token_0123456789abcdef',
  standard: `whsec_${randomBytes(24).toString('base64')}`,
  github: "It's a Secret to Everybody",
  google: 'channel-token-xyz',
  generic: 'generic-shared-secret',
};
const sendgridKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const sendgridVerificationKey = sendgridKeys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

let pool: Pool;
let config: Config;
let worker: RunningWorker;
let api: RunningApi;
let secretsFile: string;

const now = () => Math.floor(Date.now() / 1000);
const unique = () => randomUUID().replace(/-/g, '').slice(0, 20);

function writeSecretsFile(content: unknown): void {
  writeFileSync(secretsFile, JSON.stringify(content));
}

beforeAll(async () => {
  pool = testPool();
  config = testConfig();
  secretsFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'switchyard-secrets-')), 'secrets.json');
  writeSecretsFile({ acme: { stripe: [{ secret: 'whsec_acme' }] } });
  worker = await startWorker(config, pool);
  api = await startApi(config, pool, {}, {
    secretsFile,
    secretsEnv: {
      STRIPE_WEBHOOK_SECRETS: secrets.stripe,
      WEBHOOK_SECRETS_TWILIO: secrets.twilio,
      WEBHOOK_SECRETS_SENDGRID: sendgridVerificationKey,
      WEBHOOK_SECRETS_STANDARD: secrets.standard,
      WEBHOOK_SECRETS_GITHUB: secrets.github,
      WEBHOOK_SECRETS_GOOGLE_CALENDAR: secrets.google,
      WEBHOOK_SECRETS_GENERIC_EXAMPLE: secrets.generic,
    },
  });
});

afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await pool?.end();
});

interface SignedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

async function send(request: SignedRequest): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await api.fetch(`${request.path}`, { method: 'POST', headers: request.headers, body: request.body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function ledgerCount(tenant = config.DEFAULT_TENANT): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_events WHERE tenant = $1', [tenant]);
  return rows[0]!.n;
}

async function completed(workflowIds: string[]): Promise<void> {
  await Promise.all(workflowIds.map(async (id) => (await whenStarted(api.workflows, id)).result()));
}

const signers: Record<string, () => { request: SignedRequest; events: number; provider: string }> = {
  stripe: () => {
    const body = JSON.stringify(stripeEvent('customer.created', { object: { id: 'cus_x' } }));
    return {
      request: { path: '/webhooks/stripe', headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret: secrets.stripe }) }, body },
      events: 1,
      provider: 'stripe',
    };
  },
  twilio: () => {
    const params = { MessageSid: `SM${unique()}`, MessageStatus: 'delivered', To: '+15551230000', Body: 'hi' };
    const url = `${api.url}/webhooks/twilio`;
    return {
      request: {
        path: '/webhooks/twilio',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(secrets.twilio, url, params) },
        body: new URLSearchParams(params).toString(),
      },
      events: 1,
      provider: 'twilio',
    };
  },
  sendgrid: () => {
    const body = JSON.stringify([
      { email: 'a@example.com', event: 'delivered', sg_event_id: `d-${unique()}`, timestamp: now() },
      { email: 'b@example.com', event: 'open', sg_event_id: `o-${unique()}`, timestamp: now() },
      { email: 'c@example.com', event: 'bounce', sg_event_id: `b-${unique()}`, timestamp: now() },
    ]);
    const timestamp = String(now());
    const signature = sign('sha256', Buffer.from(timestamp + body), sendgridKeys.privateKey).toString('base64');
    return {
      request: {
        path: '/webhooks/sendgrid',
        headers: { 'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp },
        body,
      },
      events: 3,
      provider: 'sendgrid',
    };
  },
  standard: () => {
    const id = `msg_${unique()}`;
    const body = JSON.stringify({ type: 'invoice.paid', data: { id: 'inv_1' } });
    return {
      request: {
        path: '/webhooks/standard',
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(now()),
          'webhook-signature': new Webhook(secrets.standard).sign(id, new Date(), body),
        },
        body,
      },
      events: 1,
      provider: 'standard',
    };
  },
  github: () => {
    const body = JSON.stringify({ action: 'opened', number: 1 });
    return {
      request: {
        path: '/webhooks/github',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'pull_request',
          'x-github-delivery': randomUUID(),
          'x-hub-signature-256': `sha256=${createHmac('sha256', secrets.github).update(body).digest('hex')}`,
        },
        body,
      },
      events: 1,
      provider: 'github',
    };
  },
  'google-calendar': () => ({
    request: {
      path: '/webhooks/google-calendar',
      headers: {
        'x-goog-channel-id': `chan-${unique()}`,
        'x-goog-message-number': '7',
        'x-goog-resource-state': 'exists',
        'x-goog-resource-id': 'res-1',
        'x-goog-channel-token': secrets.google,
      },
      body: '',
    },
    events: 1,
    provider: 'google-calendar',
  }),
  'generic:example': () => {
    const body = JSON.stringify({ id: `ev_${unique()}`, type: 'order.created' });
    const timestamp = String(now());
    return {
      request: {
        path: '/webhooks/generic/example',
        headers: {
          'content-type': 'application/json',
          'x-timestamp': timestamp,
          'x-signature': `sha256=${createHmac('sha256', secrets.generic).update(`${timestamp}.${body}`).digest('hex')}`,
        },
        body,
      },
      events: 1,
      provider: 'generic-example',
    };
  },
};

describe.each(Object.keys(signers))('%s', (name) => {
  test('signed → 202, one completed workflow and one ledger row per event; again → 200, nothing new', async () => {
    const { request, events, provider } = signers[name]!();
    const before = await ledgerCount();
    const first = await send(request);
    expect(first.status).toBe(202);
    const ids = events === 1 ? [String(first.json.workflowId)] : (first.json.events as Array<{ workflowId: string }>).map((e) => e.workflowId);
    expect(ids).toHaveLength(events);
    for (const id of ids) expect(id.startsWith(`webhook:${config.DEFAULT_TENANT}:${provider}:`)).toBe(true);
    await completed(ids);
    expect(await ledgerCount()).toBe(before + events);

    const again = await send(request);
    expect(again.status).toBe(200);
    expect(await ledgerCount()).toBe(before + events);
  });

  test('a wrong signature → 401, nothing started or written', async () => {
    const { request } = signers[name]!();
    const before = await ledgerCount();
    const tampered = request.body === '' ? { ...request, headers: { ...request.headers, 'x-goog-channel-token': 'wrong' } } : { ...request, body: request.body.replace(/.$/, ' ') };
    const res = await send(tampered);
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: 'invalid_signature' });
    expect(await ledgerCount()).toBe(before);
  });
});

describe('bad input starts nothing', () => {
  test('unknown source → 404; wrong content type → 415; stale or future timestamp → 401; malformed → 400; oversized → 413', async () => {
    const before = await ledgerCount();
    expect((await send({ path: '/webhooks/nosuch', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
    expect((await send({ path: '/webhooks/generic/nosuch', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(404);
    const twilioRequest = signers.twilio!().request;
    expect((await send({ ...twilioRequest, headers: { ...twilioRequest.headers, 'content-type': 'application/json' } })).status).toBe(415);

    const body = JSON.stringify(stripeEvent());
    for (const timestamp of [now() - 301, now() + 301]) {
      const stale = await send({
        path: '/webhooks/stripe',
        headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret: secrets.stripe, timestamp }) },
        body,
      });
      expect(stale.status).toBe(401);
    }
    const generic = signers['generic:example']!().request;
    const staleGeneric = await send({ ...generic, headers: { ...generic.headers, 'x-timestamp': String(now() - 400) } });
    expect(staleGeneric.status).toBe(401);

    const notJson = '{"id": ';
    const malformed = await send({
      path: '/webhooks/stripe',
      headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: notJson, secret: secrets.stripe }) },
      body: notJson,
    });
    expect(malformed.status).toBe(400);
    const big = JSON.stringify({ ...stripeEvent(), padding: 'x'.repeat(config.WEBHOOK_BODY_LIMIT_BYTES) });
    expect((await send({ path: '/webhooks/stripe', headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' }, body: big })).status).toBe(413);
    expect(await ledgerCount()).toBe(before);
  });
});

describe('secrets per tenant, rotation and hot reload', () => {
  const signedFor = (secret: string, tenantPath = '/tenants/acme') => {
    const body = JSON.stringify(stripeEvent('customer.created', { object: { id: 'cus_r' } }));
    return {
      path: `${tenantPath}/webhooks/stripe`,
      headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret }) },
      body,
    };
  };

  test('the tenant comes from the route and is in the workflow id; another tenant\'s secret does not verify', async () => {
    const accepted = await send(signedFor('whsec_acme'));
    expect(accepted.status).toBe(202);
    expect(String(accepted.json.workflowId)).toMatch(/^webhook:acme:stripe:evt_/);
    await completed([String(accepted.json.workflowId)]);
    expect((await send(signedFor(secrets.stripe))).status).toBe(401); // the default tenant's secret
    expect((await send({ ...signedFor('whsec_acme', '/tenants/Bad Tenant'), path: '/tenants/Bad%20Tenant/webhooks/stripe' })).status).toBe(400);
  });

  test('during a rotation old and new secrets verify; after the window only the new one; changes apply without restart', async () => {
    const windowEnds = new Date(Date.now() + 2500).toISOString();
    writeSecretsFile({ acme: { stripe: [{ secret: 'whsec_acme_new' }, { secret: 'whsec_acme', notAfter: windowEnds }] } });
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the store looks at the file at most once a second
    expect((await send(signedFor('whsec_acme_new'))).status).toBe(202);
    expect((await send(signedFor('whsec_acme'))).status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, Date.parse(windowEnds) - Date.now() + 100));
    expect((await send(signedFor('whsec_acme'))).status).toBe(401);
    expect((await send(signedFor('whsec_acme_new'))).status).toBe(202);
  });
});

describe('SendGrid verification keys as PEM files hold them', () => {
  // A PEM file ends with a line end; it was refused by the secrets file and POST /webhook-secrets.
  const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const der = keys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const forms: Record<string, string> = {
    pemlf: pem,
    pemcrlf: `\r\n${pem.replace(/\n/g, '\r\n')}  \r\n`,
    derwrapped: ` ${der.match(/.{1,40}/g)!.join('\n')}\n`,
  };

  /** One SendGrid batch of two events for `tenant`, signed with the key pair the way SendGrid signs. */
  const signedBatch = (tenant: string): SignedRequest => {
    const body = JSON.stringify([
      { email: 'a@example.com', event: 'delivered', sg_event_id: `d-${unique()}`, timestamp: now() },
      { email: 'b@example.com', event: 'open', sg_event_id: `o-${unique()}`, timestamp: now() },
    ]);
    const timestamp = String(now());
    return {
      path: `/tenants/${tenant}/webhooks/sendgrid`,
      headers: {
        'content-type': 'application/json',
        'x-twilio-email-event-webhook-signature': sign('sha256', Buffer.from(timestamp + body), keys.privateKey).toString('base64'),
        'x-twilio-email-event-webhook-timestamp': timestamp,
      },
      body,
    };
  };

  test('in WEBHOOK_SECRETS_FILE: PEM (LF or CRLF, whitespace around) and wrapped base64 DER verify a real signed batch', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'switchyard-secrets-')), 'secrets.json');
    writeFileSync(file, JSON.stringify(Object.fromEntries(Object.entries(forms).map(([tenant, key]) => [tenant, { sendgrid: [{ secret: key }] }]))));
    // The harness's secrets store throws on a refused file: before the fix this start failed.
    const fileApi = await startApi(config, pool, {}, { secretsFile: file, secretsEnv: {} });
    try {
      for (const tenant of Object.keys(forms)) {
        const request = signedBatch(tenant);
        const res = await fileApi.fetch(request.path, { method: 'POST', headers: request.headers, body: request.body });
        expect([tenant, res.status]).toEqual([tenant, 202]);
        const { events } = (await res.json()) as { events: Array<{ workflowId: string }> };
        expect(events).toHaveLength(2);
        await completed(events.map((e) => e.workflowId));
      }
      // Another key's signature does not verify against them.
      const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const request = signedBatch('pemlf');
      const forged = sign('sha256', Buffer.from(request.headers['x-twilio-email-event-webhook-timestamp']! + request.body), other.privateKey).toString('base64');
      const refused = await fileApi.fetch(request.path, { method: 'POST', headers: { ...request.headers, 'x-twilio-email-event-webhook-signature': forged }, body: request.body });
      expect(refused.status).toBe(401);
    } finally {
      await fileApi.close();
    }
  });

  test('POST /webhook-secrets takes a PEM key with its final newline (LF or CRLF) and stores it as base64 DER; a non-key is 400', async () => {
    for (const [tenant, key] of Object.entries(forms)) {
      const stored = await api.fetch(`/tenants/${tenant}-api/webhook-secrets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: 'sendgrid', secret: key }) });
      expect([tenant, stored.status]).toEqual([tenant, 201]);
      const info = (await stored.json()) as { fingerprint: string };
      expect(info.fingerprint).toBe(fingerprintOf(der)); // stored as base64 DER
      const request = signedBatch(`${tenant}-api`);
      const res = await send(request);
      expect([tenant, res.status]).toEqual([tenant, 202]);
      await completed((res.json.events as Array<{ workflowId: string }>).map((e) => e.workflowId));
    }
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    for (const secret of [rsa, 'not-a-key\n', `${pem}x`]) {
      const res = await api.fetch('/tenants/badkey-api/webhook-secrets', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: 'sendgrid', secret }) });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { fields: Record<string, string> }).fields.secret).toMatch(/P-256 public key/);
    }
  });
});
