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
const configSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** The Temporal Web UI's base URL: the console links each workflow there. */
  TEMPORAL_UI_URL: z.string().url().default('http://127.0.0.1:8233').transform((u) => u.replace(/\/+$/, '')),
  /** Main task queue: every workflow and its local activities. */
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('switchyard'),
  /** Provider calls run on `${prefix}${provider}`, one rate-limited queue per provider. */
  PROVIDER_TASK_QUEUE_PREFIX: z.string().min(1).default('provider-'),
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/switchyard'),
  PORT: port.default(3000),
  /** The API's Prometheus /metrics, on a port of its own (never the public PORT: metrics name tenants). */
  API_METRICS_PORT: port.default(9463),
  WORKER_METRICS_PORT: port.default(9464),
  /**
   * Workflows the worker keeps in its sticky cache; 0 replays every workflow task from the start of
   * its history (slower; CI runs the integration suite so, to prove determinism). Unset: the SDK's default.
   */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().nonnegative().optional(),
  /**
   * The address the metrics ports (API_METRICS_PORT, WORKER_METRICS_PORT with the worker's
   * /healthz and /readyz, TEMPORAL_SDK_METRICS_PORT) listen on: this host only by default; set
   * 0.0.0.0 where Prometheus scrapes from another host or container (docker-compose.yml does).
   */
  METRICS_HOST: z.string().refine((host) => isIP(host) !== 0, 'an IP address such as 127.0.0.1 or 0.0.0.0').default('127.0.0.1'),
  /** The Temporal SDK's own worker metrics (Prometheus); 0 turns them off. */
  TEMPORAL_SDK_METRICS_PORT: port.default(9465),
  DEFAULT_TENANT: z
    .string()
    .regex(tenantPattern, tenantNameRule)
    .default('default'),
  /** JSON file of webhook signing secrets per tenant and source (hot reloaded); see docs/WEBHOOKS.md. */
  WEBHOOK_SECRETS_FILE: z.string().min(1).optional(),
  /** The public base URL providers call (Twilio signs the full URL); default: from the request's Host. */
  PUBLIC_BASE_URL: z.string().url().optional().transform((u) => u?.replace(/\/+$/, '')),
  WEBHOOK_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(512 * 1024),
  /** How long the API waits for the server to acknowledge a workflow start before answering 503. */
  TEMPORAL_START_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  /** How long POST /calls waits for a result before answering 202 with the workflow id. */
  CALL_WAIT_MS: z.coerce.number().int().nonnegative().default(10_000),
  /** Overrides the waits between subscriber delivery attempts, e.g. "1s,1s,2s" (default: the policy table's). */
  DELIVERY_RETRY_SCHEDULE: z
    .string()
    .regex(/^\s*\d+\s*(ms|s|m|h|d)(\s*,\s*\d+\s*(ms|s|m|h|d))*\s*$/, 'comma-separated durations such as 5s,1m,2h')
    .optional()
    .transform((value) => value?.split(',').map((d) => d.trim().replace(/^(\d+)(ms|s|m|h|d)$/, '$1 $2') as `${number} ${'ms' | 's' | 'm' | 'h' | 'd'}`)),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** HS256 JWTs: the shared secret (at least 32 characters). Use AUTH_JWT_SECRET_FILE to keep it out of the environment. */
  AUTH_JWT_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  /** RS256 JWTs: the issuer's public key (PEM, SPKI). */
  AUTH_JWT_PUBLIC_KEY: z.string().includes('BEGIN PUBLIC KEY', { message: 'a PEM public key (-----BEGIN PUBLIC KEY-----)' }).optional(),
  /** RS256 JWTs: the issuer's JWKS URL (keys fetched and cached by jose). */
  AUTH_JWKS_URL: z.string().url().optional(),
  /** Required `iss` and `aud` of every JWT (required when a JWT key is configured). */
  AUTH_JWT_ISSUER: z.string().min(1).optional(),
  AUTH_JWT_AUDIENCE: z.string().min(1).optional(),
  /** The claims that carry the caller's tenant and role. */
  AUTH_JWT_TENANT_CLAIM: z.string().min(1).default('tenant'),
  AUTH_JWT_ROLE_CLAIM: z.string().min(1).default('role'),
  /** Requests per minute per API key or token subject on the service API; 0 = no limit. */
  RATE_LIMIT_PER_KEY_PER_MINUTE: z.coerce.number().int().nonnegative().default(1200),
  /** Requests per minute per client address on the service API (before authentication); 0 = no limit. */
  RATE_LIMIT_PER_IP_PER_MINUTE: z.coerce.number().int().nonnegative().default(600),
  /** Comma-separated browser origins allowed by CORS on the service API; empty = CORS off. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((o) => o.trim()).filter(Boolean))
    .pipe(z.array(z.string().url('each origin must be a URL such as https://console.example.com'))),
  /**
   * Comma-separated CIDRs, addresses or host names outbound requests (subscriber deliveries,
   * generic providers) may reach although they are loopback, private, link-local, … (SSRF policy);
   * `host:port` (`[v6]:port`) allows one port only, e.g. `127.0.0.1:4010` for the local fakes.
   */
  OUTBOUND_ALLOW: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((e) => e.trim()).filter(Boolean))
    .superRefine((entries, ctx) => {
      for (const entry of entries) {
        const problem = allowEntryProblem(entry);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }
    }),
  /** Accept plain http:// subscriber and provider URLs (default: https only). */
  OUTBOUND_ALLOW_HTTP: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  /** How long a stopping API waits for in-flight requests before cutting them off. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(10_000),
  /** Retention (pruneData, daily): ledger bodies (the row and its dedup key stay), finished deliveries, probe results, cost rows. */
  RETENTION_LEDGER_BODY_DAYS: retentionDays.default(30),
  RETENTION_DELIVERY_ATTEMPTS_DAYS: retentionDays.default(30),
  RETENTION_PROBE_RESULTS_DAYS: retentionDays.default(14),
  RETENTION_COST_ROWS_DAYS: retentionDays.default(400),
  /**
   * AES-256-GCM keys of the Temporal payload codec (lib/security/payload-codec.ts): the first encrypts,
   * all decrypt. Unset: payloads reach the server in plaintext (refused when NODE_ENV=production).
   */
  PAYLOAD_ENCRYPTION_KEYS: keyring,
  /** Master keys wrapping the data keys of secrets stored in PostgreSQL: the first wraps, all unwrap. */
  SECRETS_MASTER_KEYS: keyring,
  /** Workflow execution retention of the namespace, set by the set-up (closed workflow histories). */
  TEMPORAL_NAMESPACE_RETENTION_DAYS: retentionDays.default(7),
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
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  if (env.NODE_ENV === 'production') {
    const missing = (['PAYLOAD_ENCRYPTION_KEYS', 'SECRETS_MASTER_KEYS'] as const).filter((name) => parsed.data[name] === undefined);
    if (missing.length > 0) throw new ConfigError(missing.map((name) => `${name}: required when NODE_ENV=production`));
  }
  return { ...parsed.data, ...overrides };
}
