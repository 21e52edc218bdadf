/**
 * `npm start` without provider credentials: the local fake providers stand in for every provider
 * that has none configured (scripts/run-system.ts).
 */
import path from 'node:path';
import { loadConfig } from '../lib/config/config';
import { dataDir } from '../lib/config/paths';
import { baseUrlOverrideVariable, type ProviderRegistry } from '../lib/config/registry';
import { allowEntryFor } from '../lib/security/outbound-policy';
import { fakeCredentials } from '../test/fakes/credentials';
import { startFakeProviders, type FakeProviders } from '../test/fakes/provider-server';
import { createTestServiceAccount } from '../test/support/google-service-account';

/**
 * Points every provider with none of its credentials in the environment at the local fake
 * providers (with fake credentials), so the system is usable out of the box. The worker and the
 * API inherit the environment set here.
 */
export async function useFakesForUnconfiguredProviders(
  registry: ProviderRegistry,
  env: NodeJS.ProcessEnv = process.env,
  keysDir = path.join(dataDir, 'keys'),
): Promise<{ server: FakeProviders; providers: string[] } | undefined> {
  const unconfigured = Object.values(registry).filter(
    (p) => env[baseUrlOverrideVariable(p.name)] === undefined && Object.values(p.credentials).every((v) => !env[v]),
  );
  if (unconfigured.length === 0) return undefined;
  const server = await startFakeProviders({ port: Number(env.FAKE_PROVIDERS_PORT ?? 4010) });
  for (const provider of unconfigured) {
    env[baseUrlOverrideVariable(provider.name)] = server.url;
    for (const [field, variable] of Object.entries(provider.credentials)) {
      // A key file is made below where the provider needs one; a made-up path would win over the
      // provider's other credentials (Calendar takes its token from the fake's refresh grant).
      if (field !== 'serviceAccountKeyFile') env[variable] = fakeCredentials[variable] ?? 'fake';
    }
  }
  // Google Sheets signs in with a service-account key file: one made for this run, trusted by the fake.
  for (const provider of unconfigured.filter((p) => p.kind === 'google-sheets')) {
    const variable = provider.credentials.serviceAccountKeyFile;
    if (variable) env[variable] = createTestServiceAccount(server, { dir: keysDir }).keyFile;
  }
  // The fakes listen on loopback over plain http, which the outbound (SSRF) policy refuses by
  // default: their port only, so a subscriber URL on another loopback port (Temporal's, the API's,
  // PostgreSQL's) is still refused.
  env.OUTBOUND_ALLOW = [...loadConfig(env).OUTBOUND_ALLOW, allowEntryFor(server.url)].join(',');
  env.OUTBOUND_ALLOW_HTTP ??= 'true';
  return { server, providers: unconfigured.map((p) => p.name) };
}
