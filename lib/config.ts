/**
 * Process configuration from the environment, validated once at start so a bad value fails
 * loudly with the variable's name instead of surfacing later as a confusing runtime error.
 */
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const configSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** Main task queue: every workflow and its local activities. */
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('switchyard'),
  /** Provider calls run on `${prefix}${provider}`, one rate-limited queue per provider. */
  PROVIDER_TASK_QUEUE_PREFIX: z.string().min(1).default('provider-'),
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/switchyard'),
  PORT: port.default(3000),
  WORKER_METRICS_PORT: port.default(9464),
  /** The Temporal SDK's own worker metrics (Prometheus); 0 turns them off. */
  TEMPORAL_SDK_METRICS_PORT: port.default(9465),
  DEFAULT_TENANT: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, "_" and "-" only')
    .default('default'),
  /** JSON file of webhook signing secrets per tenant and source (hot reloaded); see README. */
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
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(public readonly issues: string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  return { ...parsed.data, ...overrides };
}
