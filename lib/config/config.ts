/**
 * Process configuration, validated once at start so a bad value fails loudly with the variable's
 * name instead of surfacing later as a confusing runtime error. Sources, later ones winning:
 * an optional JSON file (`CONFIG_FILE`: `{"VARIABLE": "value"}`), the environment, and for any
 * variable `<NAME>_FILE`: the file's contents (secrets stay out of the environment listing).
 * `.env.example` lists every variable.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { ConfigError, configSources } from './config-sources';
import { parseKeyring, type Keyring } from '../security/keyring';
import { allowEntryProblem } from '../security/outbound-policy';
import { monitoringVariables } from './monitoring-config';
import { tenantNameRule, tenantPattern } from '../security/tenant-name';
import { formatIssues } from '../zod-issues';

export { ConfigError };

const port = z.coerce.number().int().min(0).max(65535);
const retentionDays = z.coerce.number().int().min(1).max(36_500);
/** `id:base64-key[,…]`, the first key current (lib/security/keyring.ts); problems never echo key material. */
const keyring = z
  .string()
  .optional()
  .transform((value, ctx): Keyring | undefined => {
    if (value === undefined || value.trim() === '') return undefined;
    const parsed = parseKeyring(value);
    if ('keyring' in parsed) return parsed.keyring;
    for (const message of parsed.problems) ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  });

export { tenantPattern };
/**
 * Every variable, in the order of docs/CONFIGURATION.md's table, which scripts/config-tables.ts
 * writes from this schema: a field's description is its row's meaning and its default the row's
 * default; `.meta()` adds `shownDefault` where the default reads better in words, and `rowWith`
 * for the variables that share the row.
 */
/** A rollback switch (docs/RELIABILITY.md): `on` or `off`. */
const featureSwitch = z.enum(['on', 'off']);

