/**
 * The service API's access rules on the real app, PostgreSQL and Temporal: every route is declared
 * (api/routes/, tabled by api/access.ts) and every declared route exists; no route reads input it
 * does not declare (no 500 for any role); every route × role gets what the table says;
 * API keys (created, listed, revoked) and JWTs (HS256, RS256 over a JWKS URL; expiry, issuer,
 * audience, claims) authenticate; each tenant sees only its own resources (404 otherwise); every
 * declared route under `/tenants/<t>/…` answers 404 for a tenant other than the caller's and 400
 * for a name that is no tenant's (raw and percent-encoded NUL, CR LF, `..`, quotes, 4 000
 * characters, the reserved `system`), public webhook paths included, and answers as unprefixed
 * for the caller's own; rate limits answer 429 with Retry-After; security headers are set and
 * CORS is off unless configured.
 */
import { randomUUID } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import type { Pool } from 'pg';
import { permissionFor, roleMay, serviceRoutes } from '../../api/access';
import { createApiKey, parseApiKey, roles, type Role } from '../../lib/security/api-keys';
import type { Config } from '../../lib/config/config';
import type { ProviderRegistry } from '../../lib/config/registry';
import { expressRoutes } from '../support/express-routes';
import { postStripe, startApi, startStack, stripeEvent, testConfig, type RunningApi, type TestStack } from '../support/harness';

let stack: TestStack;
let pool: Pool;
let config: Config;
let registry: ProviderRegistry;
let api: RunningApi;

beforeAll(async () => {
  ({ pool, config, registry, api } = stack = await startStack());
});

afterAll(() => stack?.close());

const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

test('every service route is declared with a permission, and every declared route exists', () => {
  const served = expressRoutes(api.app);
  const isPublic = (route: string) => /^(GET \/(healthz|readyz|startupz|metrics|openapi\.json)|POST (\/tenants\/:tenant)?\/webhooks\/(generic\/|google\/)?:source)$/.test(route);
  const undeclared = served.filter((route) => !isPublic(route)).filter((route) => {
    const [method, path] = route.split(' ') as [string, string];
    return permissionFor(method, path.replace(/:(\w+)/g, 'x')) === undefined;
  });
  expect(undeclared).toEqual([]);
  const declared = serviceRoutes().map(({ method, path }) => `${method} ${path}`);
  expect(declared.filter((route) => !served.includes(route))).toEqual([]);
  expect(declared.filter((route) => !served.includes(route.replace(' ', ' /tenants/:tenant')))).toEqual([]);
});

describe('route × role', () => {
  const keys = new Map<Role, string>();
  beforeAll(async () => {
    for (const role of roles) keys.set(role, await api.keyFor(role));
  });

  /** Sends the route with sample ids; SSE answers are cut off once their status is known. */
  async function send(method: string, path: string, headers: Record<string, string>): Promise<number> {
    const controller = new AbortController();
    const concrete = path.replace(/:(\w+)/g, (_m, name: string) => `sample-${name}`);
    const res = await fetch(`${api.url}${concrete}`, {
      method,
      headers: { ...headers, ...(method === 'GET' || method === 'DELETE' ? {} : { 'content-type': 'application/json' }) },
      body: method === 'GET' || method === 'DELETE' ? undefined : '{}',
      signal: controller.signal,
    });
    controller.abort();
    return res.status;
  }

  test.each(serviceRoutes().map(({ method, path, permission }) => [`${method} ${path}`, method, path, permission] as const))(
    '%s',
    async (_name, method, path, permission) => {
      expect(await send(method, path, {})).toBe(401);
      for (const role of roles) {
        const status = await send(method, path, bearer(keys.get(role)!));
        if (roleMay(role, permission)) expect([role, status]).not.toEqual([role, 403]);
        else expect([role, status]).toEqual([role, 403]);
        // Reads only the input it declares (api/service-router.ts answers 500 otherwise).
        expect([role, status]).not.toEqual([role, 500]);
        expect([role, status]).not.toEqual([role, 401]);
      }
    },
  );
});

