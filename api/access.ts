/**
 * Who may do what, declared once: the roles' permissions and every service-API route's
 * permission. The service router authorizes each request against this table before any route
 * runs; a request that matches no declared route answers 404, so a route added without a line here
 * is refused, never open (and test/integration/access.test.ts fails until it is declared).
 * Routes under `/tenants/:tenant/…` take the permission of the same route without the prefix;
 * the path's tenant must be the caller's (api/tenant.ts `pathTenant`, checked before this).
 *
 * - admin: configuration, subscribers, API keys, and everything an operator does;
 * - operator: read everything in its tenant, retry/replay, acknowledge alerts;
 * - service: start calls, sagas (bookings) and batch items, and read those; raise alerts
 *   (Alertmanager's receiver).
 *
 * A route's 4th element names its audit action: api/audit.ts records every authenticated request
 * to such a route in the audit log (actor, tenant, target, HTTP status), read by `GET /audit`.
 */
import type { RequestHandler } from 'express';
import { match } from 'path-to-regexp';
import type { Role } from '../lib/security/api-keys';
import type { AuditAction } from '../lib/data/audit-log';
import { principalOf } from './auth';
import { sendError } from './errors';

export const permissions = {
  /** Who the caller is (tenant, role, permissions): every role, e.g. for the console's sign-in. */
  'session:read': ['admin', 'operator', 'service'],
  /** Start work: provider calls, booking sagas, batch items. */
  'work:start': ['admin', 'service'],
  /** Read started work: calls, bookings, batch items. */
  'work:read': ['admin', 'operator', 'service'],
  /** Webhook events, deliveries, the live stream. */
  'events:read': ['admin', 'operator'],
  /** Retry an event, replay a delivery or a subscriber's events. */
  'events:replay': ['admin', 'operator'],
  'subscribers:read': ['admin', 'operator'],
  'subscribers:write': ['admin'],
  /** Provider health, SLA, alerts, budgets, circuits. */
  'monitoring:read': ['admin', 'operator'],
  'alerts:ack': ['admin', 'operator'],
  /** Raise and resolve alerts from Alertmanager (a service key, sent by Alertmanager's http_config). */
  'alerts:raise': ['admin', 'service'],
  /** Configuration: cache invalidation. */
  'config:write': ['admin'],
  'keys:manage': ['admin'],
  /** Webhook signing secrets stored in PostgreSQL (values are never read back). */
  'webhook-secrets:manage': ['admin'],
  /** The tenant's audit log of operator and admin actions. */
  'audit:read': ['admin'],
  /** The Temporal Web UI's codec endpoint: decrypt (and encrypt) the caller's tenant's workflow payloads. */
  'payloads:decode': ['admin', 'operator'],
  /**
   * No route of its own: what `POST /codec/decode` also opens for this role, the payloads that are
   * no tenant's (probes, SLA, alerts, alert SMS, retention) and those sealed before payloads named
   * their owner. Admins only: those hold the shared configuration (alert channels and recipients,
   * provider probe answers) that admins manage and operators see only summarised (provider-health,
   * sla, alerts), and old payloads may be any tenant's.
   */
  'payloads:decode-system': ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof permissions;
export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** Every service-API route: method, Express path, permission, and the audit action it records (if any). */
export const serviceRoutes: ReadonlyArray<readonly [Method, string, Permission, AuditAction?]> = [
  ['GET', '/whoami', 'session:read'],
  ['POST', '/codec/decode', 'payloads:decode'],
  ['POST', '/codec/encode', 'payloads:decode'],
  ['POST', '/calls/:provider/:operation', 'work:start'],
  ['GET', '/calls', 'work:read'],
  ['GET', '/calls/:workflowId', 'work:read'],
  ['POST', '/bookings', 'work:start'],
  ['GET', '/bookings/:workflowId', 'work:read'],
  ['POST', '/batches/:provider/:operation', 'work:start'],
  ['GET', '/batches/items/:id', 'work:read'],
  ['GET', '/webhooks/events', 'events:read'],
  ['GET', '/webhooks/events/:workflowId', 'events:read'],
  ['POST', '/webhooks/events/:workflowId/retry', 'events:replay', 'event.retry'],
  ['GET', '/deliveries', 'events:read'],
  ['POST', '/deliveries/:id/replay', 'events:replay', 'delivery.replay'],
  ['GET', '/stream', 'events:read'],
  ['GET', '/subscribers', 'subscribers:read'],
  ['GET', '/subscribers/:id', 'subscribers:read'],
  ['POST', '/subscribers', 'subscribers:write', 'subscriber.create'],
  ['PATCH', '/subscribers/:id', 'subscribers:write', 'subscriber.update'],
  ['DELETE', '/subscribers/:id', 'subscribers:write', 'subscriber.delete'],
  ['POST', '/subscribers/:id/replay', 'events:replay', 'subscriber.replay'],
  ['GET', '/provider-health', 'monitoring:read'],
  ['GET', '/sla', 'monitoring:read'],
  ['GET', '/alerts', 'monitoring:read'],
  ['GET', '/alerts/:id', 'monitoring:read'],
  ['POST', '/alerts/:id/ack', 'alerts:ack', 'alert.ack'],
  ['POST', '/alerts/alertmanager', 'alerts:raise'],
  ['GET', '/budgets', 'monitoring:read'],
  ['GET', '/circuits', 'monitoring:read'],
  ['DELETE', '/cache', 'config:write', 'cache.invalidate'],
  ['GET', '/api-keys', 'keys:manage'],
  ['POST', '/api-keys', 'keys:manage', 'key.create'],
  ['DELETE', '/api-keys/:keyId', 'keys:manage', 'key.revoke'],
  ['GET', '/webhook-secrets', 'webhook-secrets:manage'],
  ['POST', '/webhook-secrets', 'webhook-secrets:manage', 'webhook-secret.create'],
  ['PATCH', '/webhook-secrets/:id', 'webhook-secrets:manage', 'webhook-secret.update'],
  ['DELETE', '/webhook-secrets/:id', 'webhook-secrets:manage', 'webhook-secret.delete'],
  ['GET', '/audit', 'audit:read'],
];

export function roleMay(role: Role, permission: Permission): boolean {
  return (permissions[permission] as readonly Role[]).includes(role);
}

const matchers = serviceRoutes.map(([method, path, permission, audit]) => ({ method, path, permission, audit, matches: match(path, { decode: false }) }));

/** The declared route of a request (`HEAD` as `GET`) with its path parameters, or undefined. */
export function declaredRoute(
  method: string,
  path: string,
): { method: Method; path: string; permission: Permission; audit?: AuditAction; params: Record<string, string> } | undefined {
  const unprefixed = path.replace(/^\/tenants\/[^/]+(?=\/)/, '');
  const wanted = method === 'HEAD' ? 'GET' : method;
  for (const m of matchers) {
    if (m.method !== wanted) continue;
    const found = m.matches(unprefixed);
    if (found !== false) return { method: m.method, path: m.path, permission: m.permission, audit: m.audit, params: found.params as Record<string, string> };
  }
  return undefined;
}

/** The declared permission of a request (`HEAD` as `GET`), or undefined when no route is declared. */
export function permissionFor(method: string, path: string): Permission | undefined {
  return declaredRoute(method, path)?.permission;
}

/** Service-router middleware (after authentication): 404 for undeclared routes, 403 with the reason for a role without the permission. */
export function authorize(): RequestHandler {
  return (req, res, next) => {
    const principal = principalOf(res);
    const permission = permissionFor(req.method, req.path);
    if (!permission) return sendError(res, 404, 'not_found', 'no such route');
    if (!principal) return sendError(res, 401, 'unauthenticated', 'credentials required');
    if (!roleMay(principal.role, permission)) return sendError(res, 403, 'forbidden', `role "${principal.role}" may not ${permission}`);
    next();
  };
}
