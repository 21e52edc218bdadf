/**
 * The read-only view of the configuration in force (GET /config, GET /config/failover): every
 * process and monitoring variable with its value, and the provider registry, with nothing secret
 * in it. A secret is known by its variable (the list below, and any name that reads like one, so
 * a secret added later is hidden before anyone thinks of this file) or by where it hides in a
 * value (a URL's password or query string). Credentials appear by environment variable name only:
 * the registry never holds a value, it names where the worker reads one.
 */
import type { ProviderRegistry } from './registry';

/**
 * Variables whose value is a secret, or carries one (an alert webhook URL's path is its token, an
 * SMTP URL its password), or is a person's address: shown as set or not, never as a value.
 */
const secretVariables = new Set([
  'AUTH_JWT_SECRET',
  'PAYLOAD_ENCRYPTION_KEYS',
  'SECRETS_MASTER_KEYS',
  'ALERT_WEBHOOK_URL',
  'ALERT_SLACK_WEBHOOK_URL',
  'ALERT_DISCORD_WEBHOOK_URL',
  'ALERT_DISCORD_ROUTES',
  'ALERT_SMTP_URL',
  'ALERT_EMAIL_TO',
  'ALERT_SMS_TO',
]);
/** Names that read like a secret's. */
const secretLike = /SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE|CREDENTIAL|(^|_)KEYS?($|_)/;

export function isSecretVariable(name: string): boolean {
  return secretVariables.has(name) || secretLike.test(name);
}

/** A URL's password and query replaced (a token often rides in either); other text as is. */
export function withoutUrlSecrets(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  if (url.password) url.password = 'redacted';
  if (url.search) url.search = '?redacted';
  if (url.hash) url.hash = '';
  return url.toString();
}

/** Every string in `value` without URL secrets (a fresh copy; own enumerable keys only). */
function scrubbed(value: unknown): unknown {
  if (typeof value === 'string') return withoutUrlSecrets(value);
  if (Array.isArray(value)) return value.map(scrubbed);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, scrubbed(v)]));
  }
  return value;
}

export interface ConfigValue {
  name: string;
  /** null when redacted or unset. */
  value: unknown;
  redacted: boolean;
}

/** The variables of a loaded configuration, in its order, secrets redacted. */
export function configValues(config: object): ConfigValue[] {
  return Object.entries(config).map(([name, value]: [string, unknown]) =>
    isSecretVariable(name) ? { name, value: null, redacted: value !== undefined } : { name, value: value === undefined ? null : scrubbed(value), redacted: false },
  );
}

/** The registry in force: every setting, credentials by variable name, URLs without secrets. */
export function registryView(registry: ProviderRegistry): Array<Record<string, unknown> & { name: string; kind: string; credentials: Record<string, string> }> {
  return Object.values(registry).map((provider) => ({
    ...(scrubbed(provider) as Record<string, unknown>),
    name: provider.name,
    kind: provider.kind,
    credentials: { ...provider.credentials },
  }));
}
