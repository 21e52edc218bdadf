/**
 * Alert escalation, per severity, in one table: the channels notified at once, and what follows
 * when nobody acknowledges the alert in time (ALERT_ESCALATION_<SEVERITY>). The default is the
 * source monitor's table:
 *
 * | severity | at once                      | escalation                              |
 * |----------|------------------------------|-----------------------------------------|
 * | critical | every channel, SMS included  | —                                       |
 * | high     | email + chat (Slack/Discord) | SMS after 10 minutes unacknowledged     |
 * | medium   | email + chat (Slack/Discord) | raised to high after 30 minutes, then high's row |
 * | low      | email only                   | none                                    |
 *
 * The generic alert webhook counts as chat. ALERT_POLICY (JSON, the same shape) replaces rows of
 * this table; channels that are not configured are skipped.
 */
import { z } from 'zod';
import { jsonText } from './json-text';
import { alertChannels, alertSeverities, type AlertChannel, type AlertSeverity } from '../../contracts/monitoring';

export interface SeverityPolicy {
  /** Notified as soon as the alert fires. */
  atOnce: AlertChannel[];
  /**
   * After the severity's escalation wait without an ack: notify more channels, or raise the alert
   * to another severity (whose at-once channels are notified again, and whose row applies next).
   */
  then: { channels: AlertChannel[] } | { severity: AlertSeverity } | null;
}

export type AlertPolicy = Record<AlertSeverity, SeverityPolicy>;

const chat: AlertChannel[] = ['webhook', 'slack', 'discord'];

export const defaultAlertPolicy: AlertPolicy = {
  critical: { atOnce: [...chat, 'email', 'sms'], then: null },
  high: { atOnce: [...chat, 'email'], then: { channels: ['sms'] } },
  medium: { atOnce: [...chat, 'email'], then: { severity: 'high' } },
  low: { atOnce: ['email'], then: null },
};

const channelList = z.array(z.enum(alertChannels)).max(alertChannels.length);
const severityPolicy = z.strictObject({
  atOnce: channelList,
  then: z.union([z.strictObject({ channels: channelList.min(1) }), z.strictObject({ severity: z.enum(alertSeverities) }), z.null()]),
});

/** ALERT_POLICY: `{"<severity>": {"atOnce": [...], "then": {"channels": [...]} | {"severity": "..."} | null}}`, rows replace the default's. */
export const alertPolicyOverride = jsonText('{"<severity>": {"atOnce": [...], "then": ...}}')
  .pipe(z.strictObject({ critical: severityPolicy.optional(), high: severityPolicy.optional(), medium: severityPolicy.optional(), low: severityPolicy.optional() }))
  .transform((rows): AlertPolicy => ({ ...defaultAlertPolicy, ...Object.fromEntries(Object.entries(rows).filter(([, row]) => row !== undefined)) }))
  .refine((policy) => alertSeverities.every((severity) => escalationPath(policy, severity) !== false), {
    message: 'a severity raise must not come back to a severity already on its path',
  });

/** The severities an alert of `start` passes through (start first); false when raises form a loop. */
export function escalationPath(policy: AlertPolicy, start: AlertSeverity): AlertSeverity[] | false {
  const path: AlertSeverity[] = [start];
  for (let then = policy[start].then; then && 'severity' in then; then = policy[then.severity].then) {
    if (path.includes(then.severity)) return false;
    path.push(then.severity);
  }
  return path;
}
