/**
 * The alert activities: plan an alert's channel levels and escalation wait from the worker's
 * configuration (so tests can make minutes into seconds), save its state for the API and the
 * stream, send one notification (generic webhook, Slack-compatible webhook, Discord webhook, email
 * over SMTP; SMS goes through the provider-call workflow instead), and raise or resolve an alert
 * workflow by its id (`alert:{rule}:{fingerprint}`) with signal-with-start, so a condition already
 * alerting never alerts twice.
 * The HTTP channels go through the outbound policy (lib/security/outbound-policy.ts) like every other
 * outbound request. Discord picks its webhook per rule / severity (activities/discord.ts) when sending,
 * so no webhook URL (its path is a secret token) ever enters a workflow history, a row or a log;
 * a Discord 429 is retried after its `retry_after` / `Retry-After` through Temporal's retry.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Pool } from 'pg';
import { Agent, request } from 'undici';
import { raiseAlertRun, resolveAlertRun } from '../lib/temporal/alert-runs';
import { discordRetryAfterMs, discordRouteFor, redactWebhookUrl, type DiscordRoute } from './discord';
import { Counter, Registry } from 'prom-client';
import { alertState, upsertAlert } from '../lib/data/alerts';
import { publishEvent } from '../lib/data/event-stream';
import { defaultAlertPolicy } from '../lib/config/alert-policy';
import type { MonitoringConfig } from '../lib/config/monitoring-config';
import { outboundRefusal, strictOutboundPolicy, type OutboundPolicy } from '../lib/security/outbound-policy';
import {
  alertSeverities,
  type AlertChannel,
  type AlertInput,
  type AlertPlan,
  type AlertSeverity,
  type AlertView,
} from '../contracts/monitoring';

export const alertErrorTypes = {
  notificationFailed: 'AlertNotificationFailed',
  /** The channel asked us to wait (Discord 429): retried after its delay, not dropped. */
  notificationThrottled: 'AlertNotificationThrottled',
} as const;

/** The worker's alert metrics (merged into its /metrics by workers/main.ts). */
export const alertMetricsRegistry = new Registry();
/** The health monitor's `alerts_total`: alerts that started firing, by severity (from zero for each). */
const alertsTotal = new Counter({
  name: 'alerts_total',
  help: 'Alerts that started firing (a new alert, or one resolved before and raised again), by severity',
  labelNames: ['severity'],
  registers: [alertMetricsRegistry],
});
for (const severity of alertSeverities) alertsTotal.inc({ severity }, 0);

/** The Discord webhook an alert goes to (by rule, severity or the default), or null. */
export function discordRouteOf(config: MonitoringConfig, alert: { rule?: string; severity: AlertSeverity }): DiscordRoute | null {
  return discordRouteFor({ defaultUrl: config.ALERT_DISCORD_WEBHOOK_URL, routes: config.ALERT_DISCORD_ROUTES }, alert);
}

/** The channels configured for an alert of this severity (and rule: Discord may be routed per rule). */
export function configuredChannels(config: MonitoringConfig, alert: { rule?: string; severity: AlertSeverity }): Set<AlertChannel> {
  const channels = new Set<AlertChannel>();
  if (config.ALERT_WEBHOOK_URL) channels.add('webhook');
  if (config.ALERT_SLACK_WEBHOOK_URL) channels.add('slack');
  if (discordRouteOf(config, alert)) channels.add('discord');
  if (config.ALERT_SMTP_URL && config.ALERT_EMAIL_TO) channels.add('email');
  if (config.ALERT_SMS_TO) channels.add('sms');
  return channels;
}

/** The wait before an alert of this severity takes its escalation step. */
function escalationWaitMs(config: MonitoringConfig, severity: AlertSeverity): number {
  const waits = { critical: config.ALERT_ESCALATION_CRITICAL, high: config.ALERT_ESCALATION_HIGH, medium: config.ALERT_ESCALATION_MEDIUM, low: config.ALERT_ESCALATION_LOW };
  return waits[severity];
}

/**
 * The alert's levels from the escalation table (ALERT_POLICY, default: the source monitor's):
 * level 0 is the severity's at-once channels; each `then` step adds a level after the severity's
 * wait, either more channels or a raise to another severity (its at-once channels again, then its
 * own step). Channels that are not configured are left out; a step left without channels is
 * dropped unless it raises the severity.
 */
