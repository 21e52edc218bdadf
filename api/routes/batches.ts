/**
 * Batched provider operations: `POST /batches/:provider/:operation` queues an item in the durable
 * batch workflow of its (tenant, provider, operation, priority) by update-with-start and answers
 * 202 with the item's own id once the workflow holds it. Critical items are not batched: they go
 * at once as a providerCall. `GET /batches/items/:id` answers the item's own result or error;
 * `GET /batches/items` lists the tenant's sent and failed items from PostgreSQL, newest first.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { WithStartWorkflowOperation } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import * as batchItemData from '../../lib/data/batch-items';
import type { BatchItemRow } from '../../lib/data/batch-items';
import type { Logger } from '../../lib/logger';
import type { ProviderRegistry } from '../../lib/config/registry';
import {
  addItemUpdate,
  batchItemId,
  batchKeyOfItem,
  batchWorkflowId,
  itemStatusQuery,
  type BatchKey,
} from '../../contracts/batch';
import { providerCallStatusQuery, providerCallWorkflowId, type ProviderCallInput } from '../../contracts/call';
import { startAttributes } from '../../contracts/search-attributes';
import { budgetGate } from '../budget-gate';
import { tokenPricingOf, unpricedModelMessage } from '../../providers/core/token-cost';
import { sendError, zodFieldErrors } from '../errors';
import { answer, defineRoute, failure, routeGroup } from '../route';
import { unknownIfUnstorable } from '../route-input';
import * as s from '../schemas';
import { providerOperationOr404 } from '../provider-operation';
import { refusedForSuppression } from '../suppression-gate';
import { batchItemBody, waitQuery } from '../schemas';
import type { ApiMetrics } from '../metrics';
import { sendStartFailure } from '../start-failure';
import { requireTenant } from '../tenant';
import { viewWorkflow } from '../workflow-view';
import { waitUntil } from '../wait-until';
import { startProviderCall } from '../../lib/temporal/start-work';
import { grpcCode, type WorkflowStarter } from '../../lib/temporal/workflow-starter';

export interface BatchRouteDeps {
  config: Config;
  metrics: ApiMetrics;
  workflows: WorkflowStarter;
  pool: Pool;
  registry: ProviderRegistry;
  logger: Logger;
}

function stableHash(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, canonical(x)]))
      : v;
  return createHash('sha256').update(JSON.stringify(canonical(value))).digest('hex');
}

/** What the batch handlers share: budgets, the stored results, the enqueue with its retries. */
function batchContext({ config, metrics, workflows, pool, registry, logger }: BatchRouteDeps) {
  const budgets = budgetGate({ config, workflows, pool, registry, logger });

  function storedResult(tenant: string, itemId: string): Promise<BatchItemRow | undefined> {
    return batchItemData.batchItemResult(pool, tenant, itemId);
  }

  const itemAnswer = (itemId: string, row: BatchItemRow) => ({
    itemId,
    status: row.status,
    result: row.result,
    error: row.error,
    batchSize: row.batch_size,
    flushReason: row.flush_reason,
    sentAt: row.sent_at.toISOString(),
  });

  /**
   * Queues one item, within one start deadline. Retried once when the batch run was just ending (a
   * new run then starts), and again with a short backoff while the run refuses updates because its
   * workflow task is failing (FAILED_PRECONDITION: a worker lost the task, e.g. a crash or an
   * eviction with a local activity in flight, and the server retries it after its timeout).
   */
  async function enqueue(key: BatchKey, itemId: string, params: Record<string, unknown>, dedupKey: string) {
    const deadline = Date.now() + config.TEMPORAL_START_TIMEOUT_MS;
    const attempt = () =>
      workflows.withDeadline(deadline, () =>
        workflows.executeUpdateWithStart(addItemUpdate, {
          args: [{ itemId, params, dedupKey }],
          startWorkflowOperation: new WithStartWorkflowOperation('batch', {
            workflowId: batchWorkflowId(key),
            taskQueue: config.TEMPORAL_TASK_QUEUE,
            args: [key],
            workflowIdConflictPolicy: 'USE_EXISTING',
            typedSearchAttributes: startAttributes('batch', key),
          }),
        }),
      );
    for (let failures = 1; ; failures++) {
      try {
        return await attempt();
      } catch (err) {
        const failingTask = (err as { code?: number }).code === grpcCode.FAILED_PRECONDITION;
        const pause = Math.min(200 * 2 ** failures, 1000);
        if ((failures > 1 && !failingTask) || Date.now() + pause >= deadline) throw err;
        logger.warn({ err, workflowId: batchWorkflowId(key), failures }, 'batch enqueue refused; retrying');
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  /**
   * The item's result within `waitMs`, from PostgreSQL, where the batch records each item once it
   * is sent (api/wait-until.ts: no update long-poll cut short). Items outside any batch (critical
   * ones run as provider calls) have no row to wait for.
   */
  async function waitForItem(tenant: string, itemId: string, waitMs: number): Promise<Record<string, unknown> | undefined> {
    if (!batchKeyOfItem(tenant, itemId)) return undefined;
    const stored = await waitUntil(() => storedResult(tenant, itemId), waitMs);
    return stored && itemAnswer(itemId, stored);
  }

  return { config, metrics, workflows, pool, logger, registry, budgets, storedResult, itemAnswer, enqueue, waitForItem };
}

type BatchContext = ReturnType<typeof batchContext>;
const route = defineRoute<BatchContext>();

export const enqueueItem = route({
  method: 'POST',
  path: '/batches/:provider/:operation',
  permission: 'work:start',
  summary: 'Queue one item in its durable batch (critical items are sent at once)',
  tag: 'batches',
  query: waitQuery,
  body: batchItemBody,
  bodyLimit: '256kb',
  responses: {
    200: answer('the item result, within the wait', s.batchItemWaited),
    202: answer('accepted: the item is in the batch workflow', s.batchItemAccepted),
    400: failure('invalid item (fields named)'),
    404: failure('unknown provider or operation'),
    422: failure('a recipient is on the tenant\'s suppression list: nothing queued'),
    429: failure('the provider is past its budget: nothing queued'),
  },
  async handler(req: Request<{ provider: string; operation: string }>, res: Response, { config, metrics, workflows, pool, logger, registry, budgets, enqueue, waitForItem }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const { provider, operation } = req.params;
    const found = providerOperationOr404(registry, req.params, res);
    if (!found) return;
    const { declared, adapter } = found;
    const body = batchItemBody.safeParse(req.body ?? {});
    if (!body.success) return sendError(res, 400, 'invalid_request', 'the body must be {params, priority?, dedupKey?}', zodFieldErrors(body.error));
    const params = adapter.params.safeParse(body.data.params);
    if (!params.success) return sendError(res, 400, 'invalid_params', `invalid params for ${provider} ${operation}`, zodFieldErrors(params.error));
    if (await refusedForSuppression(pool, res, tenant, adapter, params.data)) return;
    // A token-priced operation runs only for a model the registry prices (the call would refuse it).
    const pricing = tokenPricingOf(declared, adapter, params.data);
    if (pricing && 'unpriced' in pricing) {
      return sendError(res, 400, 'invalid_params', `invalid params for ${provider} ${operation}: ${unpricedModelMessage(pricing)}`, { model: 'no token price in the registry' });
    }
    const { priority } = body.data;
    const itemId = batchItemId({ provider, operation, priority }, randomUUID());

    if (priority === 'critical') {
      // Critical items bypass batching: a providerCall right away, keyed by the item id.
      const workflowId = providerCallWorkflowId(tenant, provider, itemId);
      const input: ProviderCallInput = { tenant, provider, operation, params: body.data.params, priority: 'critical' };
      try {
        await startProviderCall(workflows, config, workflowId, input);
      } catch (err) {
        sendStartFailure(res, err, logger, workflowId);
        return;
      }
      metrics.batchItemsAccepted.inc({ provider, operation, priority, duplicate: 'false' });
      return void res.status(202).json({ itemId, duplicate: false, batched: false, workflowId });
    }

    // Like POST /calls: a provider past its budget refuses the item now, before it is queued (the flush checks again).
    if (await budgets.refused(res, provider, declared.costUsd, false)) return;

    const key: BatchKey = { tenant, provider, operation, priority };
    res.locals.workflowId = batchWorkflowId(key);
    let added;
    try {
      added = await enqueue(key, itemId, body.data.params, body.data.dedupKey ?? stableHash(body.data.params));
    } catch (err) {
      sendStartFailure(res, err, logger, batchWorkflowId(key));
      return;
    }
    const answer = { itemId: added.itemId, duplicate: added.duplicateOf !== null, batched: true, batchId: batchWorkflowId(key) };
    metrics.batchItemsAccepted.inc({ provider, operation, priority, duplicate: String(answer.duplicate) });
    const wait = waitQuery.safeParse(req.query);
    const waitMs = Math.min(wait.success ? (wait.data.wait ?? 0) : 0, config.CALL_WAIT_MS);
    if (waitMs > 0) {
      const result = await waitForItem(tenant, added.itemId, waitMs);
      if (result) return void res.status(200).json({ ...answer, ...result });
    }
    res.status(202).json(answer);
  },
});

export const listBatchItems = route({
  method: 'GET',
  path: '/batches/items',
  permission: 'work:read',
  summary: "The tenant's sent and failed batch items from PostgreSQL, newest first (queued ones are in their batch workflow)",
  tag: 'batches',
  query: s.batchItemsQuery,
  responses: { 200: answer('items', s.batchItemList), 400: failure('invalid filter (fields named)') },
  async handler(req: Request, res: Response, { config, pool }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const parsed = s.batchItemsQuery.safeParse(req.query);
    if (!parsed.success) return sendError(res, 400, 'invalid_request', 'invalid filters', zodFieldErrors(parsed.error));
    const q = parsed.data;
    const rows = await batchItemData.listBatchItems(pool, tenant, q);
    res.json({
      items: rows.map((r) => ({
        itemId: r.item_id,
        provider: r.provider,
        operation: r.operation,
        priority: r.priority,
        status: r.status,
        error: r.error,
        batchSize: r.batch_size,
        flushReason: r.flush_reason,
        batchId: r.batch_workflow_id,
        sentAt: r.sent_at.toISOString(),
      })),
    });
  },
});

export const getBatchItem = route({
  method: 'GET',
  path: '/batches/items/:id',
  permission: 'work:read',
  summary: "A batch item's own status and result",
  tag: 'batches',
  responses: { 200: answer('the item', s.batchItemAnswer), 404: failure('no such item in this tenant') },
  async handler(req: Request<{ id: string }>, res: Response, { config, workflows, logger, storedResult, itemAnswer }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const itemId = req.params.id;
    const stored = await storedResult(tenant, itemId);
    if (stored) return void res.json(itemAnswer(itemId, stored));
    const [provider, operation, priority] = itemId.split('.');
    if (provider && operation && priority === 'critical') {
      try {
        const view = await viewWorkflow(workflows, providerCallWorkflowId(tenant, provider, itemId), providerCallStatusQuery, config.TEMPORAL_START_TIMEOUT_MS, logger);
        return void res.json({ itemId, status: view.status === 'completed' ? 'sent' : view.status, result: view.result ?? null, error: view.error ?? null, batchSize: 1 });
      } catch {
        return sendError(res, 404, 'not_found', `no batch item ${itemId}`);
      }
    }
    const key = batchKeyOfItem(tenant, itemId);
    if (key) {
      const state = await workflows
        .withDeadline(Date.now() + config.TEMPORAL_START_TIMEOUT_MS, () => workflows.getHandle(batchWorkflowId(key)).query(itemStatusQuery, itemId))
        .catch(() => null);
      // Flushed but its row not written yet reads as queued for that instant.
      if (state !== null) return void res.json({ itemId, status: 'queued', result: null, error: null });
    }
    sendError(res, 404, 'not_found', `no batch item ${itemId}`);
  },
});

export const batchRoutes = routeGroup({
  context: batchContext,
  params: { id: unknownIfUnstorable('batch item') },
  routes: [enqueueItem, listBatchItems, getBatchItem],
});