describe('API keys', () => {
  test('an admin creates a key (shown once), lists it without its secret, revokes it; then it is refused', async () => {
    const created = await api.fetch('/api-keys', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: 'service', name: 'billing' }) });
    expect(created.status).toBe(201);
    const { key, keyId } = (await created.json()) as { key: string; keyId: string };
    expect(key).toMatch(/^sy_[a-f0-9]{12}_/);
    const listed = (await (await api.fetch('/api-keys')).json()) as { keys: Array<Record<string, unknown>> };
    const entry = listed.keys.find((k) => k.keyId === keyId)!;
    expect(entry).toMatchObject({ role: 'service', name: 'billing', revokedAt: null });
    expect(JSON.stringify(listed)).not.toContain(parseApiKey(key)!.secret);
    expect((await fetch(`${api.url}/calls/call:x:y:z`, { headers: { 'x-api-key': key } })).status).toBe(404);
    expect((await api.fetch(`/api-keys/${keyId}`, { method: 'DELETE' })).status).toBe(204);
    const refused = await fetch(`${api.url}/calls/call:x:y:z`, { headers: bearer(key) });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: 'unauthenticated', reason: 'API key unknown or revoked' });
  });

  test('missing, malformed and unknown credentials → 401 with a reason; a bad role body → 400 naming the field', async () => {
    const noCredential = await fetch(`${api.url}/subscribers`);
    expect(noCredential.status).toBe(401);
    expect(noCredential.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await noCredential.json()) as { reason: string }).reason).toMatch(/credentials required/);
    expect((await fetch(`${api.url}/subscribers`, { headers: { authorization: 'Basic abc' } })).status).toBe(401);
    expect((await fetch(`${api.url}/subscribers`, { headers: bearer(`sy_000000000000_${'a'.repeat(32)}`) })).status).toBe(401);
    expect((await fetch(`${api.url}/subscribers`, { headers: bearer('not.a.jwt') })).status).toBe(401);
    const bad = await api.fetch('/api-keys', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: 'root', name: '' }) });
    expect(bad.status).toBe(400);
    expect(Object.keys(((await bad.json()) as { fields: Record<string, string> }).fields).sort()).toEqual(['name', 'role']);
  });
});

