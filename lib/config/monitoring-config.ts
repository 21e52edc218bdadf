/**
 * Monitoring configuration (alert channels and escalation timing) from the same sources as
 * lib/config/config.ts (CONFIG_FILE, environment, `<NAME>_FILE`), kept
 * apart from lib/config/config.ts because only the worker's alert activities read it. Validated once,
 * with the variable's name in the error. Channels that are not configured are skipped.
 */
import { z } from 'zod';
import { configSources } from './config-sources';
import { formatIssues } from '../zod-issues';
import { alertPolicyOverride } from './alert-policy';
import { jsonText } from './json-text';
import { DISCORD_URL_HINT, isDiscordWebhookUrl } from '../../activities/discord';

const duration = z
  .string()
  .regex(/^\s*\d+\s*(ms|s|m|h|d)\s*$/, 'a duration such as 500ms, 30s, 10m, 2h')
  .transform((value) => {
    const [, amount, unit] = /^\s*(\d+)\s*(ms|s|m|h|d)\s*$/.exec(value)!;
    const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit as 'ms' | 's' | 'm' | 'h' | 'd'];
    return Number(amount) * factor;
  });

/** A Discord webhook URL; the messages never echo it (its path carries the webhook's token). */
const discordWebhookUrl = z.string().refine(isDiscordWebhookUrl, DISCORD_URL_HINT);

/**
 * ALERT_DISCORD_ROUTES: `{"rule": {"<alert rule>": "<webhook URL>"}, "severity": {"<critical|high|medium|low>": "<webhook URL>"}}`,
 * both parts optional. An alert goes to its rule's webhook, else its severity's, else ALERT_DISCORD_WEBHOOK_URL.
 */
const discordRoutes = jsonText('{"rule": {...}, "severity": {...}}')
  .pipe(
    z.strictObject({
      rule: z.record(z.string().min(1), discordWebhookUrl).default({}),
      severity: z.partialRecord(z.enum(['critical', 'high', 'medium', 'low']), discordWebhookUrl).default({}),
    }),
  );

/** A positive number (e.g. a multiple or an amount in USD). */
const positiveNumber = z.coerce.number().positive();

/**
 * Every variable, in the order of docs/OPERATIONS.md's monitoring table, which
 * scripts/config-tables.ts writes from this schema as it does lib/config/config.ts's.
 */
