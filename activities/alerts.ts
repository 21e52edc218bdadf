/**
 * The alert activities: plan an alert's channel levels and escalation wait from the worker's
 * configuration (so tests can make minutes into seconds), save its state for the API and the
 * stream, send one notification (generic webhook, Slack-compatible webhook, email over SMTP; SMS
 * goes through the provider-call workflow instead), and raise or resolve an alert workflow by its
 * id (`alert:{rule}:{fingerprint}`) with signal-with-start, so a condition already alerting never
 * alerts twice.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Pool } from 'pg';
import { publishEvent } from '../lib/events';
import type { MonitoringConfig } from '../lib/monitoring-config';
import {
  alertWorkflowId,
  raiseAlertSignal,
  resolveAlertSignal,
  type AlertChannel,
  type AlertInput,
  type AlertPlan,
  type AlertSeverity,
  type AlertView,
} from '../workflows/monitoring-types';

export const alertErrorTypes = { notificationFailed: 'AlertNotificationFailed' } as const;

/** Escalation order: chat first, then mail, then a phone. */
const CHANNEL_LEVELS: readonly AlertChannel[][] = [['webhook', 'slack'], ['email'], ['sms']];

export function configuredChannels(config: MonitoringConfig): Set<AlertChannel> {
  const channels = new Set<AlertChannel>();
  if (config.ALERT_WEBHOOK_URL) channels.add('webhook');
  if (config.ALERT_SLACK_WEBHOOK_URL) channels.add('slack');
  if (config.ALERT_SMTP_URL && config.ALERT_EMAIL_TO) channels.add('email');
  if (config.ALERT_SMS_TO) channels.add('sms');
  return channels;
}

/** critical: every level at once; high/medium: one level per wait; low: the first level only. */
export function planAlertFor(severity: AlertSeverity, config: MonitoringConfig): AlertPlan {
  const configured = configuredChannels(config);
  const levels = CHANNEL_LEVELS.map((level) => level.filter((c) => configured.has(c))).filter((level) => level.length > 0);
  const sms = config.ALERT_SMS_TO ? { provider: config.ALERT_SMS_PROVIDER, to: config.ALERT_SMS_TO } : null;
  switch (severity) {
    case 'critical':
      return { levels: levels.length > 0 ? [levels.flat()] : [], escalateAfterMs: null, sms };
    case 'high':
      return { levels, escalateAfterMs: config.ALERT_ESCALATION_HIGH, sms };
    case 'medium':
      return { levels, escalateAfterMs: config.ALERT_ESCALATION_MEDIUM, sms };
    case 'low':
      return { levels: levels.slice(0, 1), escalateAfterMs: null, sms };
  }
}

function alertText(alert: AlertView, event: 'firing' | 'resolved'): string {
  const head = event === 'resolved' ? 'RESOLVED' : alert.severity.toUpperCase();
  return `[${head}] ${alert.summary} (${alert.id}${event === 'firing' && alert.escalationLevel > 0 ? `, escalation level ${alert.escalationLevel}` : ''})`;
}

async function postJson(url: string, body: unknown, channel: string): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer().catch(() => undefined);
  if (!res.ok) {
    throw ApplicationFailure.create({ message: `${channel} answered HTTP ${res.status}`, type: alertErrorTypes.notificationFailed });
  }
}

export function createAlertActivities(deps: { pool: Pool; monitoring: MonitoringConfig }) {
  const { pool, monitoring } = deps;
  let mailer: Transporter | undefined;

  return {
    async planAlert(request: { severity: AlertSeverity }): Promise<AlertPlan> {
      return Promise.resolve(planAlertFor(request.severity, monitoring));
    },

    /** Upserts the alert's row and tells the stream. */
    async saveAlert(alert: AlertView): Promise<void> {
      await pool.query(
        `INSERT INTO alerts (id, run_id, rule, fingerprint, severity, provider, summary, state, escalation_level, notifications,
                             acknowledged_by, started_at, acknowledged_at, resolved_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (id) DO UPDATE SET run_id = EXCLUDED.run_id, severity = EXCLUDED.severity, summary = EXCLUDED.summary,
           state = EXCLUDED.state, escalation_level = EXCLUDED.escalation_level, notifications = EXCLUDED.notifications,
           acknowledged_by = EXCLUDED.acknowledged_by, started_at = EXCLUDED.started_at,
           acknowledged_at = EXCLUDED.acknowledged_at, resolved_at = EXCLUDED.resolved_at, updated_at = now()`,
        [alert.id, alert.runId, alert.rule, alert.fingerprint, alert.severity, alert.provider ?? null, alert.summary, alert.state,
          alert.escalationLevel, JSON.stringify(alert.notifications), alert.acknowledgedBy, alert.startedAt, alert.acknowledgedAt,
          alert.resolvedAt],
      );
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
          await postJson(monitoring.ALERT_WEBHOOK_URL!, { event, alert }, 'alert webhook');
          return;
        case 'slack':
          await postJson(monitoring.ALERT_SLACK_WEBHOOK_URL!, { text: alertText(alert, event) }, 'Slack webhook');
          return;
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

    /** Starts the alert, or tells the running one the condition still holds. */
    async raiseAlert(input: AlertInput): Promise<{ workflowId: string; alreadyOpen: boolean }> {
      const { client, info } = Context.current();
      const workflowId = alertWorkflowId(input.rule, input.fingerprint);
      // A probe every 30 s while a provider is down must not add a signal every 30 s to its alert.
      const open = await pool.query('SELECT 1 FROM alerts WHERE id = $1 AND state <> $2', [workflowId, 'resolved']);
      if (open.rows.length > 0) return { workflowId, alreadyOpen: true };
      await client.workflow.signalWithStart('alert', {
        workflowId,
        taskQueue: info.taskQueue,
        args: [input],
        signal: raiseAlertSignal,
        signalArgs: [{ summary: input.summary, details: input.details }],
      });
      return { workflowId, alreadyOpen: false };
    },

    /** Resolves the alert if one is open; nothing to do otherwise. */
    async resolveAlert(request: { rule: string; fingerprint: string; reason: string }): Promise<{ resolved: boolean }> {
      const workflowId = alertWorkflowId(request.rule, request.fingerprint);
      const { rows } = await pool.query('SELECT 1 FROM alerts WHERE id = $1 AND state <> $2', [workflowId, 'resolved']);
      if (rows.length === 0) return { resolved: false };
      try {
        await Context.current().client.workflow.getHandle(workflowId).signal(resolveAlertSignal, { reason: request.reason });
        return { resolved: true };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { resolved: false };
        throw err;
      }
    },
  };
}
