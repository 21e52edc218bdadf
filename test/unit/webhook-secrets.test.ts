/**
 * Webhook secrets per tenant and source: the file and the environment fallbacks, rotation windows
 * (notAfter), hot reload after the file changes, and a bad file keeping the last good version
 * without ever quoting a secret in the error.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWebhookSecrets, envSecretsVariable, type WebhookSecretsError } from '../../api/webhook-secrets';

let dir: string;
let file: string;
const t0 = new Date('2030-01-01T00:00:00Z');
const later = (ms: number) => new Date(t0.getTime() + ms);

/** Writes the file and moves its mtime forward, so the change is seen even on coarse-mtime file systems. */
let writes = 0;
function writeSecrets(content: unknown): void {
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  writes += 1;
  const mtime = new Date(Date.now() + writes * 2000);
  utimesSync(file, mtime, mtime);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'webhook-secrets-'));
  file = join(dir, 'secrets.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('env fallbacks serve the default tenant only, STRIPE_WEBHOOK_SECRETS included', () => {
  const secrets = createWebhookSecrets({
    env: { WEBHOOK_SECRETS_GENERIC_SHOPIFY: 'shp_a, shp_b', WEBHOOK_SECRETS_STRIPE: 'whsec_new', STRIPE_WEBHOOK_SECRETS: 'whsec_old,whsec_new' },
    defaultTenant: 'default',
  });
  expect(envSecretsVariable('generic:shopify')).toBe('WEBHOOK_SECRETS_GENERIC_SHOPIFY');
  expect(secrets.secretsFor('default', 'generic:shopify', t0)).toEqual(['shp_a', 'shp_b']);
  expect(secrets.secretsFor('default', 'stripe', t0)).toEqual(['whsec_new', 'whsec_old']);
  expect(secrets.secretsFor('default', 'twilio', t0)).toEqual([]);
  expect(secrets.secretsFor('acme', 'stripe', t0)).toEqual([]);
  secrets.close();
});

test('the file serves every tenant; a source it lists ignores the env, others fall back', () => {
  writeSecrets({
    default: { stripe: [{ secret: 'whsec_file' }] },
    acme: { stripe: [{ secret: 'whsec_acme' }], 'generic:shopify': [{ secret: 'shp_acme' }] },
  });
  const secrets = createWebhookSecrets({ env: { WEBHOOK_SECRETS_FILE: file, STRIPE_WEBHOOK_SECRETS: 'whsec_env', WEBHOOK_SECRETS_TWILIO: 'tw_env' }, defaultTenant: 'default' });
  expect(secrets.secretsFor('default', 'stripe', t0)).toEqual(['whsec_file']);
  expect(secrets.secretsFor('default', 'twilio', t0)).toEqual(['tw_env']);
  expect(secrets.secretsFor('acme', 'stripe', t0)).toEqual(['whsec_acme']);
  expect(secrets.secretsFor('acme', 'generic:shopify', t0)).toEqual(['shp_acme']);
  expect(secrets.secretsFor('acme', 'twilio', t0)).toEqual([]);
  expect(secrets.secretsFor('constructor', 'stripe', t0)).toEqual([]);
  secrets.close();
});

test('a secret past its notAfter stops verifying; the rotation window holds both until then', () => {
  writeSecrets({ acme: { stripe: [{ secret: 'whsec_new' }, { secret: 'whsec_old', notAfter: '2030-01-01T01:00:00+01:00' }] } });
  const secrets = createWebhookSecrets({ file, env: {}, defaultTenant: 'default' });
  expect(secrets.secretsFor('acme', 'stripe', later(-1))).toEqual(['whsec_new', 'whsec_old']);
  expect(secrets.secretsFor('acme', 'stripe', t0)).toEqual(['whsec_new']);
  secrets.close();
});

