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
    TEMPORAL_TASK_QUEUE: 'switchyard',
    PROVIDER_TASK_QUEUE_PREFIX: 'provider-',
  });
});

test('a delivery retry schedule override becomes Temporal durations', () => {
  expect(loadConfig({ DELIVERY_RETRY_SCHEDULE: '500ms, 2s,1m' }).DELIVERY_RETRY_SCHEDULE).toEqual(['500 ms', '2 s', '1 m']);
  expect(() => loadConfig({ DELIVERY_RETRY_SCHEDULE: 'soon' })).toThrow(/DELIVERY_RETRY_SCHEDULE/);
});

test('bad values fail with the variable named', () => {
  expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
  expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
  expect(() => loadConfig({ DEFAULT_TENANT: 'Has Spaces' })).toThrow(/DEFAULT_TENANT/);
  expect(() => loadConfig({ DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL/);
});
