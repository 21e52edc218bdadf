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

test('a rate limit in the window form runs as its average rate; the per-second form still works; not both', () => {
  const windowed = parseRegistry(provider({ rateLimit: { requests: 100, windowSeconds: 60 } })).p!;
  expect(windowed.rateLimit).toEqual({ requests: 100, windowSeconds: 60 });
  expect(windowed.rateLimitPerSecond).toBeCloseTo(100 / 60);
  const perSecond = parseRegistry(provider({ rateLimitPerSecond: 5 })).p!;
  expect(perSecond).toMatchObject({ rateLimitPerSecond: 5, rateLimit: { requests: 5, windowSeconds: 1 } });
  expect(parseRegistry(provider({})).p!.rateLimitPerSecond).toBe(10);
  expect(() => parseRegistry(provider({ rateLimitPerSecond: 5, rateLimit: { requests: 100, windowSeconds: 60 } }))).toThrow(/rateLimit and rateLimitPerSecond disagree/);
  // A parsed entry carries both, in agreement: written back (GET /config → PROVIDERS_FILE), it parses.
  expect(parseRegistry(provider({ rateLimitPerSecond: 2.5, rateLimit: { requests: 250, windowSeconds: 100 } })).p!.rateLimitPerSecond).toBe(2.5);
  expect(() => parseRegistry(provider({ rateLimit: { requests: 0, windowSeconds: 60 } }))).toThrow(/rateLimit\.requests/);
});

test('circuit defaults are the sources\' 5 failures, 60 s open, 3 successes; thresholds default to the monitor\'s levels and must be ordered', () => {
  const p = parseRegistry(provider({})).p!;
  expect(p.circuit).toMatchObject({ failureThreshold: 5, coolDownSeconds: 60, successThreshold: 3 });
  expect(p.thresholds).toEqual({
    responseTimeWarningMs: 2000,
    responseTimeCriticalMs: 5000,
    errorRateWarning: 0.02,
    errorRateCritical: 0.05,
    availabilityWarning: 0.98,
    availabilityCritical: 0.95,
  });
  expect(() => parseRegistry(provider({ thresholds: { responseTimeWarningMs: 6000 } }))).toThrow(/responseTimeWarningMs must be below/);
  expect(() => parseRegistry(provider({ thresholds: { errorRateWarning: 0.5, errorRateCritical: 0.1 } }))).toThrow(/errorRateWarning must not exceed/);
});

test('failover weights name the provider or its backups only', () => {
  const doc = (weights: Record<string, number>) => ({
    providers: {
      p: { kind: 'http', baseUrl: 'https://p.example', operations: { op: { method: 'GET', path: '/', failoverCapable: true } }, failover: { strategy: 'weighted', backups: ['q'], weights } },
      q: { kind: 'http', baseUrl: 'https://q.example', operations: { op: { method: 'GET', path: '/' } } },
    },
  });
  expect(parseRegistry(doc({ p: 4, q: 1 })).p!.failover!.weights).toEqual({ p: 4, q: 1 });
  expect(() => parseRegistry(doc({ r: 1 }))).toThrow(/failover\.weights: "r" is neither the provider nor one of its backups/);
});

test('geocoding ships weighted: Google first 4 to 1 while healthy, Yandex as its backup', () => {
  const registry = loadRegistry({});
  expect(registry['google-maps']!.failover).toEqual({ strategy: 'weighted', backups: ['yandex-maps'], weights: { 'google-maps': 4, 'yandex-maps': 1 } });
  expect(registry['google-maps']!.operations.geocode!.failoverCapable).toBe(true);
});