test('a rewritten file is picked up on the first access a second or more after the last check', () => {
  writeSecrets({ acme: { stripe: [{ secret: 'whsec_one' }] } });
  const secrets = createWebhookSecrets({ file, env: {}, defaultTenant: 'default' });
  expect(secrets.secretsFor('acme', 'stripe', t0)).toEqual(['whsec_one']);
  writeSecrets({ acme: { stripe: [{ secret: 'whsec_two' }, { secret: 'whsec_one', notAfter: '2030-02-01T00:00:00Z' }] } });
  expect(secrets.secretsFor('acme', 'stripe', later(500))).toEqual(['whsec_one']);
  expect(secrets.secretsFor('acme', 'stripe', later(1000))).toEqual(['whsec_two', 'whsec_one']);
  secrets.close();
  writeSecrets({ acme: { stripe: [{ secret: 'whsec_three' }] } });
  expect(secrets.secretsFor('acme', 'stripe', later(5000))).toEqual(['whsec_two', 'whsec_one']);
});

test('an invalid file keeps the last good version and reports once per change, without secret values', () => {
  writeSecrets({ acme: { stripe: [{ secret: 'whsec_good' }] } });
  const errors: WebhookSecretsError[] = [];
  const secrets = createWebhookSecrets({ file, env: {}, defaultTenant: 'default', onError: (error) => errors.push(error) });
  expect(errors).toEqual([]);

  const invalidVersions: Array<[unknown, RegExp]> = [
    ['{"acme": {"stripe": [{"secret": whsec_leak_json}]}}', /not valid JSON/],
    [{ acme: { stripe: [{ secret: 'whsec_leak_date', notAfter: 'next tuesday' }] } }, /acme\.stripe\[0\]\.notAfter: must be an ISO 8601/],
    [{ acme: { stripe: [{ secret: 'whsec_leak_field', whsec_leak_key: 'x' }] } }, /acme\.stripe\[0\]: unknown field/],
    [{ acme: { whsec_Leak_Source: [{ secret: 'x' }] } }, /acme\.<invalid source name>: must be a source name/],
    [{ whsec_Leak_Tenant: { stripe: [{ secret: 'x' }] } }, /<invalid tenant name>: must be a tenant name/],
    [{ acme: { stripe: [{ secret: ' whsec_leak_space ' }] } }, /whitespace/],
  ];
  let at = 0;
  for (const [content, expected] of invalidVersions) {
    writeSecrets(content);
    at += 1000;
    expect(secrets.secretsFor('acme', 'stripe', later(at))).toEqual(['whsec_good']);
    expect(errors.at(-1)?.message).toMatch(expected);
    // Unchanged file: no second report.
    at += 1000;
    secrets.secretsFor('acme', 'stripe', later(at));
  }
  expect(errors).toHaveLength(invalidVersions.length);
  for (const error of errors) {
    expect(error.file).toBe(file);
    expect(error.message).not.toMatch(/whsec_leak/i);
    expect(error.issues.join(' ')).not.toMatch(/leak/i);
  }

  rmSync(file);
  expect(secrets.secretsFor('acme', 'stripe', later((at += 1000)))).toEqual(['whsec_good']);
  expect(errors.at(-1)?.message).toMatch(/cannot be read \(ENOENT\)/);

  writeSecrets({ acme: { stripe: [{ secret: 'whsec_fixed' }] } });
  expect(secrets.secretsFor('acme', 'stripe', later((at += 1000)))).toEqual(['whsec_fixed']);
  secrets.close();
});

test('a bad file at start is reported through onError, which may make it fatal', () => {
  writeSecrets('not json');
  const errors: WebhookSecretsError[] = [];
  const secrets = createWebhookSecrets({ file, env: { WEBHOOK_SECRETS_STRIPE: 'whsec_env' }, defaultTenant: 'default', onError: (error) => errors.push(error) });
  expect(errors.map((error) => error.name)).toEqual(['WebhookSecretsError']);
  expect(secrets.secretsFor('default', 'stripe', t0)).toEqual(['whsec_env']);
  expect(() =>
    createWebhookSecrets({
      file,
      env: {},
      defaultTenant: 'default',
      onError: (error) => {
        throw error;
      },
    }),
  ).toThrow(/webhook secrets file .*not valid JSON/);
});
