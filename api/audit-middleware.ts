/**
 * The service API's half of the audit log (lib/data/audit-log.ts). Which routes are audited, and as which
 * action, is in each route's declaration next to its permission (api/route.ts `audit`, read
 * through api/access.ts); this middleware records every
 * authenticated request to one of them once its answer is sent: actor, role, tenant, action,
 * target, HTTP status and outcome (`done` for 2xx, `denied` for 403, `failed` otherwise, so a
 * refused or failed attempt is on record but never as done). The target is the route's last path
 * parameter unless the route names it (`noteAudit`, e.g. a created subscriber's id); so is the
 * detail, which never carries a secret.
 */
import type { RequestHandler, Response } from 'express';
import type { Pool } from 'pg';
import { recordAudit, type AuditOutcome } from '../lib/data/audit-log';
import type { Logger } from '../lib/logger';
import { declaredRoute } from './access';
import { principalOf } from './auth';

interface AuditNote {
  target?: string;
  detail?: Record<string, unknown>;
}

/** For a route: what its audit row names as target and detail (no secrets). */
export function noteAudit(res: Response, note: AuditNote): void {
  res.locals.audit = { ...(res.locals.audit as AuditNote | undefined), ...note };
}

function outcomeOf(status: number): AuditOutcome {
  if (status >= 200 && status < 300) return 'done';
  return status === 403 ? 'denied' : 'failed';
}

function decoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Service-router middleware, after authentication and before authorization (so 403s are recorded). */
export function auditTrail({ pool, logger }: { pool: Pool; logger: Logger }): RequestHandler {
  return (req, res, next) => {
    const route = declaredRoute(req.method, req.path);
    const action = route?.audit;
    const principal = principalOf(res);
    // The development codec listener (loopback) serves no audited route.
    if (!action || !principal || principal.kind === 'loopback') return next();
    const kind = principal.kind;
    const atMs = performance.timeOrigin + performance.now();
    const params = Object.values(route.params);
    res.on('finish', () => {
      const note = (res.locals.audit as AuditNote | undefined) ?? {};
      const last = params[params.length - 1];
      recordAudit(pool, {
        tenant: principal.tenant,
        actor: { kind, id: principal.id, role: principal.role },
        action,
        target: note.target ?? (last === undefined ? null : decoded(last)),
        detail: note.detail,
        status: res.statusCode,
        outcome: outcomeOf(res.statusCode),
        atMs,
      }).catch((err: unknown) => logger.error({ err, action, tenant: principal.tenant, status: res.statusCode }, 'audit log write failed'));
    });
    next();
  };
}