describe('tenant scoping: another tenant gets 404 for each resource', () => {
  const other = `o${randomUUID().slice(0, 8)}`;
  let otherKey: string;
  beforeAll(async () => {
    otherKey = await api.keyFor('admin', other);
  });
  const asOther = (path: string, init: RequestInit = {}) => fetch(`${api.url}${path}`, { ...init, headers: { ...bearer(otherKey), ...(init.headers as Record<string, string>) } });
  const json = { 'content-type': 'application/json' };

  test('calls, bookings and batch items', async () => {
    const call = await api.fetch('/calls/stripe/createPaymentIntent', {
      method: 'POST',
      headers: { ...json, 'idempotency-key': randomUUID() },
      body: JSON.stringify({ params: { amount: 100, currency: 'usd' } }),
    });
    const { workflowId } = (await call.json()) as { workflowId: string };
    expect((await api.fetch(`/calls/${encodeURIComponent(workflowId)}`)).status).toBe(200);
    expect((await asOther(`/calls/${encodeURIComponent(workflowId)}`)).status).toBe(404);
    expect((await asOther(`/bookings/${encodeURIComponent(workflowId.replace(/^call:/, 'booking:'))}`)).status).toBe(404);
    // The path's tenant must be the caller's own.
    expect((await asOther(`/tenants/${config.DEFAULT_TENANT}/calls/${encodeURIComponent(workflowId)}`)).status).toBe(404);

    const item = await api.fetch('/batches/sendgrid/sendMail?wait=15000', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ params: { to: `scope-${other}@example.com`, subject: 's', text: 't' }, priority: 'high' }),
    });
    const { itemId } = (await item.json()) as { itemId: string };
    expect((await api.fetch(`/batches/items/${encodeURIComponent(itemId)}`)).status).toBe(200);
    expect((await asOther(`/batches/items/${encodeURIComponent(itemId)}`)).status).toBe(404);
  });

  test('webhook events, subscribers, deliveries and API keys', async () => {
    const accepted = await postStripe(api.url, stripeEvent());
    const eventId = encodeURIComponent(String(accepted.json.workflowId));
    expect((await api.fetch(`/webhooks/events/${eventId}`)).status).toBe(200);
    expect((await asOther(`/webhooks/events/${eventId}`)).status).toBe(404);
    expect((await asOther(`/webhooks/events/${eventId}/retry`, { method: 'POST' })).status).toBe(404);
    const listed = (await (await asOther('/webhooks/events')).json()) as { events: unknown[] };
    expect(JSON.stringify(listed)).not.toContain(String(accepted.json.workflowId));

    const subscriber = await api.fetch('/subscribers', { method: 'POST', headers: json, body: JSON.stringify({ url: 'http://127.0.0.1:9/hook' }) });
    const { id } = (await subscriber.json()) as { id: string };
    for (const [method, path] of [
      ['GET', `/subscribers/${id}`],
      ['PATCH', `/subscribers/${id}`],
      ['DELETE', `/subscribers/${id}`],
      ['POST', `/subscribers/${id}/replay?since=2026-01-01T00:00:00Z`],
      ['POST', `/deliveries/${id}/replay`],
    ] as const) {
      const res = await asOther(path, { method, headers: json, body: method === 'GET' || method === 'DELETE' ? undefined : '{}' });
      expect([method, path, res.status]).toEqual([method, path, 404]);
    }
    expect(((await (await asOther(`/deliveries?subscriber=${id}`)).json()) as { deliveries: unknown[] }).deliveries).toEqual([]);
    expect(((await (await asOther('/subscribers')).json()) as { subscribers: unknown[] }).subscribers).toEqual([]);

    const keyId = parseApiKey(await api.keyFor('service'))!.keyId;
    expect((await asOther(`/api-keys/${keyId}`, { method: 'DELETE' })).status).toBe(404);
    expect(((await (await asOther('/api-keys')).json()) as { keys: Array<{ keyId: string }> }).keys.map((k) => k.keyId)).not.toContain(keyId);
  });
});

