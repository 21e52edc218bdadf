/**
 * `npm start` without provider credentials points every unconfigured provider at the fakes with
 * fake credentials. A made-up key file path must never be among them: Calendar would take it over
 * its refresh token and fail every booking (found starting the system and booking through it).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { baseUrlOverrideVariable, loadRegistry } from '../../lib/config/registry';
import { fakeCredentials } from '../fakes/credentials';
import type { FakeProviders } from '../fakes/provider-server';
import { useFakesForUnconfiguredProviders } from '../../scripts/fakes-for-unconfigured';
import { createCredentialResolver } from '../../activities/credentials';
import { createProbeActivities } from '../../activities/probes';
import { loadMonitoringConfig } from '../../lib/config/monitoring-config';
import { outboundPolicyOf } from '../../lib/security/outbound-policy';
import { testPool } from '../support/harness';

let server: FakeProviders | undefined;

afterAll(() => server?.close());

test('unconfigured providers get the fakes and fake credentials; Calendar its refresh token, Sheets a key file that exists', async () => {
  const env: NodeJS.ProcessEnv = { FAKE_PROVIDERS_PORT: '0' };
  const keysDir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-fakes-'));
  const started = await useFakesForUnconfiguredProviders(loadRegistry({}), env, keysDir);
  server = started?.server;
  expect(started?.providers).toEqual(expect.arrayContaining(['google-calendar', 'google-sheets', 'stripe']));
  expect(env.GOOGLE_CALENDAR_CREDENTIALS_FILE).toBeUndefined();
  expect(env.GOOGLE_REFRESH_TOKEN).toBe(fakeCredentials.GOOGLE_REFRESH_TOKEN);
  expect(env.GOOGLE_SHEETS_CREDENTIALS_FILE).toBe(path.join(keysDir, 'fake-google-service-account.json'));
  expect(env[baseUrlOverrideVariable('google-calendar')]).toBe(server!.url);
});

test('the new providers answer their health probes from the fakes npm start points them at (with the fake credentials)', async () => {
  const env: NodeJS.ProcessEnv = { FAKE_PROVIDERS_PORT: '0' };
  const keysDir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-fakes-'));
  const started = await useFakesForUnconfiguredProviders(loadRegistry({}), env, keysDir);
  const fakes = started!.server;
  const pool = testPool();
  try {
    const registry = loadRegistry(env);
    const names = ['google-my-business', 'airtable', 'openai', 'google-sheets'];
    const probes = createProbeActivities({
      pool,
      registry: Object.fromEntries(names.map((name) => [name, registry[name]!])),
      monitoring: loadMonitoringConfig({}),
      credentials: createCredentialResolver({ pool, keyring: undefined, env }),
      outbound: outboundPolicyOf({ OUTBOUND_ALLOW: env.OUTBOUND_ALLOW!.split(','), OUTBOUND_ALLOW_HTTP: true }),
    });
    for (const provider of names) {
      await expect(probes.probeProvider({ provider })).resolves.toMatchObject({ provider, ok: true, status: 200 });
    }
    // Each probe reached its own provider's route: Google My Business and Sheets share the discovery path.
    expect(fakes.requests({ operation: 'probe' }).map((r) => r.provider).sort()).toEqual(['airtable', 'google-my-business', 'google-sheets', 'openai']);
  } finally {
    await pool.end();
    await fakes.close();
  }
});
