/** The registry's per-provider HTTP pool settings (`http`): defaults, the shipped values and validation errors. */
import { loadRegistry, parseRegistry } from '../../lib/config/registry';

const withHttp = (http: unknown) => ({ providers: { p: { kind: 'http', baseUrl: 'https://p.example', operations: {}, ...(http === undefined ? {} : { http }) } } });

test('an entry without http settings gets the defaults', () => {
  expect(parseRegistry(withHttp(undefined)).p!.http).toEqual({
    connections: 16,
    pipelining: 1,
    keepAliveTimeoutMs: 10_000,
    connectTimeoutMs: 5_000,
    allowH2: false,
    gzipRequests: false,
    gzipMinBytes: 1024,
  });
});

test('given settings are kept and the rest defaulted', () => {
  expect(parseRegistry(withHttp({ connections: 4, pipelining: 2, allowH2: true })).p!.http).toMatchObject({
    connections: 4,
    pipelining: 2,
    allowH2: true,
    keepAliveTimeoutMs: 10_000,
  });
});

test.each([
  [{ connections: 0 }, /providers\.p\.http\.connections: /],
  [{ connections: 2.5 }, /providers\.p\.http\.connections: /],
  [{ connections: 5000 }, /providers\.p\.http\.connections: /],
  [{ pipelining: 0 }, /providers\.p\.http\.pipelining: /],
  [{ keepAliveTimeoutMs: -1 }, /providers\.p\.http\.keepAliveTimeoutMs: /],
  [{ connectTimeoutMs: 'soon' }, /providers\.p\.http\.connectTimeoutMs: /],
  [{ allowH2: 'yes' }, /providers\.p\.http\.allowH2: /],
  [{ gzipMinBytes: -5 }, /providers\.p\.http\.gzipMinBytes: /],
  [{ conections: 4 }, /providers\.p\.http: .*conections/],
])('invalid pool settings %j are refused, naming the field', (http, message) => {
  expect(() => parseRegistry(withHttp(http))).toThrow(message);
});

test('the shipped registry: HTTP/2 offered to Google, gzip request bodies to SendGrid, defaults elsewhere', () => {
  const registry = loadRegistry({});
  expect(registry['google-calendar']!.http).toMatchObject({ allowH2: true, connections: 8 });
  expect(registry.sendgrid!.http).toMatchObject({ gzipRequests: true });
  expect(registry.twilio!.http).toMatchObject({ allowH2: false, gzipRequests: false, connections: 16 });
  expect(registry['google-calendar']!.operations.updateEvent).toBeDefined();
});
