/**
 * Operator endpoints over webhook events, tenant-scoped: list (PostgreSQL ledger, plus events
 * Temporal visibility shows in flight but not yet in the ledger), detail (workflow status, ledger
 * summary, deliveries), and retry of a failed event (same workflow id, a new run).
 */
import type { Request, Response } from 'express';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import { deliveriesOfEvent } from '../../lib/data/deliveries';
import { listWebhookEvents, webhookEventOfWorkflow, type LedgerRow } from '../../lib/data/webhook-events';
import type { Logger } from '../../lib/logger';
import { eventTypeKey, providerKey, tenantKey } from '../../contracts/search-attributes';
import { webhookStatusQuery, type WebhookEvent } from '../../contracts/webhook';
import { answer, defineRoute, failure, routeGroup } from '../route';
import * as s from '../schemas';
import { eventsQuery } from '../schemas';
import { sendError, zodFieldErrors } from '../errors';
import { unknownIfUnstorable } from '../route-input';
import { sendStartFailure } from '../start-failure';
import { requireTenant, workflowBelongsTo } from '../tenant';
import { sendViewFailure, viewWorkflow } from '../workflow-view';
import { startWebhook } from '../../lib/temporal/start-work';
import type { WorkflowStarter } from '../../lib/temporal/workflow-starter';

export interface WebhookEventRouteDeps {
  config: Config;
  workflows: WorkflowStarter;
  pool: Pool;
  logger: Logger;
}

function payloadSummaryOf(row: LedgerRow) {
  // Same shape as an unpruned summary (the console reads fields and bytes), flagged as pruned.
  if (row.payload === null) return { fields: [], bytes: 0, pruned: true, prunedAt: row.payload_pruned_at?.toISOString() ?? null };
  return { fields: Object.keys(row.payload), bytes: JSON.stringify(row.payload).length };
}

function eventSummary(row: LedgerRow) {
  return {
    workflowId: row.workflow_id,
    provider: row.provider,
    eventId: row.event_id,
    eventType: row.event_type,
    status: row.status,
    outcome: row.outcome,
    lastError: row.last_error,
    receivedAt: row.received_at.toISOString(),
    completedAt: row.completed_at?.toISOString() ?? null,
  };
}

/** Visibility queries take literal values: keep them to a safe alphabet. */
function quoted(value: string): string {
  return `'${value.replace(/[^A-Za-z0-9_.:-]/g, '')}'`;
}

/** What the webhook event handlers share. */
function webhookEventContext({ config, workflows, pool, logger }: WebhookEventRouteDeps) {
  const tenantOrFail = (req: Request, res: Response) => requireTenant(req, res, config);

  function ledgerRow(tenant: string, workflowId: string): Promise<LedgerRow | undefined> {
    return webhookEventOfWorkflow(pool, tenant, workflowId);
  }

  return { config, workflows, pool, logger, tenantOrFail, ledgerRow };
}

type WebhookEventContext = ReturnType<typeof webhookEventContext>;
const route = defineRoute<WebhookEventContext>();

export const listEvents = route({
  method: 'GET',
  path: '/webhooks/events',
  permission: 'events:read',
  summary: 'Webhook events from the ledger, plus accepted ones still in flight',
  tag: 'webhook events',
  query: eventsQuery,
  responses: { 200: answer('events, newest first', s.eventList), 400: failure('invalid filter (fields named)') },
  async handler(req: Request, res: Response, { config, workflows, pool, logger, tenantOrFail }) {
    const tenant = tenantOrFail(req, res);
    if (!tenant) return;
    const parsed = eventsQuery.safeParse(req.query);
    if (!parsed.success) return sendError(res, 400, 'invalid_request', 'invalid filters', zodFieldErrors(parsed.error));
    const q = parsed.data;
    const { rows, total: ledgerTotal } = await listWebhookEvents(pool, tenant, q);
    const events: Array<ReturnType<typeof eventSummary>> = rows.map(eventSummary);
    // Accepted but not yet recorded (e.g. no worker running): only Temporal knows about these;
    // they are listed (and counted) on the first page only.
    if ((q.status === undefined || q.status === 'received') && q.offset === 0) {
      const known = new Set(rows.map((r) => r.workflow_id));
      const filters = [
        `WorkflowType = 'processWebhook'`,
        `ExecutionStatus = 'Running'`,
        `${tenantKey.name} = ${quoted(tenant)}`,
        ...(q.provider ? [`${providerKey.name} = ${quoted(q.provider)}`] : []),
        ...(q.type ? [`${eventTypeKey.name} = ${quoted(q.type)}`] : []),
      ];
      try {
        await workflows.withDeadline(Date.now() + config.TEMPORAL_START_TIMEOUT_MS, async () => {
          for await (const wf of workflows.list({ query: filters.join(' AND '), pageSize: q.limit })) {
            if (known.has(wf.workflowId)) continue;
            const [, , provider = '', eventId = ''] = wf.workflowId.split(':');
            events.push({
              workflowId: wf.workflowId,
              provider,
              eventId,
              eventType: String(wf.searchAttributes?.[eventTypeKey.name]?.[0] ?? ''),
              status: 'received',
              outcome: null,
              lastError: null,
              receivedAt: wf.startTime.toISOString(),
              completedAt: null,
            });
            if (events.length >= q.limit) break;
          }
        });
      } catch (err) {
        logger.warn({ err }, 'visibility list failed; answering from the ledger only');
      }
    }
    const page = events.slice(0, q.limit);
    res.json({ events: page, total: ledgerTotal + (page.length - Math.min(rows.length, page.length)) });
  },
});

