/**
 * API keys of the caller's tenant (admin only: `keys:manage`, api/access.ts): create (the key is in this one
 * answer and never again), list (no secrets), revoke. `switchyard keys` does the same from a shell,
 * which is how the first admin key of a tenant is made.
 */
import type { Request, Response } from 'express';
import type { Pool } from 'pg';
import { createApiKey, listApiKeys, revokeApiKey } from '../../lib/security/api-keys';
import type { Config } from '../../lib/config/config';
import { noteAudit } from '../audit-middleware';
import { sendError, zodFieldErrors } from '../errors';
import { answer, defineRoute, failure, routeGroup } from '../route';
import * as s from '../schemas';
import { apiKeyBody } from '../schemas';
import { requireTenant } from '../tenant';

/** What the API key handlers share. */
function apiKeyContext({ config, pool }: { config: Config; pool: Pool }) {
  return { config, pool };
}

type ApiKeyContext = ReturnType<typeof apiKeyContext>;
const route = defineRoute<ApiKeyContext>();

export const createKey = route({
  method: 'POST',
  path: '/api-keys',
  permission: 'keys:manage',
  audit: 'key.create',
  summary: 'Create an API key of this tenant; the key is in this answer only',
  tag: 'api keys',
  body: apiKeyBody,
  bodyLimit: '4kb',
  responses: { 201: answer('created', s.apiKeyCreated), 400: failure('invalid role or name (fields named)') },
  async handler(req: Request, res: Response, { config, pool }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const body = apiKeyBody.safeParse(req.body ?? {});
    if (!body.success) return sendError(res, 400, 'invalid_request', 'invalid API key request', zodFieldErrors(body.error));
    const created = await createApiKey(pool, { tenant, ...body.data });
    noteAudit(res, { target: created.info.keyId, detail: { role: created.info.role, name: created.info.name } });
    res.status(201).json({ ...created.info, key: created.key });
  },
});

export const listKeys = route({
  method: 'GET',
  path: '/api-keys',
  permission: 'keys:manage',
  summary: "The tenant's API keys (never their secrets)",
  tag: 'api keys',
  responses: { 200: answer('keys', s.apiKeyList) },
  async handler(req: Request, res: Response, { config, pool }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    res.json({ keys: await listApiKeys(pool, tenant) });
  },
});

export const revokeKey = route({
  method: 'DELETE',
  path: '/api-keys/:keyId',
  permission: 'keys:manage',
  audit: 'key.revoke',
  summary: 'Revoke an API key',
  tag: 'api keys',
  responses: { 204: { description: 'revoked' }, 404: failure('no live key with that id in this tenant') },
  async handler(req: Request<{ keyId: string }>, res: Response, { config, pool }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    if (!/^[a-f0-9]{12}$/.test(req.params.keyId) || !(await revokeApiKey(pool, req.params.keyId, tenant))) {
      return sendError(res, 404, 'not_found', `no live API key ${req.params.keyId}`);
    }
    res.status(204).end();
  },
});

export const apiKeyRoutes = routeGroup({
  context: apiKeyContext,
  routes: [createKey, listKeys, revokeKey],
});
