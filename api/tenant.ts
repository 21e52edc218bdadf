/**
 * The tenant of a request. On the service API it is the authenticated caller's (API key or token):
 * a `/tenants/:tenant/...` path naming another tenant answers 404, exactly like a resource of
 * another tenant, so nothing tells a caller which other tenants exist, and that holds on every
 * route, system-wide data (provider health, SLA, alerts, circuits) included. Public webhook routes
 * have no caller: `/tenants/:tenant/webhooks/...` names the tenant, else it is the source's or the
 * configured default. A path naming no valid tenant (lib/security/tenant-name.ts; NUL, CR LF, `..`, quotes,
 * too long, `system`) answers 400 everywhere. Every query, workflow id and list is scoped by it.
 */
import type { Request, RequestHandler, Response } from 'express';
import { tenantPattern, type Config } from '../lib/config/config';
import { tenantNameRule } from '../lib/security/tenant-name';
import { principalOf } from './auth';
import { sendError } from './errors';

export { tenantPattern };

/** Workflow ids start with `{kind}:{tenant}:`; anything else belongs to another tenant. */
export function workflowBelongsTo(workflowId: string, tenant: string): boolean {
  const [, owner] = workflowId.split(':');
  return owner === tenant;
}

/**
 * The one check of the `/tenants/:tenant` path prefix, mounted on it for the public webhook routes
 * (no caller yet: only the name is checked) and again after authentication on the service API:
 * 400 for a name that is no tenant's, 404 for a tenant other than the caller's, before any route
 * or permission check runs.
 */
export function pathTenant(): RequestHandler {
  return (req, res, next) => {
    const named = (req.params as { tenant?: string }).tenant ?? '';
    if (!tenantPattern.test(named)) return sendError(res, 400, 'invalid_tenant', `the path's tenant must be ${tenantNameRule}`);
    const principal = principalOf(res);
    if (principal && principal.tenant !== named) return sendError(res, 404, 'not_found', 'no such resource for this tenant');
    next();
  };
}

/** The request's tenant, or undefined after answering 404 (another tenant) or 400 (an invalid name). */
export function requireTenant(req: Request, res: Response, config: Pick<Config, 'DEFAULT_TENANT'>): string | undefined {
  const named = (req.params as { tenant?: string }).tenant;
  const principal = principalOf(res);
  if (principal) {
    if (named !== undefined && named !== principal.tenant) {
      sendError(res, 404, 'not_found', 'no such resource for this tenant');
      return undefined;
    }
    return principal.tenant;
  }
  if (named === undefined) return config.DEFAULT_TENANT;
  if (tenantPattern.test(named)) return named;
  sendError(res, 400, 'invalid_tenant', `tenant must be ${tenantNameRule}`);
  return undefined;
}
