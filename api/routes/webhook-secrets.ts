/**
 * Webhook signing secrets of the caller's tenant, stored encrypted in PostgreSQL (admin only, see
 * api/access.ts): add one for a source (the provider's secret, or one generated here for sources
 * whose secret Switchyard chooses, shown in that answer only), list them (metadata and a short
 * fingerprint, never a value), end one's rotation window (`notAfter`) or remove it. The verifiers
 * use them next to WEBHOOK_SECRETS_FILE and the environment (api/stored-webhook-secrets.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Pool } from 'pg';
import { Webhook } from 'standardwebhooks';
import type { Config } from '../../lib/config/config';
import { NoKeyringError } from '../../lib/security/secret-box';
import { addWebhookSecret, deleteWebhookSecret, listWebhookSecretInfo, setWebhookSecretNotAfter } from '../../lib/security/stored-secrets';
import { noteAudit } from '../audit-middleware';
import { sendError, zodFieldErrors } from '../errors';
import { answer, defineRoute, failure, routeGroup } from '../route';
import * as s from '../schemas';
import { webhookSecretBody, webhookSecretPatch, webhookSecretsQuery } from '../schemas';
import type { StoredWebhookSecrets } from '../stored-webhook-secrets';
import { requireTenant } from '../tenant';
import type { SchemeName } from '../webhook-schemes';
import { sendgridVerificationKey } from '../../providers/sendgrid/webhook';
import type { WebhookSources } from '../webhook-sources';

export interface WebhookSecretRouteDeps {
  config: Config;
  pool: Pool;
  webhookSources: WebhookSources;
  storedWebhookSecrets?: StoredWebhookSecrets;
}

/**
 * New secrets for the schemes where Switchyard chooses the secret and the sender is configured with
 * it; the others (Stripe, Twilio, SendGrid) issue their own, which the caller copies in.
 */
const generators: Partial<Record<SchemeName, () => string>> = {
  'standard-webhooks': randomSecret('base64', 'whsec_'),
  github: randomSecret('hex'),
  hmac: randomSecret('hex'),
  'google-channel-token': randomSecret('base64url'),
};

/** 32 random bytes as the scheme's senders take them: hex, base64 or base64url text, after a prefix. */
function randomSecret(encoding: 'hex' | 'base64' | 'base64url', prefix = ''): () => string {
  return () => `${prefix}${randomBytes(32).toString(encoding)}`;
}

/**
 * The secret as the scheme stores it, or the reason it cannot use it. A SendGrid verification key
 * (PEM or base64 DER, whitespace and line ends anywhere) is stored as base64 DER; around any other
 * secret whitespace is a copy-paste slip.
 */
function storableSecret(scheme: SchemeName, secret: string): { secret: string } | { problem: string } {
  if (scheme === 'sendgrid') {
    const key = sendgridVerificationKey(secret);
    return key === null ? { problem: 'a SendGrid verification key is an ECDSA P-256 public key, base64 DER or PEM' } : { secret: key };
  }
  if (secret.trim() !== secret) return { problem: 'must not start or end with whitespace (a copy-paste slip)' };
  if (scheme !== 'standard-webhooks') return { secret };
  try {
    new Webhook(secret);
    return { secret };
  } catch {
    return { problem: 'a Standard Webhooks secret is whsec_ followed by base64' };
  }
}

const secretIdPattern = /^whs_[a-f0-9]{20}$/;

/** What the webhook secret handlers share. */
function webhookSecretContext({ config, pool, webhookSources, storedWebhookSecrets }: WebhookSecretRouteDeps) {
  return { config, pool, webhookSources, storedWebhookSecrets };
}

type WebhookSecretContext = ReturnType<typeof webhookSecretContext>;
const route = defineRoute<WebhookSecretContext>();

