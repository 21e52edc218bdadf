/**
 * The `alert` workflow (id `alert:{rule}:{fingerprint}`): notify the channels its severity calls
 * for, escalate to the next level on durable timers until acknowledged (signal `ack`), and
 * finish when the condition clears (signal `resolve`). The levels, their waits and any severity
 * raise come from the escalation table (planAlert, lib/config/alert-policy.ts). SMS is a
 * `providerCall` child, so it gets the outbound-call path's policies, circuit and failover.
 */
import {
  condition,
  executeChild,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import {
  ackAlertSignal,
  alertStatusQuery,
  raiseAlertSignal,
  resolveAlertSignal,
  type AlertChannel,
  type AlertInput,
  type AlertNotification,
  type AlertPlan,
  type AlertView,
} from '../contracts/monitoring';
import { startAttributes } from '../contracts/search-attributes';
import { localActivityOptions, remoteActivityOptions } from './policies';
import { providerCall } from './provider-calls';
import { failureOf } from './steps';

type Activities = ReturnType<typeof createActivities>;

const { planAlert } = proxyLocalActivities<Activities>(localActivityOptions('planAlert'));
const { saveAlert } = proxyLocalActivities<Activities>(localActivityOptions('saveAlert'));
const { notifyAlert } = proxyActivities<Activities>(remoteActivityOptions('notifyAlert'));

/** Tenant under which alert SMS are charged and recorded. */
export const ALERT_TENANT = 'system';

async function notify(view: AlertView, plan: AlertPlan, channel: AlertChannel, level: number, event: 'firing' | 'resolved'): Promise<AlertNotification> {
  const snapshot = JSON.parse(JSON.stringify(view)) as AlertView; // the view changes while this is in flight
  try {
    if (channel === 'sms') {
      // From the input and run id (not workflowInfo().workflowId): unique per run, readable, replay-stable.
      const { runId } = workflowInfo();
      await executeChild(providerCall, {
        workflowId: `call:${ALERT_TENANT}:${plan.sms!.provider}:alert:${view.rule}:${view.fingerprint}:${runId}:${event}:${level}`,
        args: [
          {
            tenant: ALERT_TENANT,
            provider: plan.sms!.provider,
            operation: 'sendSms',
            params: { to: plan.sms!.to, body: `[${event === 'resolved' ? 'RESOLVED' : view.severity.toUpperCase()}] ${view.summary}`.slice(0, 320) },
            priority: 'critical',
          },
        ],
        typedSearchAttributes: startAttributes('providerCall', { tenant: ALERT_TENANT, provider: plan.sms!.provider }),
      });
    } else {
      await notifyAlert({ channel, alert: snapshot, event });
    }
    return { channel, level, event, ok: true, error: null, at: new Date().toISOString() };
  } catch (err) {
    // A channel that keeps failing must not stop the others or the alert itself.
    return { channel, level, event, ok: false, error: failureOf(err).message, at: new Date().toISOString() };
  }
}

export async function alert(input: AlertInput): Promise<AlertView> {
  const { workflowId, runId } = workflowInfo();
  const view: AlertView = {
    ...input,
    id: workflowId,
    runId,
    state: 'firing',
    escalationLevel: 0,
    acknowledgedAtLevel: null,
    acknowledgedBy: null,
    startedAt: new Date().toISOString(),
    acknowledgedAt: null,
    resolvedAt: null,
    resolveReason: null,
    notifications: [],
  };
  let acknowledged = false;
  let resolved = false;
  setHandler(alertStatusQuery, () => view);
  setHandler(raiseAlertSignal, ({ summary, details }) => {
    view.summary = summary;
    if (details) view.details = details;
  });
  setHandler(ackAlertSignal, ({ by }) => {
    if (acknowledged || resolved) return;
    acknowledged = true;
    view.state = 'acknowledged';
    view.acknowledgedBy = by;
    view.acknowledgedAt = new Date().toISOString();
    view.acknowledgedAtLevel = view.escalationLevel;
  });
  setHandler(resolveAlertSignal, ({ reason }) => {
    if (resolved) return;
    resolved = true;
    view.resolveReason = reason;
  });

  const plan = await planAlert({ severity: input.severity, rule: input.rule });
  await saveAlert(view);

  const notifyLevel = async (level: number, event: 'firing' | 'resolved'): Promise<void> => {
    const sent = await Promise.all((plan.levels[level] ?? []).map((channel) => notify(view, plan, channel, level, event)));
    view.notifications.push(...sent);
    await saveAlert(view);
  };

  if (plan.levels.length > 0 && !resolved) await notifyLevel(0, 'firing');

  // Escalation: one more level per wait, measured from the last escalation, until acked or resolved.
  // Plans from before the escalation table have no `waits`: one wait for every level.
  const waitBefore = (level: number): number | null => (plan.waits ? (plan.waits[level] ?? null) : plan.escalateAfterMs);
  let nextEscalationAt = Date.now() + (waitBefore(1) ?? 0);
  let savedAck = false;
  while (!resolved) {
    const canEscalate = !acknowledged && view.escalationLevel < plan.levels.length - 1 && waitBefore(view.escalationLevel + 1) !== null;
    const done = (): boolean => resolved || (acknowledged && !savedAck);
    const changed = canEscalate ? await condition(done, Math.max(1, nextEscalationAt - Date.now())) : (await condition(done), true);
    if (acknowledged && !savedAck) {
      savedAck = true;
      await saveAlert(view);
      continue;
    }
    if (!changed && canEscalate && !acknowledged) {
      view.escalationLevel++;
      // A raise (medium → high) shows in the alert's severity from this level on.
      view.severity = plan.severities?.[view.escalationLevel] ?? view.severity;
      nextEscalationAt = Date.now() + (waitBefore(view.escalationLevel + 1) ?? 0);
      await notifyLevel(view.escalationLevel, 'firing');
    }
  }

  view.state = 'resolved';
  view.resolvedAt = new Date().toISOString();
  await saveAlert(view);
  if (plan.levels.length > 0) await notifyLevel(0, 'resolved');
  return view;
}