export const getEvent = route({
  method: 'GET',
  path: '/webhooks/events/:workflowId',
  permission: 'events:read',
  summary: "An event's workflow status, ledger summary and deliveries",
  tag: 'webhook events',
  responses: { 200: answer('the event', s.workflowView), 404: failure('no such event in this tenant') },
  async handler(req: Request<{ workflowId: string }>, res: Response, { config, workflows, pool, logger, tenantOrFail, ledgerRow }) {
    const tenant = tenantOrFail(req, res);
    if (!tenant) return;
    const { workflowId } = req.params;
    if (!workflowBelongsTo(workflowId, tenant)) return sendError(res, 404, 'not_found', `no workflow with id ${workflowId}`);
    // Accepted, not started yet: the row waits in the inbox (no worker draining, Temporal down),
    // and the ledger alone answers.
    const queued = await ledgerRow(tenant, workflowId);
    if (queued && queued.started_at === null) {
      res.json({
        workflowId,
        runId: null,
        executionStatus: 'QUEUED',
        startTime: null,
        closeTime: null,
        status: 'received',
        ledger: { ...eventSummary(queued), payloadSummary: payloadSummaryOf(queued) },
        deliveries: [],
      });
      return;
    }
    try {
      const view = await viewWorkflow(workflows, workflowId, webhookStatusQuery, config.TEMPORAL_START_TIMEOUT_MS, logger);
      const row = queued;
      const deliveries = await deliveriesOfEvent(pool, { tenant, provider: row?.provider ?? '', eventId: row?.event_id ?? '' });
      res.json({
        ...view,
        ledger: row
          ? { ...eventSummary(row), payloadSummary: payloadSummaryOf(row) }
          : null,
        deliveries,
      });
    } catch (err) {
      sendViewFailure(res, err, logger, workflowId);
    }
  },
});

export const retryEvent = route({
  method: 'POST',
  path: '/webhooks/events/:workflowId/retry',
  permission: 'events:replay',
  audit: 'event.retry',
  summary: 'Re-run a failed event under the same id',
  tag: 'webhook events',
  responses: { 202: answer('started again', s.rerunAnswer), 404: failure('no such event in this tenant'), 409: failure('the event did not fail') },
  async handler(req: Request<{ workflowId: string }>, res: Response, { config, workflows, logger, tenantOrFail, ledgerRow }) {
    const tenant = tenantOrFail(req, res);
    if (!tenant) return;
    const { workflowId } = req.params;
    const row = workflowBelongsTo(workflowId, tenant) ? await ledgerRow(tenant, workflowId) : undefined;
    if (!row) return sendError(res, 404, 'not_found', `no webhook event with workflow id ${workflowId}`);
    if (row.status !== 'failed') return sendError(res, 409, 'not_failed', `the event is ${row.status}; only failed events are retried`);
    if (row.payload === null) return sendError(res, 409, 'pruned', 'the event body was pruned by retention; it cannot be retried');
    const event: WebhookEvent = {
      tenant,
      provider: row.provider,
      eventId: row.event_id,
      eventType: row.event_type,
      receivedAt: row.received_at.toISOString(),
      payload: row.payload,
    };
    try {
      const started = await startWebhook(workflows, config, event, 'failedOnly');
      res.status(202).json({ workflowId, runId: started.runId, rerun: started.started });
    } catch (err) {
      sendStartFailure(res, err, logger, workflowId);
    }
  },
});

export const webhookEventRoutes = routeGroup({
  context: webhookEventContext,
  params: { workflowId: unknownIfUnstorable('webhook event') },
  routes: [listEvents, getEvent, retryEvent],
});