describe("the path's tenant, one check for every route", () => {
  const caller = `c${randomUUID().slice(0, 8)}`;
  let walker: RunningApi;
  let key: string;
  beforeAll(async () => {
    // Its own API without rate limits: the walk sends several hundred requests.
    walker = await startApi(testConfig({ RATE_LIMIT_PER_IP_PER_MINUTE: 0, RATE_LIMIT_PER_KEY_PER_MINUTE: 0 }), pool, registry);
    key = await walker.keyFor('admin', caller); // admin: every permission, so nothing here is a 403
  });
  afterAll(() => walker?.close());

  /**
   * The path exactly as written (node:http, not fetch: WHATWG URLs resolve `..` and `%2e%2e`
   * before sending). Event streams are cut off once their status is known.
   */
  function send(method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    const { port } = new URL(walker.url);
    const body = method === 'GET' || method === 'DELETE' ? undefined : '{}';
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) } }, (res) => {
        if ((res.headers['content-type'] ?? '').includes('text/event-stream')) {
          resolve({ status: res.statusCode!, body: '' });
          req.destroy();
          return;
        }
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  const concrete = (path: string) => path.replace(/:(\w+)/g, (_m, name: string) => `sample-${name}`);
  const routes = serviceRoutes().map(({ method, path }) => [`${method} ${path}`, method, path] as const);
  const invalidNames = [
    ['NUL', '%00'],
    ['NUL inside', 'acme%00x'],
    ['CR LF', '%0D%0A'],
    ['CR LF header', 'acme%0d%0aSet-Cookie:%20a=b'],
    ['..', '..'],
    ['%2e%2e', '%2e%2e'],
    ['../.. encoded', '..%2F..'],
    ['double quote', '"acme"'],
    ['%22', '%22acme%22'],
    ['single quote', "acme'--"],
    ['%27', 'acme%27'],
    ['4 000 characters', 'a'.repeat(4000)],
    ['uppercase', 'ACME'],
    ['space', 'ac%20me'],
    ['leading dash', '-acme'],
    ['reserved', 'system'],
    ['bad percent-encoding', '%zz'],
    ['overlong UTF-8 dot', '%C0%AE'],
  ] as const;

  test.each(routes)("%s: another tenant's path answers 404 (system-wide data too)", async (_name, method, path) => {
    const other = await send(method, `/tenants/${config.DEFAULT_TENANT}${concrete(path)}`, bearer(key));
    expect([path, other.status]).toEqual([path, 404]);
    const unknown = await send(method, `/tenants/nobody-${randomUUID().slice(0, 8)}${concrete(path)}`, bearer(key));
    expect([path, unknown.status, unknown.body]).toEqual([path, 404, other.body]); // an existing tenant and none look alike
  });

  test.each(routes)('%s: a path naming no valid tenant answers 400', async (_name, method, path) => {
    for (const [what, name] of invalidNames) {
      const res = await send(method, `/tenants/${name}${concrete(path)}`, bearer(key));
      expect([what, res.status]).toEqual([what, 400]);
    }
  });

  test.each(routes)("%s: the caller's own tenant in the path answers as without it", async (_name, method, path) => {
    const prefixed = await send(method, `/tenants/${caller}${concrete(path)}`, bearer(key));
    const bare = await send(method, concrete(path), bearer(key));
    expect([path, prefixed.status]).toEqual([path, bare.status]);
    expect(prefixed.body).not.toContain('no such resource for this tenant');
  });

  test('"system" names no tenant: no key is made for it, and one stored before is refused', async () => {
    await expect(createApiKey(pool, { tenant: 'system', role: 'admin', name: 'reserved' })).rejects.toThrow(/not "system"/);
    const { key: stored, info } = await createApiKey(pool, { tenant: `r${randomUUID().slice(0, 8)}`, role: 'admin', name: 'renamed' });
    await pool.query(`UPDATE api_keys SET tenant = 'system' WHERE key_id = $1`, [info.keyId]);
    const res = await send('GET', '/whoami', bearer(stored));
    expect(res.status).toBe(401);
    expect(res.body).toMatch(/reserved or invalid tenant/);
  });

  test('public webhook paths: an invalid tenant answers 400 before anything else, with or without a known source', async () => {
    for (const source of ['stripe', 'generic/shopify', 'google/calendar', 'no-such-source']) {
      for (const [what, name] of invalidNames) {
        const res = await send('POST', `/tenants/${name}/webhooks/${source}`);
        expect([source, what, res.status]).toEqual([source, what, 400]);
      }
    }
    // A valid tenant still reaches the webhook route (here: no signing secret for it, or no such source).
    expect((await send('POST', `/tenants/${caller}/webhooks/stripe`)).status).not.toBe(400);
  });
});

