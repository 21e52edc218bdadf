/**
 * A Google service-account key made at test time (node:crypto, RSA 2048): the JSON key file the
 * adapter reads, written to a temporary directory, with `token_uri` at the fake token endpoint;
 * the fake is told to trust the public half. No key is ever committed.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FakeProviders } from '../fakes/provider-server';

export interface TestServiceAccount {
  clientEmail: string;
  /** Path of the key file (the GOOGLE_SHEETS_CREDENTIALS_FILE value). */
  keyFile: string;
  publicKeyPem: string;
}

/** `dir`: where the key file goes (default: a new temporary folder); `trusted: false` leaves the fake not trusting it. */
export function createTestServiceAccount(
  fakes: Pick<FakeProviders, 'url' | 'trustGoogleServiceAccount'>,
  options: { trusted?: boolean; dir?: string } = {},
): TestServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const clientEmail = `switchyard-test-${randomUUID().slice(0, 8)}@switchyard-test.iam.gserviceaccount.com`;
  if (options.dir) mkdirSync(options.dir, { recursive: true });
  const keyFile = path.join(options.dir ?? mkdtempSync(path.join(os.tmpdir(), 'switchyard-gsa-')), 'fake-google-service-account.json');
  writeFileSync(
    keyFile,
    JSON.stringify({
      type: 'service_account',
      project_id: 'switchyard-test',
      private_key_id: randomUUID().replace(/-/g, ''),
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: clientEmail,
      client_id: '100000000000000000000',
      token_uri: `${fakes.url}/token`,
    }),
    { mode: 0o600 },
  );
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  if (options.trusted !== false) fakes.trustGoogleServiceAccount(clientEmail, publicKeyPem);
  return { clientEmail, keyFile, publicKeyPem };
}
