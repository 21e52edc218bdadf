/** The provider registry's cross-checks: extra hosts and their overrides, batch modes and their operations. */
import { loadRegistry, parseRegistry } from '../../lib/config/registry';

const provider = (extra: Record<string, unknown>) => ({ providers: { p: { kind: 'http', baseUrl: 'https://p.example', operations: {}, ...extra } } });

test('extra hosts: their own override first, then the provider override, then the configured URL', () => {
  const hosts = { hosts: { notify: 'https://notify.p.example' } };
  expect(parseRegistry(provider(hosts)).p!.hosts).toEqual({ notify: 'https://notify.p.example' });
  expect(parseRegistry(provider(hosts), { PROVIDER_P_BASE_URL: 'http://127.0.0.1:4010' }).p!.hosts).toEqual({ notify: 'http://127.0.0.1:4010' });
  expect(
    parseRegistry(provider(hosts), { PROVIDER_P_BASE_URL: 'http://127.0.0.1:4010', PROVIDER_P_NOTIFY_BASE_URL: 'http://127.0.0.1:4011' }).p!.hosts,
  ).toEqual({ notify: 'http://127.0.0.1:4011' });
  expect(() => parseRegistry(provider(hosts), { PROVIDER_P_NOTIFY_BASE_URL: 'nope' })).toThrow(/PROVIDER_P_NOTIFY_BASE_URL: not a URL/);
});

test('grouped and items batches need a batch operation; items mode needs a declared batch endpoint', () => {
  const batch = (extra: Record<string, unknown>) => ({ maxSize: 10, maxWaitMs: {}, ...extra });
  const post = { method: 'POST', path: '/bulk' };
  expect(() => parseRegistry(provider({ batch: batch({ mode: 'grouped' }) }))).toThrow(/batch\.batchOperation: grouped mode needs/);
  expect(() => parseRegistry(provider({ operations: { bulk: post }, batch: batch({ mode: 'items', batchOperation: 'bulk' }) }))).toThrow(
    /items mode needs an operation with batchEndpoint/,
  );
  expect(() => parseRegistry(provider({ operations: { bulk: { method: 'GET', path: '/bulk', batchEndpoint: true } } }))).toThrow(/batchEndpoint needs .* POST/);
  const ok = parseRegistry(provider({ operations: { bulk: { ...post, batchEndpoint: true } }, batch: batch({ mode: 'items', batchOperation: 'bulk' }) }));
  expect(ok.p!.batch).toMatchObject({ mode: 'items', flushesPerRun: 50, recipientFields: ['to'] });
});

test('the shipped registry batches SendGrid by personalization and Twilio SMS through Notify', () => {
  const registry = loadRegistry({});
  expect(registry.sendgrid!.batch).toMatchObject({ mode: 'grouped', batchOperation: 'sendMailBatch', recipientFields: ['to', 'subject'] });
  expect(registry.twilio!.batch).toMatchObject({ mode: 'grouped', batchOperation: 'sendSmsBatch', recipientFields: ['to'] });
  expect(registry.twilio!.hosts.notify).toBe('https://notify.twilio.com');
});
