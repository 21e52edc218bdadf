/**
 * The tenant's audit log for admins (`audit:read`, api/access.ts): who did which operator or admin
 * action, when, on what, and with which outcome, newest first. Read-only: rows are written by
 * api/audit-middleware.ts and the CLI, and the database refuses to change them.
 */
import type { Request, Response } from 'express';
import type { Pool } from 'pg';
import { listAudit } from '../../lib/data/audit-log';
import type { Config } from '../../lib/config/config';
import { sendError, zodFieldErrors } from '../errors';
import { answer, defineRoute, failure, routeGroup } from '../route';
import * as s from '../schemas';
import { auditQuery } from '../schemas';
import { requireTenant } from '../tenant';

/** What the audit handler needs. */
function auditContext({ config, pool }: { config: Config; pool: Pool }) {
  return { config, pool };
}

type AuditContext = ReturnType<typeof auditContext>;
const route = defineRoute<AuditContext>();

export const listAuditEntries = route({
  method: 'GET',
  path: '/audit',
  permission: 'audit:read',
  summary: "The tenant's audit log: operator and admin actions (retry, replay, ack, cache, subscribers, API keys) with actor, target and outcome",
  tag: 'audit',
  query: auditQuery,
  responses: { 200: answer('entries, newest first', s.auditList), 400: failure('invalid filter (fields named)') },
  async handler(req: Request, res: Response, { config, pool }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    const query = auditQuery.safeParse(req.query);
    if (!query.success) return sendError(res, 400, 'invalid_request', 'invalid filters', zodFieldErrors(query.error));
    res.json({ entries: await listAudit(pool, { tenant, ...query.data }) });
  },
});

export const auditRoutes = routeGroup({
  context: auditContext,
  routes: [listAuditEntries],
});
