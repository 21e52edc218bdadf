/**
 * Subscribers and their deliveries: internal services register a URL (with optional provider and
 * event-type filters) and receive every matching event signed with Standard Webhooks. The
 * signing secret is shown once, at creation. Replays re-run deliverEvent under the same id.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import type { Logger } from '../../lib/logger';
import { outboundPolicyOf } from '../../lib/security/outbound-policy';
import { NoKeyringError } from '../../lib/security/secret-box';
import { sealSubscriberSecret } from '../../lib/security/stored-secrets';
import * as deliveryData from '../../lib/data/deliveries';
import * as subscriberData from '../../lib/data/subscribers';
import { matchesFilter, type SubscriberRow } from '../../lib/data/subscribers';
import { completedWebhookEventsSince } from '../../lib/data/webhook-events';
import { deliveryStatusQuery, deliveryWorkflowId, type DeliveryInput } from '../../contracts/delivery';
import { startAttributes } from '../../contracts/search-attributes';
import * as s from '../schemas';
import { deliveriesQuery, sinceQuery, subscriberBody, subscriberPatch } from '../schemas';
import { noteAudit } from '../audit-middleware';
import { sendError, zodFieldErrors } from '../errors';
import { answer, defineRoute, failure, routeGroup } from '../route';
import { unknownIfUnstorable } from '../route-input';
import { sendStartFailure } from '../start-failure';
import { requireTenant } from '../tenant';
import type { WorkflowStarter } from '../../lib/temporal/workflow-starter';

export interface SubscriberRouteDeps {
  config: Config;
  workflows: WorkflowStarter;
  pool: Pool;
  logger: Logger;
}

function publicSubscriber(row: SubscriberRow) {
  return {
    id: row.id,
    url: row.url,
    providers: row.providers,
    eventTypes: row.event_types,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    createdAt: row.created_at.toISOString(),
  };
}

/** What the subscriber and delivery handlers share. */
function subscriberContext({ config, workflows, pool, logger }: SubscriberRouteDeps) {
  const tenantOrFail = (req: Request, res: Response) => requireTenant(req, res, config);
  // SSRF policy: a URL the worker would refuse to call is refused here, before anything is stored.
  const outbound = outboundPolicyOf(config);

  function findSubscriber(tenant: string, id: string): Promise<SubscriberRow | undefined> {
    return subscriberData.findSubscriber(pool, tenant, id);
  }

  /**
   * When each retrying delivery's next attempt is due, by id: asked of its open deliverEvent
   * workflow (status query), all at once within the Temporal timeout. Cheaper than it looks: only
   * the retrying rows of one page are asked, and it is the only correct source (the wait depends on
   * the worker's retry schedule and on replays, which the row does not record). Unanswered: absent.
   */
  async function nextAttemptsOf(ids: string[]): Promise<Map<string, string>> {
    const due = new Map<string, string>();
    const deadline = Date.now() + config.TEMPORAL_START_TIMEOUT_MS;
    await Promise.all(
      ids.map((id) =>
        workflows
          .withDeadline(deadline, () => workflows.getHandle(id).query(deliveryStatusQuery))
          .then((status) => {
            if (status.nextAttemptAt) due.set(id, status.nextAttemptAt);
          })
          .catch((err: unknown) => logger.debug({ err, deliveryId: id }, 'delivery status query failed')),
      ),
    );
    return due;
  }

  /**
   * Starts (or re-runs) one delivery; answers nothing itself. An open run is joined, not doubled:
   * a replay of a delivery still retrying is that delivery. But a run whose outcome is already
   * recorded (its row is no longer pending) is only closing: its last workflow task is not yet
   * complete (for up to a task timeout when a worker lost it). A replay joined to it would be
   * swallowed, so it waits for that run to close, as long as a call waits for its result
   * (CALL_WAIT_MS), and then starts again.
   */
  async function startDelivery(input: DeliveryInput) {
    const start = () =>
      workflows.startIdempotent('deliverEvent', {
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        workflowId: input.deliveryId,
        args: [input],
        typedSearchAttributes: startAttributes('deliverEvent', input),
        timeoutMs: config.TEMPORAL_START_TIMEOUT_MS,
        rerun: 'closed',
      });
    const first = await start();
    if (first.started) return first;
    const status = await deliveryData.deliveryStatus(pool, input.deliveryId);
    if (status === undefined || status === 'pending') return first;
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      workflows.getHandle(input.deliveryId, first.runId).result().then(() => true, () => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), config.CALL_WAIT_MS))),
    ]);
    clearTimeout(timer);
    return closed ? start() : first;
  }

  return { config, pool, logger, tenantOrFail, outbound, findSubscriber, startDelivery, nextAttemptsOf };
}

type SubscriberContext = ReturnType<typeof subscriberContext>;
const route = defineRoute<SubscriberContext>();

