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