export function planAlertFor(severity: AlertSeverity, config: MonitoringConfig, rule?: string): AlertPlan {
  const configured = configuredChannels(config, { rule, severity });
  const policy = config.ALERT_POLICY ?? defaultAlertPolicy;
  const usable = (channels: AlertChannel[]): AlertChannel[] => channels.filter((c) => configured.has(c));
  const sms = config.ALERT_SMS_TO ? { provider: config.ALERT_SMS_PROVIDER, to: config.ALERT_SMS_TO } : null;
  const levels = [usable(policy[severity].atOnce)];
  const waits: Array<number | null> = [null];
  const severities: Array<AlertSeverity | null> = [null];
  let current = severity;
  // Bounded: ALERT_POLICY is checked for raises that loop, and a severity is raised at most once each.
  for (let step = 0; step < alertSeverities.length; step++) {
    const then = policy[current].then;
    if (!then) break;
    const wait = escalationWaitMs(config, current);
    if ('severity' in then) {
      current = then.severity;
      levels.push(usable(policy[current].atOnce));
      severities.push(current);
    } else {
      const channels = usable(then.channels);
      if (channels.length > 0) {
        levels.push(channels);
        severities.push(null);
        waits.push(wait);
      }
      break;
    }
    waits.push(wait);
  }
  const nothing = levels.every((level) => level.length === 0) && severities.every((s) => s === null);
  return nothing ? { levels: [], escalateAfterMs: null, waits: [], severities: [], sms } : { levels, escalateAfterMs: waits[1] ?? null, waits, severities, sms };
}

function alertText(alert: AlertView, event: 'firing' | 'resolved'): string {
  const head = event === 'resolved' ? 'RESOLVED' : alert.severity.toUpperCase();
  return `[${head}] ${alert.summary} (${alert.id}${event === 'firing' && alert.escalationLevel > 0 ? `, escalation level ${alert.escalationLevel}` : ''})`;
}

/** Discord embed colours by severity (and green for a resolved alert). */
const DISCORD_COLOURS: Record<AlertSeverity | 'resolved', number> = {
  critical: 0xd0021b,
  high: 0xf5a623,
  medium: 0xf8e71c,
  low: 0x4a90e2,
  resolved: 0x2ecc71,
};

/**
 * Discord's execute-webhook body: the alert line as `content` (≤ 2000 characters) and one embed
 * with its fields; `allowed_mentions` empty so a summary can never ping @everyone or a role.
 */
export function discordMessage(alert: AlertView, event: 'firing' | 'resolved'): Record<string, unknown> {
  const fields = [
    { name: 'Rule', value: alert.rule, inline: true },
    { name: 'Severity', value: alert.severity, inline: true },
    { name: 'Provider', value: alert.provider ?? '-', inline: true },
    { name: 'State', value: event === 'resolved' ? 'resolved' : alert.state, inline: true },
    { name: 'Escalation level', value: String(alert.escalationLevel), inline: true },
  ].map((f) => ({ ...f, value: f.value.slice(0, 1024) }));
  return {
    content: alertText(alert, event).slice(0, 2000),
    embeds: [
      {
        title: `${event === 'resolved' ? 'Resolved' : alert.severity.toUpperCase()}: ${alert.summary}`.slice(0, 256),
        description: (event === 'resolved' && alert.resolveReason ? alert.resolveReason : alert.summary).slice(0, 4096),
        color: DISCORD_COLOURS[event === 'resolved' ? 'resolved' : alert.severity],
        fields,
        footer: { text: alert.id.slice(0, 2048) },
        timestamp: alert.startedAt,
      },
    ],
    allowed_mentions: { parse: [] },
  };
}

interface PostTarget {
  url: string;
  /** How the channel is named in errors: never the URL (Discord's and Slack's carry a token). */
  label: string;
  /** Discord: a 429 names its wait in the body and headers. */
  discord?: boolean;
}

function readJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export function createAlertActivities(deps: { pool: Pool; monitoring: MonitoringConfig; outbound?: OutboundPolicy }) {
  const { pool, monitoring } = deps;
  const outbound = deps.outbound ?? strictOutboundPolicy;
  let mailer: Transporter | undefined;
  let agent: Agent | undefined;

  /** One POST through the outbound policy; throws a typed failure that names the channel, never its URL. */
  async function postJson(target: PostTarget, body: unknown): Promise<void> {
    const { url, label } = target;
    const fail = (message: string, options: { nonRetryable?: boolean; nextRetryDelay?: number; type?: string } = {}): never => {
      throw ApplicationFailure.create({
        message: redactWebhookUrl(message, url),
        type: options.type ?? alertErrorTypes.notificationFailed,
        nonRetryable: options.nonRetryable ?? false,
        nextRetryDelay: options.nextRetryDelay,
      });
    };
    const refusal = outbound.checkUrl(url);
    if (refusal) fail(`${label}: refused by the outbound policy: ${refusal}`, { nonRetryable: true });
    agent ??= new Agent({ keepAliveTimeout: 4_000, keepAliveMaxTimeout: 10_000, connect: outbound.connector() });
    let status: number;
    let headers: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        dispatcher: agent,
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      status = res.statusCode;
      headers = res.headers;
      text = await res.body.text().catch(() => '');
    } catch (err) {
      const refused = outboundRefusal(err);
      if (refused) return fail(`${label}: ${refused.message}`, { nonRetryable: true });
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      return fail(`${label}: ${err instanceof Error ? err.message : String(err)}${cause}`);
    }
    if (status >= 200 && status < 300) return;
    const answer = readJson(text);
    const said = typeof answer === 'object' && answer !== null && typeof (answer as { message?: unknown }).message === 'string'
      ? `: ${(answer as { message: string }).message.slice(0, 200)}`
      : '';
    if (status === 429) {
      const header = headers['retry-after'];
      const delay = target.discord
        ? discordRetryAfterMs(answer, Array.isArray(header) ? header[0] : header)
        : null;
      fail(`${label} answered HTTP 429 (rate limited${delay === null ? '' : `, retry after ${delay} ms`})${said}`, {
        type: alertErrorTypes.notificationThrottled,
        nextRetryDelay: delay ?? undefined,
      });
    }
    // A 4xx other than 408/429 will not change on a retry (a deleted webhook, a bad body).
    fail(`${label} answered HTTP ${status}${said}`, { nonRetryable: status >= 400 && status < 500 && status !== 408 });
  }

  return {
    async planAlert(request: { severity: AlertSeverity; rule?: string }): Promise<AlertPlan> {
      return Promise.resolve(planAlertFor(request.severity, monitoring, request.rule));
    },

    /** Upserts the alert's row and tells the stream. */
    async saveAlert(alert: AlertView): Promise<void> {
      // Counted when it starts firing; a retried save finds the row firing already and counts nothing.
      const before = alert.state === 'firing' ? await alertState(pool, alert.id) : 'not counted';
      await upsertAlert(pool, alert);
      if (before === undefined || before === 'resolved') alertsTotal.inc({ severity: alert.severity });
      await publishEvent(pool, {
        topic: 'alert',
        tenant: null,
        data: { id: alert.id, rule: alert.rule, severity: alert.severity, provider: alert.provider ?? null, state: alert.state,
          escalationLevel: alert.escalationLevel, summary: alert.summary },
      });
    },

    /** One notification on one channel (not SMS, which is a provider call). Throws to be retried. */
    async notifyAlert(request: { channel: Exclude<AlertChannel, 'sms'>; alert: AlertView; event: 'firing' | 'resolved' }): Promise<void> {
      const { channel, alert, event } = request;
      switch (channel) {
        case 'webhook':
          await postJson({ url: monitoring.ALERT_WEBHOOK_URL!, label: 'alert webhook' }, { event, alert });
          return;
        case 'slack':
          await postJson({ url: monitoring.ALERT_SLACK_WEBHOOK_URL!, label: 'Slack webhook' }, { text: alertText(alert, event) });
          return;
        case 'discord': {
          // The route is chosen here, from the worker's configuration: the URL never enters the history.
          const route = discordRouteOf(monitoring, alert);
          if (!route) {
            throw ApplicationFailure.create({ message: `no Discord webhook for rule ${alert.rule} / severity ${alert.severity}`, type: alertErrorTypes.notificationFailed, nonRetryable: true });
          }
          await postJson({ url: route.url, label: `Discord webhook (${route.name})`, discord: true }, discordMessage(alert, event));
          return;
        }
        case 'email':
          mailer ??= nodemailer.createTransport(monitoring.ALERT_SMTP_URL);
          await mailer.sendMail({
            from: monitoring.ALERT_EMAIL_FROM,
            to: monitoring.ALERT_EMAIL_TO!,
            subject: alertText(alert, event),
            text: `${alertText(alert, event)}\n\nrule: ${alert.rule}\nseverity: ${alert.severity}\nprovider: ${alert.provider ?? '-'}\nstate: ${alert.state}\nstarted: ${alert.startedAt}\n\n${JSON.stringify(alert.details ?? {}, null, 2)}\n`,
          });
          return;
      }
    },

    /** Starts the alert, or tells the running one the condition still holds (lib/temporal/alert-runs.ts). */
    async raiseAlert(input: AlertInput): Promise<{ workflowId: string; alreadyOpen: boolean }> {
      const { client, info } = Context.current();
      return raiseAlertRun({ workflows: client.workflow, pool, taskQueue: info.taskQueue }, input);
    },

    /** Resolves the alert if one is open; nothing to do otherwise (called on every healthy probe). */
    async resolveAlert(request: { rule: string; fingerprint: string; reason: string }): Promise<{ resolved: boolean }> {
      const { resolved } = await resolveAlertRun({ workflows: Context.current().client.workflow, pool }, request);
      return { resolved };
    },
  };
}
