/**
 * Webhook signing secrets per tenant and source, with rotation and hot reload. Operators rotate a
 * provider's secret by adding the new one next to the old (with a `notAfter` ending the old one's
 * window) in the secrets file; the API picks the change up within a second, without a restart.
 * The default tenant can also take its secrets from the environment, as before the file existed.
 *
 * File (path from WEBHOOK_SECRETS_FILE), e.g.:
 *   { "acme": { "stripe": [ { "secret": "whsec_new" }, { "secret": "whsec_old", "notAfter": "2030-01-01T00:00:00Z" } ],
 *               "generic:shopify": [ { "secret": "..." } ] } }
 * At most two live secrets per source is the intended use (old and new during a rotation); more
 * are accepted, each one only widens what verifies.
 */
import { statSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { tenantNameRule, tenantPattern } from '../lib/security/tenant-name';
import { sendgridVerificationKey } from '../providers/sendgrid/webhook';

/** A provider ("stripe") or a generic source ("generic:shopify"). */
const sourcePattern = /^[a-z0-9][a-z0-9_-]{0,62}(:[a-z0-9][a-z0-9_.-]{0,62})?$/;

const secretEntry = z.strictObject({
  secret: z
    .string()
    .min(1, 'must not be empty')
    // Whitespace around a shared secret is a copy-paste slip; a public key (SendGrid's, PEM or
    // base64 DER) may have it, as every PEM file ends with a line end.
    .refine((secret) => secret.trim() === secret || sendgridVerificationKey(secret) !== null, 'must not start or end with whitespace (a copy-paste slip)'),
  /** End of this secret's rotation window: from this instant on it no longer verifies. */
  notAfter: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone, e.g. 2030-01-01T00:00:00Z' }).optional(),
});

export const webhookSecretsFile = z.record(
  z.string().regex(tenantPattern, `tenant names are ${tenantNameRule}`),
  z.record(z.string().regex(sourcePattern, 'source names look like "stripe" or "generic:shopify"'), z.array(secretEntry)),
);

export type WebhookSecretsFile = z.infer<typeof webhookSecretsFile>;

/** A secrets file that could not be used; `issues` say where and why, never with a secret's value. */
export class WebhookSecretsError extends Error {
  constructor(
    public readonly file: string,
    public readonly issues: string[],
  ) {
    super(`webhook secrets file ${file}: ${issues.join('; ')}`);
    this.name = 'WebhookSecretsError';
  }
}

export interface WebhookSecretsOptions {
  /** The secrets file; defaults to env.WEBHOOK_SECRETS_FILE; without either only env secrets exist. */
  file?: string;
  env: Readonly<Record<string, string | undefined>>;
  /** The only tenant that falls back to environment secrets. */
  defaultTenant: string;
  /**
   * Called when the file cannot be read or is invalid, at creation and on each later change; the
   * last good version stays in use. Called synchronously, so throwing from it during
   * createWebhookSecrets makes a bad file at start fatal. Defaults to a process warning.
   */
  onError?: (error: WebhookSecretsError) => void;
}

export interface WebhookSecrets {
  /** The source's secrets that are live at `now` (no notAfter, or notAfter after `now`). */
  secretsFor(tenant: string, source: string, now: Date): string[];
  /** Stops reloading; secretsFor keeps answering from the last good version. */
  close(): void;
}

/** How often, at most, an access looks at the file's metadata for a change. */
export const reloadCheckIntervalMs = 1000;

/** The environment variable holding a source's fallback secrets: generic:shopify → WEBHOOK_SECRETS_GENERIC_SHOPIFY. */
export function envSecretsVariable(source: string): string {
  return `WEBHOOK_SECRETS_${source.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

interface LoadedSecret {
  secret: string;
  notAfterMs: number | undefined;
}

/** Maps, not objects: a tenant or source named like an Object.prototype member stays plain data. */
type LoadedSecrets = Map<string, Map<string, LoadedSecret[]>>;

type LoadResult = { ok: true; secrets: LoadedSecrets } | { ok: false; issues: string[] };

/**
 * A zod issue path made printable without echoing anything that could be a secret: tenant and
 * source keys are shown only when they are valid names, entry fields only when they are known.
 */
function describePath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, depth) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const name = String(segment);
      if (depth === 0) return tenantPattern.test(name) ? name : '<invalid tenant name>';
      if (depth === 1) return `.${sourcePattern.test(name) ? name : '<invalid source name>'}`;
      return `.${name === 'secret' || name === 'notAfter' ? name : '<unknown field>'}`;
    })
    .join('');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = describePath(issue.path) || '(root)';
  // zod's own text for these names the offending keys, which may be anything the operator typed.
  if (issue.code === 'unrecognized_keys') return `${where}: unknown field(s); an entry has only "secret" and "notAfter"`;
  if (issue.code === 'invalid_key') {
    const expected = issue.path.length <= 1 ? 'a tenant name (lowercase letters, digits, "_" and "-")' : 'a source name such as "stripe" or "generic:shopify"';
    return `${where}: must be ${expected}`;
  }
  return `${where}: ${issue.message}`;
}

/** JSON.parse's message quotes the text around the error, which may be a secret: keep only where it is. */
function describeJsonError(err: unknown): string {
  const position = err instanceof Error ? /at position \d+( \(line \d+ column \d+\))?/.exec(err.message)?.[0] : undefined;
  return position ? `not valid JSON (${position})` : 'not valid JSON';
}

function loadSecretsFile(file: string): LoadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, issues: [`cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`] };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, issues: [describeJsonError(err)] };
  }
  const parsed = webhookSecretsFile.safeParse(json);
  if (!parsed.success) return { ok: false, issues: parsed.error.issues.map(describeIssue) };
  const secrets: LoadedSecrets = new Map();
  for (const [tenant, sources] of Object.entries(parsed.data)) {
    const bySource = new Map<string, LoadedSecret[]>();
    for (const [source, entries] of Object.entries(sources)) {
      bySource.set(
        source,
        entries.map((entry) => ({ secret: entry.secret, notAfterMs: entry.notAfter === undefined ? undefined : Date.parse(entry.notAfter) })),
      );
    }
    secrets.set(tenant, bySource);
  }
  return { ok: true, secrets };
}

function splitSecretList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((secret) => secret.trim())
    .filter((secret) => secret.length > 0);
}

/** What identifies one version of the file: a rewrite, an in-place edit or a rename over it changes it. */
function fileVersion(file: string): string {
  try {
    const stats = statSync(file);
    return `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
  } catch (err) {
    return `unreadable:${(err as NodeJS.ErrnoException).code ?? 'unknown'}`;
  }
}