export const configSchema = z.object({
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/switchyard').describe('PostgreSQL for the ledger and handler writes'),
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233').describe('Temporal frontend; used as is when a server answers there'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default').describe('namespace for workflows and search attributes'),
  TEMPORAL_UI_URL: z
    .string()
    .url()
    .default('http://127.0.0.1:8233')
    .transform((u) => u.replace(/\/+$/, ''))
    .describe('the Temporal Web UI the console links workflows to'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('switchyard').describe('main task queue: every workflow and its local activities'),
  PROVIDER_TASK_QUEUE_PREFIX: z.string().min(1).default('provider-').describe('provider calls run on `{prefix}{provider}`, one rate-limited queue per provider'),
  CALL_WAIT_MS: z.coerce.number().int().nonnegative().default(10_000).describe('the longest `POST /calls` and `POST /bookings` wait for a result before answering 202'),
  WEBHOOK_SECRETS_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('JSON file of webhook signing secrets per tenant and source, with rotation windows; re-read when it changes (see *Webhook secrets*)'),
  PUBLIC_BASE_URL: z
    .string()
    .url()
    .optional()
    .transform((u) => u?.replace(/\/+$/, ''))
    .meta({
      description: 'the public URL providers call (Twilio signs the full URL); set it behind a proxy',
      shownDefault: "from the request's `Host`",
    }),
  DELIVERY_RETRY_SCHEDULE: z
    .string()
    .regex(/^\s*\d+\s*(ms|s|m|h|d)(\s*,\s*\d+\s*(ms|s|m|h|d))*\s*$/, 'comma-separated durations such as 5s,1m,2h')
    .optional()
    .transform((value) => value?.split(',').map((d) => d.trim().replace(/^(\d+)(ms|s|m|h|d)$/, '$1 $2') as `${number} ${'ms' | 's' | 'm' | 'h' | 'd'}`))
    .meta({ description: 'waits between subscriber delivery attempts, e.g. `5s,1m,1h`', shownDefault: "the policy table's" }),
  OUTBOUND_ALLOW: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((e) => e.trim()).filter(Boolean))
    .superRefine((entries, ctx) => {
      for (const entry of entries) {
        const problem = allowEntryProblem(entry);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }
    })
    .describe(
      'comma-separated CIDRs, addresses or host names that subscriber deliveries and provider calls may reach although the outbound policy refuses their range (loopback, private, link-local, …), each for every port or, as `host:port` (`[v6]:port`), for one, e.g. `127.0.0.1:4010,10.1.0.0/16`; `npm start` adds the fakes\' address and port only (see *Subscribers and deliveries*)',
    ),
  OUTBOUND_ALLOW_HTTP: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('`true`: plain `http://` subscriber and provider URLs are accepted (default: https only; `npm start` sets it when it uses the fakes)'),
  WEBHOOK_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    // An accepted event must fit in a workflow start: the Temporal server refuses payloads over 2 MiB
    // by default, and a row it refuses would wait in the inbox for ever.
    .max(1024 * 1024, 'at most 1048576 (1 MiB): each accepted event is carried by a Temporal workflow start, and Temporal refuses payloads over 2 MiB by default')
    .default(512 * 1024)
    .describe('larger webhook bodies get 413; at most 1 MiB, so that every accepted event fits in a Temporal workflow start'),
  WEBHOOK_RATE_LIMIT_PER_MINUTE: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(1200)
    .describe(
      "webhook requests a minute per tenant and source (a source's `rateLimitPerMinute` overrides it; 0 = off); over it: 429 with `Retry-After`, so the provider retries later (see *Webhook hardening*)",
    ),
  WEBHOOK_SIGNATURE_ALERT_THRESHOLD: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(10)
    .meta({
      description:
        'signature failures of one tenant\'s source within the window (seconds) that raise the `webhook-signature-failures` alert, once while it lasts (0 = off; see *Webhook hardening*)',
      rowWith: ['WEBHOOK_SIGNATURE_ALERT_WINDOW_SECONDS'],
    }),
  WEBHOOK_SIGNATURE_ALERT_WINDOW_SECONDS: z.coerce.number().int().positive().max(86_400).default(300),
  TEMPORAL_START_TIMEOUT_MS: z.coerce.number().int().positive().default(5000).describe('how long the API waits for Temporal to acknowledge a start before answering 503'),
  DEFAULT_TENANT: z
    .string()
    .regex(tenantPattern, tenantNameRule)
    .default('default')
    .describe('tenant of webhooks that arrive without one (lowercase letters, digits, `_`, `-`; not `system`, reserved)'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino level; logs are JSON on stdout and never contain secrets or request bodies'),
  PORT: port.default(3000).meta({
    description: 'see Ports',
    rowWith: ['API_METRICS_PORT', 'WORKER_METRICS_PORT', 'TEMPORAL_SDK_METRICS_PORT'],
  }),
  // Never the public PORT: metrics name tenants.
  API_METRICS_PORT: port.default(9463),
  WORKER_METRICS_PORT: port.default(9464),
  TEMPORAL_SDK_METRICS_PORT: port.default(9465),
  CODEC_DEV_PORT: port
    .optional()
    .describe(
      'development only: the API also serves the codec without a credential on 127.0.0.1 at this port, acting as an admin of `DEFAULT_TENANT`, for the Temporal Web UI `npm start` runs (which sends none); `npm start` sets `8234`; unset (off) in production, where the UI passes its users\' tokens to `/codec` (docs/SECURITY.md)',
    ),
  METRICS_HOST: z
    .string()
    .refine((host) => isIP(host) !== 0, 'an IP address such as 127.0.0.1 or 0.0.0.0')
    .default('127.0.0.1')
    .describe(
      'the IP address the metrics ports (API, worker with its probes, Temporal SDK) listen on; metrics name tenants and providers, so by default only this host scrapes them; `0.0.0.0` where Prometheus is elsewhere, behind a network that keeps others out (docker-compose sets it and publishes none of them)',
    ),
  WORKFLOW_BUNDLE_PATH: z
    .string()
    .min(1)
    .optional()
    .meta({
      description:
        'a workflow bundle made beforehand from the same release (`npm run bundle:workflows` writes `dist/workflow-bundle.js`): the worker starts without bundling `workflows/` (seconds of CPU); a bundle from other code than the worker\'s would not replay its histories. Only with `PAYLOAD_ENCRYPTION_KEYS` (the bundle carries the encrypting workers\' failure converter); the worker refuses it otherwise',
      shownDefault: '*(none: bundled at start)*',
    }),
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce
    .number()
    .int()
    .nonnegative()
    .optional()
    .meta({
      description:
        'workflows the worker keeps in its sticky cache; `0` replays every workflow task from the start of its history (slow; `npm run test:cache-off` runs the integration suite so to check determinism)',
      shownDefault: "*(the SDK's default)*",
    }),
  INBOX_DRAIN_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(1024)
    .default(64)
    .describe('most processWebhook starts one worker keeps in flight while draining the webhook inbox (four claiming lanes share them)'),
  INBOX_POLL_MS: z.coerce
    .number()
    .int()
    .min(50)
    .default(1000)
    .describe('how often the inbox drainer looks for waiting rows when no NOTIFY woke it (a lost notification, a reconnecting listener)'),
  AUTH_JWT_SECRET: z
    .string()
    .min(32, 'at least 32 characters')
    .optional()
    .meta({
      description: "accept JWTs: HS256 shared secret (≥ 32 characters), or RS256 with a PEM public key or the issuer's JWKS URL; set one",
      shownDefault: '*(none: API keys only)*',
      rowWith: ['AUTH_JWT_PUBLIC_KEY', 'AUTH_JWKS_URL'],
    }),
  AUTH_JWT_PUBLIC_KEY: z.string().includes('BEGIN PUBLIC KEY', { message: 'a PEM public key (-----BEGIN PUBLIC KEY-----)' }).optional(),
  // Keys fetched and cached by jose.
  AUTH_JWKS_URL: z.string().url().optional(),
  AUTH_JWT_ISSUER: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'the `iss` and `aud` every token must carry', shownDefault: '*(required with a JWT key)*', rowWith: ['AUTH_JWT_AUDIENCE'] }),
  AUTH_JWT_AUDIENCE: z.string().min(1).optional(),
  AUTH_JWT_TENANT_CLAIM: z
    .string()
    .min(1)
    .default('tenant')
    .meta({ description: "the claims naming the caller's tenant and role", rowWith: ['AUTH_JWT_ROLE_CLAIM'] }),
  AUTH_JWT_ROLE_CLAIM: z.string().min(1).default('role'),
  // Per API key or token subject, and per client address (before authentication).
  RATE_LIMIT_PER_KEY_PER_MINUTE: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(1200)
    .meta({
      description: 'service-API requests a minute per credential and per client address (0 = off); over it: 429 with `Retry-After`',
      rowWith: ['RATE_LIMIT_PER_IP_PER_MINUTE'],
    }),
  RATE_LIMIT_PER_IP_PER_MINUTE: z.coerce.number().int().nonnegative().default(600),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((o) => o.trim()).filter(Boolean))
    .pipe(z.array(z.string().url('each origin must be a URL such as https://console.example.com')))
    .meta({ description: 'comma-separated browser origins allowed on the service API', shownDefault: '*(empty: CORS off)*' }),
  SHUTDOWN_GRACE_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(10_000)
    .describe(
      'on SIGTERM/SIGINT, how long the API lets in-flight requests finish and the worker lets running activities finish (see *Shutdown*)',
    ),
  RETENTION_LEDGER_BODY_DAYS: retentionDays.default(30).meta({
    description: 'days kept of webhook ledger bodies, finished deliveries, probe results and cost rows (see *Retention*)',
    rowWith: ['RETENTION_DELIVERY_ATTEMPTS_DAYS', 'RETENTION_PROBE_RESULTS_DAYS', 'RETENTION_COST_ROWS_DAYS'],
  }),
  RETENTION_DELIVERY_ATTEMPTS_DAYS: retentionDays.default(30),
  RETENTION_PROBE_RESULTS_DAYS: retentionDays.default(14),
  RETENTION_COST_ROWS_DAYS: retentionDays.default(400),
  PROVIDER_CACHE_MAX_ENTRIES: z.coerce
    .number()
    .int()
    .min(100)
    .max(100_000_000)
    .default(100_000)
    .describe('provider read cache size cap: past it, the entries expiring soonest are evicted (expired ones are pruned too; docs/CALLS.md, step 7)'),
  FEATURE_BATCHING: featureSwitch
    .default('on')
    .meta({
      description: 'rollback switches, `on` or `off`: off, batching sends every queued item as a call of its own, the cache neither reads nor writes provider answers, failover never goes to a backup (docs/RELIABILITY.md, *Rollback switches*)',
      rowWith: ['FEATURE_CACHE', 'FEATURE_FAILOVER'],
    }),
  FEATURE_CACHE: featureSwitch.default('on'),
  FEATURE_FAILOVER: featureSwitch.default('on'),
  SAGA_FOLLOW_UP_SCHEDULE: z
    .string()
    .regex(/^\s*\d+\s*(ms|s|m|h|d)(\s*,\s*\d+\s*(ms|s|m|h|d))*\s*$/, 'comma-separated durations such as 5s,1m,2h')
    .default('1m,5m,30m,2h,6h')
    .transform((value) => value.split(',').map((d) => d.trim().replace(/^(\d+)(ms|s|m|h|d)$/, '$1 $2') as `${number} ${'ms' | 's' | 'm' | 'h' | 'd'}`))
    .describe("waits between the follow-up retries of a failed non-critical saga step (the booking's confirmation SMS or email); see docs/RELIABILITY.md"),
  TEMPORAL_NAMESPACE_RETENTION_DAYS: retentionDays.default(7).describe("the namespace's workflow execution retention, set by the set-up (see *Retention*)"),
  // Unset: payloads reach the server in plaintext (refused when NODE_ENV=production).
  PAYLOAD_ENCRYPTION_KEYS: keyring.meta({
    description:
      'AES-256-GCM keys `id:base64[,id:base64…]` of the Temporal payload codec, better set through `PAYLOAD_ENCRYPTION_KEYS_FILE`: the first encrypts, every one listed decrypts (see *Payload encryption*); unset, payloads reach the server in plaintext and the processes log `payloadEncryption: OFF`',
    shownDefault: '*(none; `npm start`: `.data/keys/`; required when `NODE_ENV=production`)*',
  }),
  SECRETS_MASTER_KEYS: keyring.meta({
    description:
      'master keys `id:base64[,id:base64…]` (32 bytes each, `openssl rand -base64 32`), better set through `SECRETS_MASTER_KEYS_FILE`, wrapping the secrets stored in PostgreSQL: the first wraps, every one listed unwraps (see *Secrets at rest*)',
    shownDefault: '*(none; `npm start`: `.data/keys/`; required when `NODE_ENV=production`)*',
  }),
});

