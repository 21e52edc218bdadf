/**
 * Outbound provider calls and sagas, started by services: validate (provider, operation, params,
 * Idempotency-Key, budget) so bad input starts nothing, start the workflow by its idempotency id,
 * then wait a bounded time for the result. A repeated Idempotency-Key returns the existing
 * workflow and its result, never a second call.
 *   200 {status: completed|failed, result|error} · 202 {status: running} + Location ·
 *   400 bad input · 404 unknown provider/operation · 429 budget · 503 Temporal unreachable
 * `GET /calls` and `GET /bookings` list the tenant's runs from Temporal's visibility.
 */
import type { Request, Response } from 'express';
import { WorkflowFailedError } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Config } from '../../lib/config/config';
import type { Logger } from '../../lib/logger';
import { operationNamed, providerNamed, type ProviderRegistry } from '../../lib/config/registry';
import {
  bookingStatusQuery,
  bookingWorkflowId,
  providerCallStatusQuery,
  providerCallWorkflowId,
  type BookingRequest,
  type ProviderCallInput,
} from '../../contracts/call';
import { budgetGate } from '../budget-gate';
import { tokenPricingOf, unpricedModelMessage } from '../../providers/core/token-cost';
import { sendError, zodFieldErrors } from '../errors';
import { answer, defineRoute, failure, routeGroup } from '../route';
import * as s from '../schemas';
import { bookingBody, callBody, callsQuery, idempotencyKey, waitQuery } from '../schemas';
import { providerOperationOr404 } from '../provider-operation';
import { refusedForSuppression } from '../suppression-gate';
import { sendStartFailure } from '../start-failure';
import { providerKey, tenantKey } from '../../contracts/search-attributes';
import { requireTenant } from '../tenant';
import { workflowViewHandler } from '../workflow-view';
import { startBooking, startProviderCall } from '../../lib/temporal/start-work';
import type { StartOutcome, WorkflowStarter } from '../../lib/temporal/workflow-starter';
import { waitUntil } from '../wait-until';

export interface CallRouteDeps {
  config: Config;
  workflows: WorkflowStarter;
  pool: Pool;
  registry: ProviderRegistry;
  logger: Logger;
}

/** Visibility query values: a safe alphabet only (they are literals in the query text). */
const literal = (value: string) => `'${value.replace(/[^A-Za-z0-9_.:+-]/g, '')}'`;
const visibilityStatus = { running: 'Running', completed: 'Completed', failed: 'Failed', terminated: 'Terminated', timed_out: 'TimedOut', canceled: 'Canceled' } as const;

