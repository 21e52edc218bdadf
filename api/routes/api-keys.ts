/**
 * API keys of the caller's tenant (admin only, see api/access.ts): create (the key is in this one
 * answer and never again), list (no secrets), revoke. `switchyard keys` does the same from a shell,
 * which is how the first admin key of a tenant is made.
 */
import { Router, type Request, type Response } from 'express';
import type { Pool } from 'pg';
import { createApiKey, listApiKeys, revokeApiKey } from '../../lib/security/api-keys';
import type { Config } from '../../lib/config/config';
import { noteAudit } from '../audit-middleware';
import { sendError, zodFieldErrors } from '../errors';
import { jsonBody } from '../route-input';
import { apiKeyBody } from '../schemas';
import { requireTenant } from '../tenant';

export function apiKeyRoutes({ config, pool }: { config: Config; pool: Pool }): Router {
  const router = Router({ mergeParams: true });
  const json = jsonBody('4kb');

  router.post('/api-keys', json, async (req: Request, res: Response) => {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const body = apiKeyBody.safeParse(req.body ?? {});
    if (!body.success) return sendError(res, 400, 'invalid_request', 'invalid API key request', zodFieldErrors(body.error));
    const created = await createApiKey(pool, { tenant, ...body.data });
    noteAudit(res, { target: created.info.keyId, detail: { role: created.info.role, name: created.info.name } });
    res.status(201).json({ ...created.info, key: created.key });
  });

  router.get('/api-keys', async (req: Request, res: Response) => {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    res.json({ keys: await listApiKeys(pool, tenant) });
  });

  router.delete('/api-keys/:keyId', async (req: Request<{ keyId: string }>, res: Response) => {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    if (!/^[a-f0-9]{12}$/.test(req.params.keyId) || !(await revokeApiKey(pool, req.params.keyId, tenant))) {
      return sendError(res, 404, 'not_found', `no live API key ${req.params.keyId}`);
    }
    res.status(204).end();
  });

  return router;
}