/** Cross-field rules: one JWT key source at most, and issuer and audience whenever JWTs are accepted. */
const checkedConfigSchema = configSchema.superRefine((config, ctx) => {
  const keys = [config.AUTH_JWT_SECRET, config.AUTH_JWT_PUBLIC_KEY, config.AUTH_JWKS_URL].filter((k) => k !== undefined).length;
  if (keys > 1) ctx.addIssue({ code: 'custom', path: ['AUTH_JWT_SECRET'], message: 'set only one of AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY, AUTH_JWKS_URL' });
  if (keys > 0) {
    for (const field of ['AUTH_JWT_ISSUER', 'AUTH_JWT_AUDIENCE'] as const) {
      if (!config[field]) ctx.addIssue({ code: 'custom', path: [field], message: 'required when JWTs are accepted' });
    }
  }
});

export type Config = z.infer<typeof configSchema>;

/** Every variable the configuration reads (for .env.example and its test). */
export const configVariables: readonly string[] = Object.keys(configSchema.shape);

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const parsed = checkedConfigSchema.safeParse(configSources(env, configVariables, [...configVariables, ...monitoringVariables]));
  if (!parsed.success) {
    throw new ConfigError(formatIssues(parsed.error));
  }
  if (env.NODE_ENV === 'production') {
    const missing = (['PAYLOAD_ENCRYPTION_KEYS', 'SECRETS_MASTER_KEYS'] as const).filter((name) => parsed.data[name] === undefined);
    if (missing.length > 0) throw new ConfigError(missing.map((name) => `${name}: required when NODE_ENV=production`));
  }
  return { ...parsed.data, ...overrides };
}
