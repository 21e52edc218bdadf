/**
 * Who may do what: the one declared table of roles and permissions. Every service-API route names
 * its permission with `allow(...)`; the README's role table and the route × role tests are read
 * from here (and the OpenAPI document carries each route's permission as `x-permission`).
 *
 * - admin: configuration, subscribers, schedules, API keys, and everything an operator does;
 * - operator: read everything in its tenant, retry/replay, acknowledge alerts;
 * - service: start calls, sagas and batch items, and read those.
 */
import type { RequestHandler } from 'express';
import type { Role } from '../lib/api-keys';
import { sendError } from './errors';
import { principalOf } from './auth';

export const permissions = {
  /** POST /calls, POST /bookings, POST /batches: start work. */
  'work:start': ['admin', 'service'],
  /** GET /calls/:id, /bookings/:id, /batches/items/:id. */
  'work:read': ['admin', 'operator', 'service'],
  /** Webhook events, deliveries, the live stream. */
  'events:read': ['admin', 'operator'],
  /** Retry an event, replay a delivery or a subscriber's dead letters. */
  'events:replay': ['admin', 'operator'],
  'subscribers:read': ['admin', 'operator'],
  'subscribers:write': ['admin'],
  /** Provider health, SLA, alerts, budgets, circuits. */
  'monitoring:read': ['admin', 'operator'],
  'alerts:ack': ['admin', 'operator'],
  /** Cache invalidation and other configuration. */
  'config:write': ['admin'],
  'keys:manage': ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof permissions;

export function roleMay(role: Role, permission: Permission): boolean {
  return (permissions[permission] as readonly Role[]).includes(role);
}

/** Route middleware: 403 with the reason unless the authenticated caller's role has `permission`. */
export function allow(permission: Permission): RequestHandler {
  const handler: RequestHandler = (_req, res, next) => {
    const principal = principalOf(res);
    if (!principal) {
      sendError(res, 401, 'unauthenticated', 'credentials required: Authorization: Bearer <API key or token>');
      return;
    }
    if (!roleMay(principal.role, permission)) {
      sendError(res, 403, 'forbidden', `role "${principal.role}" may not ${permission}`);
      return;
    }
    next();
  };
  return Object.assign(handler, { permission });
}