export const storeWebhookSecret = route({
  method: 'POST',
  path: '/webhook-secrets',
  permission: 'webhook-secrets:manage',
  audit: 'webhook-secret.create',
  summary: 'Store a signing secret for a webhook source (encrypted); `generate: true` makes one, shown in this answer only',
  tag: 'webhook secrets',
  body: webhookSecretBody,
  bodyLimit: '16kb',
  responses: {
    201: answer('stored', s.webhookSecretCreated),
    400: failure('unknown source, invalid secret, or a source that issues its own secret (fields named)'),
    503: failure('SECRETS_MASTER_KEYS is not configured'),
  },
  async handler(req: Request, res: Response, { config, pool, webhookSources, storedWebhookSecrets }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const body = webhookSecretBody.safeParse(req.body ?? {});
    if (!body.success) return sendError(res, 400, 'invalid_request', 'invalid webhook secret', zodFieldErrors(body.error));
    const source = webhookSources.get(body.data.source);
    if (!source) return sendError(res, 400, 'invalid_request', `no webhook source "${body.data.source}" is configured`, { source: 'unknown source' });
    const generate = generators[source.scheme];
    if (body.data.generate && !generate) {
      return sendError(res, 400, 'invalid_request', `${source.name} issues its own signing secret: send it as "secret"`, { generate: 'not for this source' });
    }
    const storable = storableSecret(source.scheme, body.data.secret ?? generate!());
    if ('problem' in storable) return sendError(res, 400, 'invalid_request', `invalid secret for ${source.name}: ${storable.problem}`, { secret: storable.problem });
    const { secret } = storable;
    let info;
    try {
      const id = `whs_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
      info = await addWebhookSecret(pool, config.SECRETS_MASTER_KEYS, { id, tenant, source: source.name, secret, notAfter: body.data.notAfter ?? null });
    } catch (err) {
      if (err instanceof NoKeyringError) return sendError(res, 503, 'secrets_unavailable', err.message);
      throw err;
    }
    storedWebhookSecrets?.invalidate(tenant, source.name);
    noteAudit(res, { target: info.id, detail: { source: info.source, fingerprint: info.fingerprint, generated: body.data.generate === true, notAfter: info.notAfter } });
    // A generated secret is in this answer only; a supplied one is never echoed back.
    res.status(201).json(body.data.generate ? { ...info, secret } : info);
  },
});

export const listWebhookSecrets = route({
  method: 'GET',
  path: '/webhook-secrets',
  permission: 'webhook-secrets:manage',
  summary: "The tenant's webhook signing secrets stored in PostgreSQL: ids, sources, fingerprints and windows, never a value",
  tag: 'webhook secrets',
  query: webhookSecretsQuery,
  responses: { 200: answer('secrets', s.webhookSecretList), 400: failure('invalid filter') },
  async handler(req: Request, res: Response, { config, pool }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const query = webhookSecretsQuery.safeParse(req.query);
    if (!query.success) return sendError(res, 400, 'invalid_request', 'invalid filter', zodFieldErrors(query.error));
    res.json({ webhookSecrets: await listWebhookSecretInfo(pool, tenant, query.data.source) });
  },
});

export const expireWebhookSecret = route({
  method: 'PATCH',
  path: '/webhook-secrets/:id',
  permission: 'webhook-secrets:manage',
  audit: 'webhook-secret.update',
  summary: "Set or clear a secret's notAfter (end of its rotation window)",
  tag: 'webhook secrets',
  body: webhookSecretPatch,
  bodyLimit: '16kb',
  responses: { 200: answer('changed', s.webhookSecretInfo), 400: failure('invalid notAfter'), 404: failure('no such secret in this tenant') },
  async handler(req: Request<{ id: string }>, res: Response, { config, pool, storedWebhookSecrets }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const body = webhookSecretPatch.safeParse(req.body ?? {});
    if (!body.success) return sendError(res, 400, 'invalid_request', 'invalid change', zodFieldErrors(body.error));
    const info = secretIdPattern.test(req.params.id) ? await setWebhookSecretNotAfter(pool, tenant, req.params.id, body.data.notAfter) : undefined;
    if (!info) return sendError(res, 404, 'not_found', `no webhook secret ${req.params.id}`);
    storedWebhookSecrets?.invalidate(tenant, info.source);
    noteAudit(res, { detail: { source: info.source, notAfter: info.notAfter } });
    res.json(info);
  },
});

export const removeWebhookSecret = route({
  method: 'DELETE',
  path: '/webhook-secrets/:id',
  permission: 'webhook-secrets:manage',
  audit: 'webhook-secret.delete',
  summary: 'Remove a stored webhook signing secret',
  tag: 'webhook secrets',
  responses: { 204: { description: 'removed' }, 404: failure('no such secret in this tenant') },
  async handler(req: Request<{ id: string }>, res: Response, { config, pool, storedWebhookSecrets }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const info = secretIdPattern.test(req.params.id) ? await deleteWebhookSecret(pool, tenant, req.params.id) : undefined;
    if (!info) return sendError(res, 404, 'not_found', `no webhook secret ${req.params.id}`);
    storedWebhookSecrets?.invalidate(tenant, info.source);
    noteAudit(res, { detail: { source: info.source, fingerprint: info.fingerprint } });
    res.status(204).end();
  },
});

export const webhookSecretRoutes = routeGroup({
  context: webhookSecretContext,
  routes: [storeWebhookSecret, listWebhookSecrets, expireWebhookSecret, removeWebhookSecret],
});