export const monitoringSchema = z.object({
  /** Generic webhook: POST of the alert as JSON. */
  ALERT_WEBHOOK_URL: z
    .string()
    .url()
    .optional()
    .meta({ description: 'alert webhooks (chat)', rowWith: ['ALERT_SLACK_WEBHOOK_URL'] }),
  /** Slack-compatible incoming webhook: POST of `{text}`. */
  ALERT_SLACK_WEBHOOK_URL: z.string().url().optional(),
  /** Discord webhook (chat level, beside Slack): POST of `{content, embeds}`; the default route. */
  ALERT_DISCORD_WEBHOOK_URL: discordWebhookUrl.optional().meta({
    description:
      'Discord webhook (chat): the default one, and per rule / severity ones as JSON `{"rule": {...}, "severity": {...}}` (see *Discord*)',
    shownDefault: '—',
    rowWith: ['ALERT_DISCORD_ROUTES'],
  }),
  /** Discord webhooks per alert rule and per severity (JSON, see discordRoutes); override the default one. */
  ALERT_DISCORD_ROUTES: discordRoutes.default({ rule: {}, severity: {} }),
  /** SMTP server for alert mail, e.g. smtp://user:pass@mail.example.com:587. */
  ALERT_SMTP_URL: z
    .string()
    .url()
    .optional()
    .meta({ description: 'alert email', rowWith: ['ALERT_EMAIL_FROM', 'ALERT_EMAIL_TO'] }),
  ALERT_EMAIL_FROM: z.string().min(3).default('switchyard-alerts@localhost'),
  /** Comma-separated recipients; email is skipped without them. */
  ALERT_EMAIL_TO: z.string().min(3).optional(),
  /** E.164 number for SMS alerts (sent as a provider call, `sendSms` on ALERT_SMS_PROVIDER). */
  ALERT_SMS_TO: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, 'an E.164 number such as +15551234567')
    .optional()
    .meta({ description: 'alert SMS', rowWith: ['ALERT_SMS_PROVIDER'] }),
  ALERT_SMS_PROVIDER: z.string().min(1).default('twilio'),
  /** The escalation table (lib/config/alert-policy.ts): rows that replace the default's, as JSON. */
  ALERT_POLICY: alertPolicyOverride.optional().meta({
    description: 'escalation per severity as JSON: rows `{"<severity>": {"atOnce": [channels], "then": …}}` (`then`: `{"channels": [...]}`, `{"severity": "high"}` or `null`) replacing those of the default table (see *Alerts*)',
    shownDefault: 'the source monitor\'s table',
  }),
  /** Waits, per severity, before an unacknowledged alert takes its row's `then` step. */
  ALERT_ESCALATION_HIGH: duration.prefault('10m').meta({
    description: 'wait before an unacknowledged alert of that severity escalates (`500ms`, `30s`, `10m`, `2h`)',
    rowWith: ['ALERT_ESCALATION_MEDIUM', 'ALERT_ESCALATION_CRITICAL', 'ALERT_ESCALATION_LOW'],
  }),
  ALERT_ESCALATION_MEDIUM: duration.prefault('30m'),
  /** Used only when ALERT_POLICY gives critical or low a `then` step (the default gives them none). */
  ALERT_ESCALATION_CRITICAL: duration.prefault('5m'),
  ALERT_ESCALATION_LOW: duration.prefault('1h'),
  /** Health score below which a provider that still answers is "degraded". */
  HEALTH_DEGRADED_BELOW: z.coerce.number().min(0).max(1).default(0.8).describe('health score under which an answering provider is `degraded`'),
  /**
   * Cost anomaly rule (costAnomalyCheck, every 5 minutes): spend over the last COST_ANOMALY_WINDOW
   * above COST_ANOMALY_MULTIPLE times the average spend per window over the COST_ANOMALY_BASELINE
   * before it raises `alert:cost-anomaly:{provider}`; windows under COST_ANOMALY_MIN_USD never do.
   */
  COST_ANOMALY_MULTIPLE: positiveNumber.default(3).meta({
    description:
      "cost anomaly rule: the last window's spend over this multiple of its average per window over the baseline before it, from this many USD (see *Costs*)",
    rowWith: ['COST_ANOMALY_WINDOW', 'COST_ANOMALY_BASELINE', 'COST_ANOMALY_MIN_USD'],
  }),
  COST_ANOMALY_WINDOW: duration.prefault('1h'),
  COST_ANOMALY_BASELINE: duration.prefault('7d'),
  COST_ANOMALY_MIN_USD: z.coerce.number().nonnegative().default(1),
  /** The worker creates/updates the monitoring Schedules at start ("false": only `npm run schedules`). */
  SCHEDULES_AT_WORKER_START: z.enum(['true', 'false']).default('true').describe('the worker syncs the monitoring Schedules at start'),
});

export type MonitoringConfig = z.infer<typeof monitoringSchema>;

export const monitoringVariables: readonly string[] = Object.keys(monitoringSchema.shape);

export function loadMonitoringConfig(env: NodeJS.ProcessEnv = process.env): MonitoringConfig {
  const parsed = monitoringSchema.safeParse(configSources(env, monitoringVariables));
  if (!parsed.success) {
    throw new Error(`invalid monitoring configuration:\n  ${formatIssues(parsed.error).join('\n  ')}`);
  }
  return parsed.data;
}

const costAnomalyKeys = { COST_ANOMALY_MULTIPLE: true, COST_ANOMALY_WINDOW: true, COST_ANOMALY_BASELINE: true, COST_ANOMALY_MIN_USD: true } as const;
const costAnomalySchema = monitoringSchema.pick(costAnomalyKeys);
export type CostAnomalySettings = z.infer<typeof costAnomalySchema>;

/** Only the cost anomaly rule's settings: the API reports them in GET /budgets without reading the alert channels. */
export function loadCostAnomalySettings(env: NodeJS.ProcessEnv = process.env): CostAnomalySettings {
  const names = Object.keys(costAnomalyKeys);
  const parsed = costAnomalySchema.safeParse(configSources(env, names));
  if (!parsed.success) {
    throw new Error(`invalid monitoring configuration:\n  ${formatIssues(parsed.error).join('\n  ')}`);
  }
  return parsed.data;
}