export function createWebhookSecrets({ file, env, defaultTenant, onError }: WebhookSecretsOptions): WebhookSecrets {
  const path = file ?? (env.WEBHOOK_SECRETS_FILE || undefined);
  const report = onError ?? ((error: WebhookSecretsError) => process.emitWarning(error));
  let current: LoadedSecrets = new Map();
  let loadedVersion: string | undefined;
  let lastCheckMs: number | undefined;
  let closed = false;

  /** Reloads when the file changed; throttled by the callers' clock so tests can step it. */
  function reloadIfChanged(nowMs: number): void {
    if (path === undefined || closed) return;
    // A clock that went backwards (or a test's earlier `now`) checks rather than waiting.
    if (lastCheckMs !== undefined && nowMs >= lastCheckMs && nowMs - lastCheckMs < reloadCheckIntervalMs) return;
    lastCheckMs = nowMs;
    // The version is taken before reading: a write landing mid-read changes it again, so the
    // next check reads the finished file.
    const version = fileVersion(path);
    if (version === loadedVersion) return;
    loadedVersion = version;
    const loaded = loadSecretsFile(path);
    if (loaded.ok) current = loaded.secrets;
    else report(new WebhookSecretsError(path, loaded.issues));
  }

  function envSecrets(source: string): string[] {
    const listed = splitSecretList(env[envSecretsVariable(source)]);
    // STRIPE_WEBHOOK_SECRETS predates the per-source variables and keeps working.
    if (source === 'stripe') listed.push(...splitSecretList(env.STRIPE_WEBHOOK_SECRETS));
    return [...new Set(listed)];
  }

  reloadIfChanged(Date.now());

  return {
    secretsFor(tenant, source, now) {
      const nowMs = now.getTime();
      reloadIfChanged(nowMs);
      // A source listed in the file is governed by the file alone, so expiring a secret there
      // cannot be undone by a stale environment value.
      const fromFile = current.get(tenant)?.get(source);
      if (fromFile !== undefined) {
        return fromFile.filter((entry) => entry.notAfterMs === undefined || entry.notAfterMs > nowMs).map((entry) => entry.secret);
      }
      return tenant === defaultTenant ? envSecrets(source) : [];
    },
    close() {
      closed = true;
    },
  };
}
