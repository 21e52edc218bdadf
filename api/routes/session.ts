/**
 * `GET /whoami`: who the credential belongs to (tenant, role, the permissions that role has) and
 * where the Temporal Web UI is. Readable by every role, so a front end such as the console can
 * show only what the API will let the caller do; the API still checks every request itself.
 */
import type { Request, Response } from 'express';
import type { Config } from '../../lib/config/config';
import { permissions, roleMay, type Permission } from '../access';
import { principalOf } from '../auth';
import { answer, defineRoute, routeGroup } from '../route';
import { whoamiAnswer } from '../schemas';
import { requireTenant } from '../tenant';

export interface SessionRouteDeps {
  config: Config;
}

const route = defineRoute<SessionRouteDeps>();

export const whoami = route({
  method: 'GET',
  path: '/whoami',
  permission: 'session:read',
  summary: 'The caller: tenant, role, its permissions, and where the Temporal Web UI is',
  tag: 'session',
  responses: { 200: answer('the caller', whoamiAnswer) },
  handler(req: Request, res: Response, { config }) {
    const tenant = requireTenant(req, res, config);
    if (!tenant) return;
    // authorize() has run: a principal is always there on the service router.
    const principal = principalOf(res)!;
    res.json({
      id: principal.id,
      kind: principal.kind,
      tenant,
      role: principal.role,
      permissions: (Object.keys(permissions) as Permission[]).filter((p) => roleMay(principal.role, p)),
      temporal: { namespace: config.TEMPORAL_NAMESPACE, uiUrl: config.TEMPORAL_UI_URL },
    });
  },
});

export const sessionRoutes = routeGroup({
  context: (deps: SessionRouteDeps) => deps,
  routes: [whoami],
});