/** What the call and booking handlers share: the budget gate, the idempotency key, the bounded wait for a result. */
function callContext({ config, workflows, pool, registry, logger }: CallRouteDeps) {
  const budgets = budgetGate({ config, workflows, pool, registry, logger });

  function keyFrom(req: Request, res: Response): string | undefined {
    const parsed = idempotencyKey.safeParse(req.get('idempotency-key'));
    if (!parsed.success) {
      sendError(res, 400, 'idempotency_key_required', 'an Idempotency-Key header is required', {
        'Idempotency-Key': parsed.error.issues[0]?.message ?? 'required',
      });
      return undefined;
    }
    return parsed.data;
  }

  type WorkflowHandle = ReturnType<WorkflowStarter['getHandle']>;

  /** Waits up to `?wait=` ms (capped by CALL_WAIT_MS) for the result, then answers. */
  async function answerStarted(req: Request, res: Response, started: StartOutcome): Promise<void> {
    const requested = waitQuery.safeParse(req.query);
    const waitMs = Math.min(requested.success ? (requested.data.wait ?? config.CALL_WAIT_MS) : config.CALL_WAIT_MS, config.CALL_WAIT_MS);
    const base = { workflowId: started.workflowId, runId: started.runId, duplicate: !started.started };
    const handle = workflows.getHandle(started.workflowId);
    const running = (): void => {
      // Still running after the wait: the caller polls the Location.
      res.setHeader('Location', `${req.baseUrl}/${req.path.startsWith('/bookings') ? 'bookings' : 'calls'}/${encodeURIComponent(started.workflowId)}`);
      res.status(202).json({ ...base, status: 'running' });
    };
    if (!(await closedWithin(handle, waitMs, started.started))) return running();
    try {
      // Closed: the result is there, no waiting (the bound is only against a server that stalls).
      const result: unknown = await workflows.withDeadline(Date.now() + config.TEMPORAL_START_TIMEOUT_MS, () => handle.result());
      res.status(200).json({ ...base, status: 'completed', result });
    } catch (err) {
      if (err instanceof WorkflowFailedError) {
        const cause = err.cause as { message?: string; type?: string } | undefined;
        res.status(200).json({ ...base, status: 'failed', error: { message: cause?.message ?? err.message, type: cause?.type ?? null } });
        return;
      }
      running();
    }
  }

  /** Whether the execution closes within `waitMs` (api/wait-until.ts); a run this request just started is open, so `wait=0` answers it without asking. */
  async function closedWithin(handle: WorkflowHandle, waitMs: number, justStarted: boolean): Promise<boolean> {
    if (waitMs === 0 && justStarted) return false;
    return (await waitUntil(async () => ((await stillRunning(handle)) ? undefined : true), waitMs)) === true;
  }

  /** Whether the execution is open; a describe that does not answer counts as open (the caller polls). */
  async function stillRunning(handle: WorkflowHandle): Promise<boolean> {
    try {
      const description = await workflows.withDeadline(Date.now() + config.TEMPORAL_START_TIMEOUT_MS, () => handle.describe());
      return description.status.name === 'RUNNING';
    } catch {
      return true;
    }
  }

  /** Runs the start (503 when not acknowledged), then answers as `answerStarted` does. */
  async function startAndAnswer(req: Request, res: Response, workflowId: string, start: () => Promise<StartOutcome>): Promise<void> {
    let started: StartOutcome;
    try {
      started = await start();
    } catch (err) {
      sendStartFailure(res, err, logger, workflowId);
      return;
    }
    res.locals.runId = started.runId;
    await answerStarted(req, res, started);
  }

  /**
   * A page of `limit` executions of `workflowType` in the tenant from `offset`, newest first, from
   * Temporal's visibility (with the status and start-time filters the list routes share), and
   * visibility's count of them all; undefined after answering 503 when Temporal does not answer in time.
   */
  async function listRuns<T>(
    res: Response,
    what: string,
    filter: { workflowType: string; tenant: string; provider?: string; status?: keyof typeof visibilityStatus; from?: string; to?: string; limit: number; offset: number },
    row: (wf: Awaited<ReturnType<typeof listPage>>[number]) => T,
  ): Promise<{ rows: T[]; total: number } | undefined> {
    const filters = [
      `WorkflowType = ${literal(filter.workflowType)}`,
      `${tenantKey.name} = ${literal(filter.tenant)}`,
      ...(filter.provider ? [`${providerKey.name} = ${literal(filter.provider)}`] : []),
      ...(filter.status ? [`ExecutionStatus = '${visibilityStatus[filter.status]}'`] : []),
      ...(filter.from ? [`StartTime >= ${literal(new Date(filter.from).toISOString())}`] : []),
      ...(filter.to ? [`StartTime < ${literal(new Date(filter.to).toISOString())}`] : []),
    ];
    const query = filters.join(' AND ');
    try {
      const [page, counted] = await workflows.withDeadline(Date.now() + config.TEMPORAL_START_TIMEOUT_MS, () =>
        Promise.all([listPage(query, filter.offset, filter.limit), workflows.count(query)]),
      );
      // Visibility is eventually consistent: a run listed before the count saw it still counts.
      return { rows: page.map(row), total: Math.max(counted.count, filter.offset + page.length) };
    } catch (err) {
      logger.warn({ err }, `visibility list of ${what} failed`);
      res.setHeader('Retry-After', '5');
      sendError(res, 503, 'temporal_unavailable', `could not list ${what} from Temporal`);
      return undefined;
    }
  }

  /** `limit` runs after the first `offset` (visibility pages by token, so the skipped ones are read and passed over). */
  async function listPage(query: string, offset: number, limit: number) {
    const found = [];
    let skipped = 0;
    for await (const wf of workflows.list({ query, pageSize: Math.min(offset + limit, 1000) })) {
      if (skipped < offset) {
        skipped += 1;
        continue;
      }
      found.push(wf);
      if (found.length >= limit) break;
    }
    return found;
  }

  const viewCall = workflowViewHandler(workflows, providerCallStatusQuery, config, logger);
  const viewBooking = workflowViewHandler(workflows, bookingStatusQuery, config, logger);
  return { config, workflows, pool, registry, budgets, keyFrom, startAndAnswer, listRuns, viewCall, viewBooking };
}