export const createSubscriber = route({
  method: 'POST',
  path: '/subscribers',
  permission: 'subscribers:write',
  audit: 'subscriber.create',
  summary: 'Register a subscriber; its signing secret is in this answer only',
  tag: 'subscribers',
  body: subscriberBody,
  bodyLimit: '64kb',
  responses: { 201: answer('registered', s.subscriberCreated), 400: failure('invalid subscriber (fields named)') },
  async handler(req: Request, res: Response, { config, pool, tenantOrFail, outbound }) {
    const tenant = tenantOrFail(req, res);
    if (!tenant) return;
    const body = subscriberBody.safeParse(req.body ?? {});
    if (!body.success) {
      sendError(res, 400, 'invalid_request', 'invalid subscriber', zodFieldErrors(body.error));
      return;
    }
    const refused = outbound.checkUrl(body.data.url);
    if (refused) return sendError(res, 400, 'invalid_request', `subscriber URL refused: ${refused}`, { url: refused });
    const id = `sub_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    const signingSecret = `whsec_${randomBytes(24).toString('base64')}`;
    let sealed;
    try {
      // Stored encrypted (envelope under SECRETS_MASTER_KEYS, bound to this tenant and id).
      sealed = sealSubscriberSecret(config.SECRETS_MASTER_KEYS, tenant, id, signingSecret);
    } catch (err) {
      if (err instanceof NoKeyringError) return sendError(res, 503, 'secrets_unavailable', err.message);
      throw err;
    }
    const row = await subscriberData.insertSubscriber(pool, { id, tenant, url: body.data.url, providers: body.data.providers, eventTypes: body.data.eventTypes }, sealed);
    // The URL's host only: a path or query can hold a token.
    noteAudit(res, { target: id, detail: { host: new URL(body.data.url).host, providers: body.data.providers, eventTypes: body.data.eventTypes } });
    // The only time the secret is shown: the subscriber needs it to verify deliveries.
    res.status(201).json({ ...publicSubscriber(row), signingSecret });
  },
});

export const listSubscribers = route({
  method: 'GET',
  path: '/subscribers',
  permission: 'subscribers:read',
  summary: "The tenant's subscribers",
  tag: 'subscribers',
  responses: { 200: answer('subscribers', s.subscriberList) },
  async handler(req: Request, res: Response, { pool, tenantOrFail }) {
    const tenant = tenantOrFail(req, res);
    if (!tenant) return;
    const rows = await subscriberData.listSubscribers(pool, tenant);
    res.json({ subscribers: rows.map(publicSubscriber) });
  },
});

export const getSubscriber = route({
  method: 'GET',
  path: '/subscribers/:id',
  permission: 'subscribers:read',
  summary: 'One subscriber',
  tag: 'subscribers',
  responses: { 200: answer('the subscriber', s.subscriber), 404: failure('no such subscriber in this tenant') },
  async handler(req: Request<{ id: string }>, res: Response, { tenantOrFail, findSubscriber }) {
    const tenant = tenantOrFail(req, res);
    if (!tenant) return;
    const row = await findSubscriber(tenant, req.params.id);
    if (!row) return sendError(res, 404, 'not_found', `no subscriber ${req.params.id}`);
    res.json(publicSubscriber(row));
  },
});

export const updateSubscriber = route({
  method: 'PATCH',
  path: '/subscribers/:id',
  permission: 'subscribers:write',
  audit: 'subscriber.update',
  summary: 'Change a subscriber (url, filters, enabled)',
  tag: 'subscribers',
  body: subscriberPatch,
  bodyLimit: '64kb',
  responses: { 200: answer('changed', s.subscriber), 400: failure('invalid change (fields named)'), 404: failure('no such subscriber in this tenant') },
  async handler(req: Request<{ id: string }>, res: Response, { pool, tenantOrFail, outbound }) {
    const tenant = tenantOrFail(req, res);
    if (!tenant) return;
    const body = subscriberPatch.safeParse(req.body ?? {});
    if (!body.success) return sendError(res, 400, 'invalid_request', 'invalid subscriber change', zodFieldErrors(body.error));
    const refused = body.data.url === undefined ? null : outbound.checkUrl(body.data.url);
    if (refused) return sendError(res, 400, 'invalid_request', `subscriber URL refused: ${refused}`, { url: refused });
    const row = await subscriberData.updateSubscriber(pool, tenant, req.params.id, body.data);
    if (!row) return sendError(res, 404, 'not_found', `no subscriber ${req.params.id}`);
    // The fields the caller sent (values left out: a URL can hold a token).
    noteAudit(res, { detail: { changed: Object.keys(body.data).filter((field) => Object.hasOwn(req.body as object, field)) } });
    res.json(publicSubscriber(row));
  },
});

export const deleteSubscriber = route({
  method: 'DELETE',
  path: '/subscribers/:id',
  permission: 'subscribers:write',
  audit: 'subscriber.delete',
  summary: 'Remove a subscriber',
  tag: 'subscribers',
  responses: { 204: { description: 'removed' }, 404: failure('no such subscriber in this tenant') },
  async handler(req: Request<{ id: string }>, res: Response, { pool, tenantOrFail }) {
    const tenant = tenantOrFail(req, res);
    if (!tenant) return;
    if (!(await subscriberData.deleteSubscriber(pool, tenant, req.params.id))) return sendError(res, 404, 'not_found', `no subscriber ${req.params.id}`);
    res.status(204).end();
  },
});

export const replaySubscriber = route({
  method: 'POST',
  path: '/subscribers/:id/replay',
  permission: 'events:replay',
  audit: 'subscriber.replay',
  summary: 'Redeliver every matching completed event since ?since=',
  tag: 'subscribers',
  query: sinceQuery,
  responses: { 202: answer('deliveries started', s.replayAnswer), 400: failure('invalid since'), 404: failure('no such subscriber in this tenant'), 409: failure('subscriber disabled') },
  async handler(req: Request<{ id: string }>, res: Response, { pool, logger, tenantOrFail, findSubscriber, startDelivery }) {
    const tenant = tenantOrFail(req, res);
    if (!tenant) return;
    const since = sinceQuery.safeParse(req.query);
    if (!since.success) return sendError(res, 400, 'invalid_request', '?since= must be an ISO-8601 time', { since: 'required' });
    const subscriber = await findSubscriber(tenant, req.params.id);
    if (!subscriber) return sendError(res, 404, 'not_found', `no subscriber ${req.params.id}`);
    if (!subscriber.enabled) return sendError(res, 409, 'subscriber_disabled', 'enable the subscriber before replaying to it');
    const rows = await completedWebhookEventsSince(pool, tenant, since.data.since);
    const events = rows.filter((e) => matchesFilter(subscriber.providers, e.provider) && matchesFilter(subscriber.event_types, e.event_type));
    const deliveries: string[] = [];
    for (const event of events) {
      const deliveryId = deliveryWorkflowId(subscriber.id, event.provider, event.event_id);
      try {
        await startDelivery({ deliveryId, tenant, subscriberId: subscriber.id, provider: event.provider, eventId: event.event_id, eventType: event.event_type });
      } catch (err) {
        sendStartFailure(res, err, logger, deliveryId);
        return;
      }
      deliveries.push(deliveryId);
    }
    noteAudit(res, { detail: { since: since.data.since, replayed: deliveries.length } });
    res.status(202).json({ replayed: deliveries.length, deliveries });
  },
});

export const listDeliveries = route({
  method: 'GET',
  path: '/deliveries',
  permission: 'events:read',
  summary: 'Subscriber deliveries with attempts and last error',
  tag: 'subscribers',
  query: deliveriesQuery,
  responses: { 200: answer('deliveries', s.deliveryList) },
  async handler(req: Request, res: Response, { pool, tenantOrFail, nextAttemptsOf }) {
    const tenant = tenantOrFail(req, res);
    if (!tenant) return;
    const filters = deliveriesQuery.safeParse(req.query);
    if (!filters.success) return sendError(res, 400, 'invalid_request', 'invalid filters', zodFieldErrors(filters.error));
    const { rows, counts, total } = await deliveryData.listDeliveries(pool, tenant, filters.data);
    const nextAttempts = await nextAttemptsOf(rows.filter((r) => r.status === 'pending' && r.attempts > 0).map((r) => r.id));
    res.json({ deliveries: rows.map((r) => (r.status === 'pending' ? { ...r, nextAttemptAt: nextAttempts.get(r.id) ?? null } : r)), total, counts });
  },
});

export const replayDelivery = route({
  method: 'POST',
  path: '/deliveries/:id/replay',
  permission: 'events:replay',
  audit: 'delivery.replay',
  summary: 'Run a delivery again (e.g. dead-lettered) under the same id',
  tag: 'subscribers',
  responses: { 202: answer('started again', s.rerunAnswer), 404: failure('no such delivery in this tenant') },
  async handler(req: Request<{ id: string }>, res: Response, { pool, logger, tenantOrFail, startDelivery }) {
    const tenant = tenantOrFail(req, res);
    if (!tenant) return;
    const delivery = await deliveryData.deliveryToReplay(pool, tenant, req.params.id);
    if (!delivery) return sendError(res, 404, 'not_found', `no delivery ${req.params.id}`);
    if (!delivery.enabled) return sendError(res, 409, 'subscriber_disabled', 'enable the subscriber before replaying to it');
    try {
      const started = await startDelivery({
        deliveryId: req.params.id,
        tenant,
        subscriberId: delivery.subscriber_id,
        provider: delivery.provider,
        eventId: delivery.event_id,
        eventType: delivery.event_type,
      });
      res.status(202).json({ deliveryId: req.params.id, runId: started.runId, rerun: started.started });
    } catch (err) {
      sendStartFailure(res, err, logger, req.params.id);
    }
  },
});

export const subscriberRoutes = routeGroup({
  context: subscriberContext,
  params: { id: unknownIfUnstorable('subscriber or delivery') },
  routes: [createSubscriber, listSubscribers, getSubscriber, updateSubscriber, deleteSubscriber, replaySubscriber, listDeliveries, replayDelivery],
});