describe('JWT bearer tokens', () => {
  const issuer = 'https://issuer.example';
  const audience = 'switchyard';
  const secret = 'a-test-only-hs256-secret-of-32-chars!';
  let hsApi: RunningApi;
  let rsApi: RunningApi;
  let jwks: Server;
  let rsKey: KeyLike;

  beforeAll(async () => {
    hsApi = await startApi(testConfig({ AUTH_JWT_SECRET: secret, AUTH_JWT_ISSUER: issuer, AUTH_JWT_AUDIENCE: audience }), pool, registry);
    const pair = await generateKeyPair('RS256');
    rsKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    rsApi = await startApi(testConfig({ AUTH_JWKS_URL: jwksUrl, AUTH_JWT_ISSUER: issuer, AUTH_JWT_AUDIENCE: audience }), pool, registry);
  });
  afterAll(async () => {
    await hsApi?.close();
    await rsApi?.close();
    jwks?.close();
  });

  const hs = (claims: Record<string, unknown>, change: (jwt: SignJWT) => SignJWT = (j) => j) =>
    change(new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer(issuer).setAudience(audience).setExpirationTime('5m')).sign(new TextEncoder().encode(secret));
  const get = async (base: RunningApi, token: string, path = '/subscribers') => {
    const res = await fetch(`${base.url}${path}`, { headers: bearer(token) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  test('HS256: tenant and role come from the claims; expiry, issuer, audience and claims are checked', async () => {
    const tenant = `j${randomUUID().slice(0, 8)}`;
    expect(await get(hsApi, await hs({ tenant, role: 'operator', sub: 'ops-1' }))).toMatchObject({ status: 200, body: { subscribers: [] } });
    expect((await get(hsApi, await hs({ tenant, role: 'service' }))).status).toBe(403);
    expect(await get(hsApi, await hs({ tenant, role: 'operator' }, (j) => j.setExpirationTime(Math.floor(Date.now() / 1000) - 60)))).toMatchObject({
      status: 401,
      body: { reason: 'token expired' },
    });
    expect((await get(hsApi, await hs({ tenant, role: 'operator' }, (j) => j.setIssuer('https://evil.example')))).body.reason).toMatch(/claim "iss"/);
    expect((await get(hsApi, await hs({ tenant, role: 'operator' }, (j) => j.setAudience('other')))).body.reason).toMatch(/claim "aud"/);
    expect((await get(hsApi, await hs({ tenant, role: 'root' }))).body.reason).toMatch(/claim "role"/);
    expect((await get(hsApi, await hs({ role: 'admin' }))).body.reason).toMatch(/claim "tenant"/);
    expect((await get(hsApi, await hs({ tenant: 'system', role: 'admin' }))).body.reason).toMatch(/claim "tenant"/); // reserved
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ tenant, role: 'admin', iss: issuer, aud: audience, exp: 9e9 })).toString('base64url')}.`;
    expect((await get(hsApi, unsigned)).status).toBe(401);
  });

  test('RS256 from a JWKS URL; a token signed by another key is refused', async () => {
    const tenant = `r${randomUUID().slice(0, 8)}`;
    const rs = (key: KeyLike) =>
      new SignJWT({ tenant, role: 'admin' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(issuer).setAudience(audience).setExpirationTime('5m').sign(key);
    expect((await get(rsApi, await rs(rsKey))).status).toBe(200);
    const stranger = await generateKeyPair('RS256');
    expect(await get(rsApi, await rs(stranger.privateKey))).toMatchObject({ status: 401, body: { reason: 'token signature invalid' } });
  });
});

describe('request hygiene', () => {
  test('per-credential and per-address limits answer 429 with Retry-After', async () => {
    const limited = await startApi(testConfig({ RATE_LIMIT_PER_KEY_PER_MINUTE: 3, RATE_LIMIT_PER_IP_PER_MINUTE: 5 }), pool, registry);
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await limited.fetch('/subscribers')).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const refused = await limited.fetch('/subscribers');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await refused.json()).toMatchObject({ error: 'rate_limited' });
      // The address limit (5 a minute) counts every service request, credentials or not.
      expect((await fetch(`${limited.url}/subscribers`)).status).toBe(429);
      // Webhooks and health are not service routes: never limited here.
      expect((await fetch(`${limited.url}/healthz`)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  test('security headers on every answer; CORS off by default, on for configured origins only', async () => {
    const res = await api.fetch('/subscribers', { headers: { origin: 'https://console.example' } });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age/);
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const withCors = await startApi(testConfig({ CORS_ORIGINS: ['https://console.example'] }), pool, registry);
    try {
      const preflight = await fetch(`${withCors.url}/subscribers`, {
        method: 'OPTIONS',
        headers: { origin: 'https://console.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://console.example');
      const stranger = await fetch(`${withCors.url}/subscribers`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
      expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await withCors.close();
    }
  });
});
