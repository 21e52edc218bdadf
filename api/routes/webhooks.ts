/**
 * Provider webhooks: keep the raw body, verify the provider's signature, validate, then start
 * `processWebhook` by its idempotency id and answer only once the server acknowledged the start.
 * 202 first delivery · 200 duplicate · 400 malformed · 401 bad signature · 413 too large ·
 * 503 Temporal unreachable (the provider retries). Never a 2xx without a durable start.
 */
import express, { type ErrorRequestHandler, type Request, type Response, Router } from 'express';
import { z } from 'zod';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import { eventTypeKey, providerKey, tenantKey } from '../../workflows/search-attributes';
import { webhookWorkflowId, type WebhookEvent } from '../../workflows/webhook-types';
import type { ApiMetrics, WebhookOutcome } from '../metrics';
import { verifyStripeSignature } from '../verifiers/stripe';
import { sendStartFailure } from '../start-failure';
import type { WorkflowStarter } from '../workflow-starter';
import { sendError, zodFieldErrors } from '../errors';

export interface WebhookRouteDeps {
  config: Config;
  workflows: WorkflowStarter;
  metrics: ApiMetrics;
  logger: Logger;
}

/** Ids become part of workflow ids and SQL keys: keep them printable and bounded. */
const eventId = z.string().regex(/^[A-Za-z0-9_.:-]{1,255}$/, 'must be 1-255 characters of A-Z a-z 0-9 _ . : -');

const stripeEvent = z.object({
  id: eventId,
  type: z.string().min(1).max(255),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

export function webhookRoutes({ config, workflows, metrics, logger }: WebhookRouteDeps): Router {
  const router = Router();
  const count = (provider: string, outcome: WebhookOutcome): void => {
    metrics.webhooksReceived.inc({ provider, outcome });
  };

  /** Starts (or finds) the workflow for an accepted event and answers the provider. */
  async function startWebhookWorkflow(res: Response, event: WebhookEvent): Promise<void> {
    const workflowId = webhookWorkflowId(event.tenant, event.provider, event.eventId);
    res.locals.workflowId = workflowId;
    try {
      const outcome = await workflows.startIdempotent('processWebhook', {
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        workflowId,
        args: [event],
        typedSearchAttributes: [
          { key: providerKey, value: event.provider },
          { key: tenantKey, value: event.tenant },
          { key: eventTypeKey, value: event.eventType },
        ],
        timeoutMs: config.TEMPORAL_START_TIMEOUT_MS,
      });
      res.locals.runId = outcome.runId;
      if (outcome.started) {
        count(event.provider, 'accepted');
        res.status(202).json({ workflowId, runId: outcome.runId });
      } else {
        count(event.provider, 'duplicate');
        res.status(200).json({ workflowId, runId: outcome.runId, duplicate: true });
      }
    } catch (err) {
      count(event.provider, sendStartFailure(res, err, logger, workflowId));
    }
  }

  router.post(
    '/webhooks/stripe',
    express.raw({ type: () => true, limit: config.WEBHOOK_BODY_LIMIT_BYTES }),
    async (req: Request, res: Response) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (config.STRIPE_WEBHOOK_SECRETS.length === 0) {
        count('stripe', 'not_configured');
        // 503, not 4xx: the provider keeps the event and retries once a secret is configured.
        res.setHeader('Retry-After', '60');
        sendError(res, 503, 'not_configured', 'no Stripe webhook signing secret is configured (STRIPE_WEBHOOK_SECRETS)');
        return;
      }
      const verified = verifyStripeSignature(
        raw,
        req.get('stripe-signature'),
        config.STRIPE_WEBHOOK_SECRETS,
        config.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
      );
      if (!verified.ok) {
        count('stripe', 'invalid_signature');
        sendError(res, 401, 'invalid_signature', verified.reason);
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch (err) {
        count('stripe', 'malformed');
        sendError(res, 400, 'malformed_body', `body is not valid JSON: ${(err as Error).message}`);
        return;
      }
      const parsed = stripeEvent.safeParse(body);
      if (!parsed.success) {
        count('stripe', 'malformed');
        sendError(res, 400, 'invalid_event', 'body is not a Stripe event', zodFieldErrors(parsed.error));
        return;
      }
      await startWebhookWorkflow(res, {
        tenant: config.DEFAULT_TENANT,
        provider: 'stripe',
        eventId: parsed.data.id,
        eventType: parsed.data.type,
        receivedAt: new Date().toISOString(),
        payload: body as Record<string, unknown>,
      });
    },
  );

  /** Body parser failures on these routes: size limit and unreadable bodies, counted per provider. */
  const bodyErrors: ErrorRequestHandler = (err: { type?: string; status?: number }, req, res, next) => {
    const provider = req.path.split('/')[2] ?? 'unknown';
    if (err.type === 'entity.too.large') {
      count(provider, 'too_large');
      sendError(res, 413, 'body_too_large', `body exceeds ${config.WEBHOOK_BODY_LIMIT_BYTES} bytes`);
      return;
    }
    if (err.status !== undefined && err.status >= 400 && err.status < 500) {
      count(provider, 'malformed');
      sendError(res, err.status, 'unreadable_body', String((err as Error).message));
      return;
    }
    next(err);
  };
  router.use(bodyErrors);
  return router;
}
