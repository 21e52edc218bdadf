/**
 * The tenant of a request: `/tenants/:tenant/...` routes name it, every other route belongs to the
 * configured default tenant. Every query, workflow id and list is scoped by it. (When API
 * credentials arrive, the credential's tenant replaces the path's.)
 */
import type { Request, Response } from 'express';
import type { Config } from '../lib/config';
import { sendError } from './errors';

export const tenantPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function tenantOf(req: Request, config: Pick<Config, 'DEFAULT_TENANT'>): string | undefined {
  const named = (req.params as { tenant?: string }).tenant;
  if (named === undefined) return config.DEFAULT_TENANT;
  return tenantPattern.test(named) ? named : undefined;
}

/** Workflow ids start with `{kind}:{tenant}:`; anything else belongs to another tenant. */
export function workflowBelongsTo(workflowId: string, tenant: string): boolean {
  const [, owner] = workflowId.split(':');
  return owner === tenant;
}

/** The request's tenant, or a 400 answered when the path names an invalid one. */
export function requireTenant(req: Request, res: Response, config: Pick<Config, 'DEFAULT_TENANT'>): string | undefined {
  const tenant = tenantOf(req, config);
  if (!tenant) sendError(res, 400, 'invalid_tenant', 'tenant must be lowercase letters, digits, "_" and "-"');
  return tenant;
}