type CallContext = ReturnType<typeof callContext>;
const route = defineRoute<CallContext>();

export const startCall = route({
  method: 'POST',
  path: '/calls/:provider/:operation',
  permission: 'work:start',
  summary: 'Start a provider call (providerCall workflow); waits up to ?wait= ms for its result',
  tag: 'calls',
  query: waitQuery,
  body: callBody,
  bodyLimit: '256kb',
  headers: { 'Idempotency-Key': 'the call id within the tenant: the same key returns the same workflow and result' },
  responses: {
    200: answer('completed or failed within the wait', s.callAnswer),
    202: answer('still running: poll GET /calls/{workflowId}', s.callAnswer),
    400: failure('missing key, invalid params (fields named)'),
    404: failure('unknown provider or operation'),
    422: failure('a recipient is on the tenant\'s suppression list: nothing started'),
    429: failure('budget exhausted or rate limited'),
    503: failure('Temporal unreachable: nothing started'),
  },
  async handler(req: Request<{ provider: string; operation: string }>, res: Response, { config, workflows, pool, registry, budgets, keyFrom, startAndAnswer }) {
    const { provider, operation } = req.params;
    const found = providerOperationOr404(registry, req.params, res);
    if (!found) return;
    const { declared, adapter } = found;
    const key = keyFrom(req, res);
    if (!key) return;
    const body = callBody.safeParse(req.body ?? {});
    if (!body.success) {
      sendError(res, 400, 'invalid_request', 'the body must be {params, priority?}', zodFieldErrors(body.error));
      return;
    }
    const params = adapter.params.safeParse(body.data.params);
    if (!params.success) {
      sendError(res, 400, 'invalid_params', `invalid params for ${provider} ${operation}`, zodFieldErrors(params.error));
      return;
    }
    // A token-priced operation is budgeted at the estimate of these params, and only for a priced model.
    const pricing = tokenPricingOf(declared, adapter, params.data);
    if (pricing && 'unpriced' in pricing) {
      sendError(res, 400, 'invalid_params', `invalid params for ${provider} ${operation}: ${unpricedModelMessage(pricing)}`, { model: 'no token price in the registry' });
      return;
    }
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    if (await refusedForSuppression(pool, res, tenant, adapter, params.data)) return;
    const workflowId = providerCallWorkflowId(tenant, provider, key);
    res.locals.workflowId = workflowId;
    const critical = body.data.priority === 'critical';
    if (await budgets.refused(res, provider, Math.max(declared.costUsd, pricing?.estimateUsd ?? 0), critical)) return;
    const input: ProviderCallInput = { tenant, provider, operation, params: body.data.params, priority: body.data.priority };
    await startAndAnswer(req, res, workflowId, () => startProviderCall(workflows, config, workflowId, input));
  },
});

export const listCalls = route({
  method: 'GET',
  path: '/calls',
  permission: 'work:read',
  summary: "The tenant's provider calls from Temporal visibility, newest first",
  tag: 'calls',
  query: callsQuery,
  responses: { 200: answer('calls', s.callList), 400: failure('invalid filter (fields named)'), 503: failure('Temporal unreachable') },
  async handler(req: Request, res: Response, { config, listRuns }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const parsed = callsQuery.safeParse(req.query);
    if (!parsed.success) {
      sendError(res, 400, 'invalid_request', 'invalid filters', zodFieldErrors(parsed.error));
      return;
    }
    const calls = await listRuns(res, 'calls', { workflowType: 'providerCall', tenant, ...parsed.data }, (wf) => ({
      workflowId: wf.workflowId,
      provider: String(wf.searchAttributes?.[providerKey.name]?.[0] ?? ''),
      executionStatus: wf.status.name,
      startTime: wf.startTime.toISOString(),
      closeTime: wf.closeTime?.toISOString() ?? null,
    }));
    if (calls) res.json({ calls: calls.rows, total: calls.total });
  },
});

