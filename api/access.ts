/**
 * Who may do what: the roles' permissions, declared here, and the table of service-API routes,
 * made from the route declarations (api/route.ts, api/routes/), each of which names its
 * permission. The service router authorizes each request against that table before any route
 * runs; a request that matches no declared route answers 404, so a route is refused, never open,
 * until it is declared (and a declaration that lacks its permission, summary or answer schemas
 * stops the table from being built). Routes under `/tenants/:tenant/…` take the permission of the
 * same route without the prefix; the path's tenant must be the caller's (api/tenant.ts
 * `pathTenant`, checked before this). The role table of docs/SECURITY.md is `roleTable()`.
 *
 * - admin: configuration, subscribers, API keys, and everything an operator does;
 * - operator: read everything in its tenant (and the configuration, without secrets), retry/replay,
 *   acknowledge alerts, reset a circuit;
 * - service: start calls, sagas (bookings) and batch items, and read those; raise alerts
 *   (Alertmanager's receiver).
 *
 * A declaration's `audit` names its audit action: api/audit-middleware.ts records every authenticated
 * request to such a route in the audit log (actor, tenant, target, HTTP status), read by `GET /audit`.
 */
import type { RequestHandler } from 'express';
import { match } from 'path-to-regexp';
import { roles, type Role } from '../lib/security/api-keys';
import { principalOf } from './auth';
import { sendError } from './errors';
import { declarationProblems, type RouteDeclaration } from './route';
import { serviceRouteGroups } from './routes';

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
  /** The suppression list (bounced, unsubscribed, SMS opt-outs): read it, lift an entry. */
  'suppressions:read': ['admin', 'operator'],
  'suppressions:write': ['admin', 'operator'],
  /** Provider health, SLA, alerts, budgets, circuits. */
  'monitoring:read': ['admin', 'operator'],
  'alerts:ack': ['admin', 'operator'],
  /** Close a provider's circuit breaker by hand (audited): an operator's action, like acknowledging an alert. */
  'circuits:reset': ['admin', 'operator'],
  /** Raise and resolve alerts from Alertmanager (a service key, sent by Alertmanager's http_config). */
  'alerts:raise': ['admin', 'service'],
  /** The configuration in force and the failover table, without secrets (values of secret variables never leave the process). */
  'config:read': ['admin', 'operator'],
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

export function roleMay(role: Role, permission: Permission): boolean {
  return (permissions[permission] as readonly Role[]).includes(role);
}

/** A service route as the table holds it: its declaration (api/route.ts). */
export type ServiceRoute = RouteDeclaration;

let table: readonly ServiceRoute[] | undefined;
let matchers: Array<{ route: ServiceRoute; matches: ReturnType<typeof match> }> | undefined;

/**
 * Every service-API route, in the order the service router mounts them: the declarations of the
 * groups api/routes/index.ts lists. Read on first use, once every route module has loaded (route
 * modules import this module). Throws naming each declaration that lacks something, and each
 * method and path declared twice.
 */
export function serviceRoutes(): readonly ServiceRoute[] {
  if (table) return table;
  const routes = serviceRouteGroups().flatMap((group): ServiceRoute[] => [...group.routes]);
  const known = Object.keys(permissions);
  const problems = routes.flatMap((route) => declarationProblems(route, known));
  const seen = new Set<string>();
  for (const { method, path } of routes) {
    if (seen.has(`${method} ${path}`)) problems.push(`${method} ${path}: declared twice`);
    seen.add(`${method} ${path}`);
  }
  if (problems.length > 0) throw new Error(`service route declarations (api/routes/):\n${problems.join('\n')}`);
  return (table = routes);
}

/** The declared route of a request (`HEAD` as `GET`) with its path parameters, or undefined. */
export function declaredRoute(method: string, path: string): (ServiceRoute & { params: Record<string, string> }) | undefined {
  matchers ??= serviceRoutes().map((route) => ({ route, matches: match(route.path, { decode: false }) }));
  const unprefixed = path.replace(/^\/tenants\/[^/]+(?=\/)/, '');
  const wanted = method === 'HEAD' ? 'GET' : method;
  for (const { route, matches } of matchers) {
    if (route.method !== wanted) continue;
    const found = matches(unprefixed);
    if (found !== false) return { ...route, params: found.params as Record<string, string> };
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

/**
 * The role table of docs/SECURITY.md (between its `roles:start` and `roles:end` markers): each
 * permission, the declared routes that need it, and the roles that have it.
 */
export function roleTable(): string {
  const header = `| permission | routes | ${roles.join(' | ')} |`;
  const rule = `|---|---|${roles.map(() => '---|').join('')}`;
  const rows = (Object.keys(permissions) as Permission[]).map((permission) => {
    const routes = serviceRoutes()
      .filter((route) => route.permission === permission)
      .map((route) => `\`${route.method} ${route.path}\``)
      .join(', ');
    const marks = roles.map((role) => (roleMay(role, permission) ? ' ✓ ' : ' '));
    return `| \`${permission}\` | ${routes}${routes ? ' ' : ''}|${marks.join('|')}|`;
  });
  return [header, rule, ...rows].join('\n');
}
