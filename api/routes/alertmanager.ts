/**
 * Alertmanager's receiver: `POST /alerts/alertmanager` takes its webhook_config payload (version 4)
 * and raises or resolves one Switchyard alert per Prometheus alert, through the same `alert`
 * workflows the probes and SLA reports use (lib/temporal/alert-runs.ts), so one alert path notifies and
 * escalates everything. A Prometheus alert is the Switchyard alert
 * `alert:alertmanager:{alertname}:{fingerprint}` (Alertmanager's fingerprint is a hash of the
 * alert's labels, so it names the same condition each time it is sent). Authenticated like every
 * service route (Alertmanager sends an API key as its Bearer credential); a payload that does not
 * validate raises nothing and answers 400 with the reason (Alertmanager does not retry a 4xx);
 * 503 when Temporal is unreachable (Alertmanager retries).
 */
import type { Request, Response } from 'express';
import type { Pool } from 'pg';
import type { z } from 'zod';
import { raiseAlertRun, resolveAlertRun } from '../../lib/temporal/alert-runs';
import type { Config } from '../../lib/config/config';
import type { Logger } from '../../lib/logger';
import { alertWorkflowId, type AlertInput, type AlertSeverity } from '../../contracts/monitoring';
import { principalOf } from '../auth';
import { sendError, zodFieldErrors } from '../errors';
import { answer, defineRoute, failure, routeGroup } from '../route';
import { alertmanagerAnswer, alertmanagerBody } from '../schemas';
import { sendStartFailure } from '../start-failure';
import type { WorkflowStarter } from '../../lib/temporal/workflow-starter';

export interface AlertmanagerRouteDeps {
  config: Config;
  workflows: WorkflowStarter;
  pool: Pool;
  logger: Logger;
}

type AlertmanagerPayload = z.infer<typeof alertmanagerBody>;
type AlertmanagerAlert = AlertmanagerPayload['alerts'][number];

/** Switchyard alert rules raised from Alertmanager start with this (the alerts_firing metric can tell them apart). */
export const ALERTMANAGER_RULE_PREFIX = 'alertmanager:';

/** The severity of an alert whose `severity` label is missing or unknown: urgent enough to escalate, not to page at once. */
export const DEFAULT_ALERTMANAGER_SEVERITY: AlertSeverity = 'high';

/** Common `severity` label values (case-insensitive) onto Switchyard's four severities. */
const SEVERITY_NAMES = new Map<string, AlertSeverity>([
  ...(['critical', 'page', 'emergency', 'fatal'] as const).map((name) => [name, 'critical'] as const),
  ...(['high', 'error', 'major'] as const).map((name) => [name, 'high'] as const),
  ...(['medium', 'warning', 'warn', 'minor'] as const).map((name) => [name, 'medium'] as const),
  ...(['low', 'info', 'informational', 'notice', 'none'] as const).map((name) => [name, 'low'] as const),
]);

export function severityFromLabel(label: string | undefined): AlertSeverity {
  return SEVERITY_NAMES.get(label?.trim().toLowerCase() ?? '') ?? DEFAULT_ALERTMANAGER_SEVERITY;
}

/** The Switchyard alert one Alertmanager alert stands for. */
export function alertInputFrom(alert: AlertmanagerAlert, payload: Pick<AlertmanagerPayload, 'receiver' | 'externalURL'>, raisedBy?: string): AlertInput {
  const { alertname, ...labels } = alert.labels;
  const summary = alert.annotations.summary ?? alert.annotations.description ?? alertname;
  return {
    rule: `${ALERTMANAGER_RULE_PREFIX}${alertname}`,
    fingerprint: alert.fingerprint,
    severity: severityFromLabel(labels.severity),
    summary: summary.slice(0, 500),
    ...(labels.provider ? { provider: labels.provider } : {}),
    details: {
      source: 'alertmanager',
      receiver: payload.receiver,
      labels: alert.labels,
      annotations: alert.annotations,
      startsAt: alert.startsAt,
      generatorURL: alert.generatorURL,
      externalURL: payload.externalURL,
      ...(raisedBy ? { raisedBy } : {}),
    },
  };
}

/** What the receiver needs. */
function alertmanagerContext({ config, workflows, pool, logger }: AlertmanagerRouteDeps) {
  return { config, workflows, pool, logger };
}

type AlertmanagerContext = ReturnType<typeof alertmanagerContext>;
const route = defineRoute<AlertmanagerContext>();

export const alertmanagerReceiver = route({
  method: 'POST',
  path: '/alerts/alertmanager',
  permission: 'alerts:raise',
  summary: "Alertmanager's webhook receiver (payload version 4): raise (firing) or resolve (resolved) one alert workflow per alert, `alert:alertmanager:{alertname}:{fingerprint}`",
  tag: 'monitoring',
  body: alertmanagerBody,
  bodyLimit: '2mb',
  responses: {
    202: answer('raised or resolved (per alert: raised, already_open, resolved or not_open)', alertmanagerAnswer),
    400: failure('not an Alertmanager version 4 payload (fields named); nothing raised'),
    413: failure('body over 2 MB'),
    503: failure('Temporal unreachable: retry later'),
  },
  async handler(req: Request, res: Response, { config, workflows, pool, logger }) {
    const parsed = alertmanagerBody.safeParse(req.body ?? undefined);
    if (!parsed.success) {
      sendError(res, 400, 'invalid_request', 'not an Alertmanager webhook payload (version 4); nothing raised', zodFieldErrors(parsed.error));
      return;
    }
    const payload = parsed.data;
    const principal = principalOf(res);
    const raisedBy = principal && `${principal.kind} ${principal.id} (tenant ${principal.tenant})`;
    const answers: z.infer<typeof alertmanagerAnswer>['alerts'] = [];
    let current = '';
    try {
      for (const alert of payload.alerts) {
        const input = alertInputFrom(alert, payload, raisedBy);
        current = alertWorkflowId(input.rule, input.fingerprint);
        const deadline = Date.now() + config.TEMPORAL_START_TIMEOUT_MS;
        if (alert.status === 'firing') {
          const raised = await workflows.withDeadline(deadline, () =>
            raiseAlertRun({ workflows, pool, taskQueue: config.TEMPORAL_TASK_QUEUE }, input),
          );
          answers.push({ id: raised.workflowId, status: 'firing', severity: input.severity, outcome: raised.alreadyOpen ? 'already_open' : 'raised' });
        } else {
          const reason = `Alertmanager: resolved${alert.endsAt.startsWith('0001-') ? '' : ` at ${alert.endsAt}`}`;
          const done = await workflows.withDeadline(deadline, () =>
            resolveAlertRun({ workflows, pool }, { rule: input.rule, fingerprint: input.fingerprint, reason }, 'signal'),
          );
          answers.push({ id: done.workflowId, status: 'resolved', severity: input.severity, outcome: done.resolved ? 'resolved' : 'not_open' });
        }
      }
    } catch (err) {
      // PostgreSQL errors carry a string code: the last-resort handler answers 500 (Alertmanager retries).
      if (typeof (err as { code?: unknown } | null)?.code === 'string') throw err;
      sendStartFailure(res, err, logger, current);
      return;
    }
    if (answers.length === 1) res.locals.workflowId = answers[0]!.id;
    res.status(202).json({ alerts: answers });
  },
});

export const alertmanagerRoutes = routeGroup({
  context: alertmanagerContext,
  routes: [alertmanagerReceiver],
});