export const getCall = route({
  method: 'GET',
  path: '/calls/:workflowId',
  permission: 'work:read',
  summary: "A call's status, candidates tried and result",
  tag: 'calls',
  responses: { 200: answer('the call', s.workflowView), 404: failure('no such call in this tenant') },
  handler: (req: Request<{ workflowId: string }>, res: Response, { viewCall }) => viewCall(req, res),
});

export const book = route({
  method: 'POST',
  path: '/bookings',
  permission: 'work:start',
  summary: 'Start a booking saga: charge, calendar event, SMS and email, compensated in reverse on failure',
  tag: 'calls',
  query: waitQuery,
  body: bookingBody,
  bodyLimit: '256kb',
  headers: { 'Idempotency-Key': 'the booking id within the tenant' },
  responses: { 200: answer('completed or failed within the wait', s.callAnswer), 202: answer('still running', s.callAnswer), 400: failure('invalid booking (fields named)') },
  async handler(req: Request, res: Response, { config, workflows, registry, budgets, keyFrom, startAndAnswer }) {
    const key = keyFrom(req, res);
    if (!key) return;
    const body = bookingBody.safeParse(req.body ?? {});
    if (!body.success) {
      sendError(res, 400, 'invalid_request', 'invalid booking', zodFieldErrors(body.error));
      return;
    }
    if (Date.parse(body.data.end) <= Date.parse(body.data.start)) {
      sendError(res, 400, 'invalid_request', 'invalid booking', { end: 'must be after start' });
      return;
    }
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const workflowId = bookingWorkflowId(tenant, key);
    res.locals.workflowId = workflowId;
    const stripe = providerNamed(registry, 'stripe');
    const chargeCost = (stripe && operationNamed(stripe, 'charge')?.costUsd) ?? 0;
    if (await budgets.refused(res, 'stripe', chargeCost, false)) return;
    const booking: BookingRequest = { tenant, ...body.data };
    await startAndAnswer(req, res, workflowId, () => startBooking(workflows, config, workflowId, booking));
  },
});

export const listBookings = route({
  method: 'GET',
  path: '/bookings',
  permission: 'work:read',
  summary: "The tenant's booking sagas from Temporal visibility, newest first",
  tag: 'calls',
  query: s.bookingsQuery,
  responses: { 200: answer('bookings', s.bookingList), 400: failure('invalid filter (fields named)'), 503: failure('Temporal unreachable') },
  async handler(req: Request, res: Response, { config, listRuns }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const parsed = s.bookingsQuery.safeParse(req.query);
    if (!parsed.success) {
      sendError(res, 400, 'invalid_request', 'invalid filters', zodFieldErrors(parsed.error));
      return;
    }
    const bookings = await listRuns(res, 'bookings', { workflowType: 'bookingSaga', tenant, ...parsed.data }, (wf) => ({
      workflowId: wf.workflowId,
      executionStatus: wf.status.name,
      startTime: wf.startTime.toISOString(),
      closeTime: wf.closeTime?.toISOString() ?? null,
    }));
    if (bookings) res.json({ bookings: bookings.rows, total: bookings.total });
  },
});

export const getBooking = route({
  method: 'GET',
  path: '/bookings/:workflowId',
  permission: 'work:read',
  summary: "A booking's steps and compensations",
  tag: 'calls',
  responses: { 200: answer('the booking', s.workflowView), 404: failure('no such booking in this tenant') },
  handler: (req: Request<{ workflowId: string }>, res: Response, { viewBooking }) => viewBooking(req, res),
});

export const callRoutes = routeGroup({
  context: callContext,
  routes: [startCall, listCalls, getCall, book, listBookings, getBooking],
});
