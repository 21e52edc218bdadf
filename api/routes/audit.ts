/**
 * The tenant's audit log for admins (`audit:read`, api/access.ts): who did which operator or admin
 * action, when, on what, and with which outcome, newest first. Read-only: rows are written by
 * api/audit.ts and the CLI, and the database refuses to change them.
 */
import { Router, type Request, type Response } from 'express';
import type { Pool } from 'pg';
import { listAudit } from '../../lib/data/audit-log';
import type { Config } from '../../lib/config/config';
import { sendError, zodFieldErrors } from '../errors';
import { auditQuery } from '../schemas';
import { requireTenant } from '../tenant';

export function auditRoutes({ config, pool }: { config: Config; pool: Pool }): Router {
  const router = Router({ mergeParams: true });

  router.get('/audit', async (req: Request, res: Response) => {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const query = auditQuery.safeParse(req.query);
    if (!query.success) return sendError(res, 400, 'invalid_request', 'invalid filters', zodFieldErrors(query.error));
    res.json({ entries: await listAudit(pool, { tenant, ...query.data }) });
  });

  return router;
}
