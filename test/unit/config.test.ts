/** Configuration is validated at start with errors that name the variable. */
import { ConfigError, loadConfig } from '../../lib/config';

test('defaults match the README', () => {
  const config = loadConfig({});
  expect(config).toMatchObject({
    TEMPORAL_ADDRESS: '127.0.0.1:7233',
    TEMPORAL_NAMESPACE: 'default',
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/switchyard',
    PORT: 3000,
    WORKER_METRICS_PORT: 9464,
    STRIPE_WEBHOOK_SECRETS: [],
    STRIPE_WEBHOOK_TOLERANCE_SECONDS: 300,
  });
});

test('a comma-separated secret list becomes the live secrets', () => {
  expect(loadConfig({ STRIPE_WEBHOOK_SECRETS: 'whsec_new, whsec_old,' }).STRIPE_WEBHOOK_SECRETS).toEqual(['whsec_new', 'whsec_old']);
});

test('bad values fail with the variable named', () => {
  expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
  expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
  expect(() => loadConfig({ DEFAULT_TENANT: 'Has Spaces' })).toThrow(/DEFAULT_TENANT/);
  expect(() => loadConfig({ DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL/);
});
