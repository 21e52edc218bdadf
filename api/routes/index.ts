/**
 * The service API's route groups, in the order the service router mounts them (api/app.ts) and
 * api/access.ts tables them. A function, not a constant: api/access.ts reads it once every route
 * module has loaded (route modules import access.ts, which imports this).
 */
import type { AppDeps } from '../app';
import type { RouteGroup } from '../route';
import { alertmanagerRoutes } from './alertmanager';
import { apiKeyRoutes } from './api-keys';
import { auditRoutes } from './audit';
import { batchRoutes } from './batches';
import { callRoutes } from './calls';
import { codecRoutes } from './codec';
import { healthDetailRoutes } from './health-detailed';
import { monitoringRoutes } from './monitoring';
import { operationsRoutes } from './operations';
import { providerRoutes } from './providers';
import { sessionRoutes } from './session';
import { statsRoutes } from './stats';
import { streamRoutes } from './stream';
import { subscriberRoutes } from './subscribers';
import { suppressionRoutes } from './suppressions';
import { webhookEventRoutes } from './webhook-events';
import { webhookSecretRoutes } from './webhook-secrets';

/** Every group takes a part of the app's dependencies; its context is its handlers' own business. */
export type ServiceRouteGroup = RouteGroup<AppDeps, unknown>;

export function serviceRouteGroups(): readonly ServiceRouteGroup[] {
  return [
    sessionRoutes,
    codecRoutes,
    batchRoutes,
    callRoutes,
    providerRoutes,
    subscriberRoutes,
    suppressionRoutes,
    webhookEventRoutes,
    apiKeyRoutes,
    auditRoutes,
    webhookSecretRoutes,
    // Before monitoring: GET /alerts/statistics is matched before GET /alerts/:id.
    operationsRoutes,
    monitoringRoutes,
    statsRoutes,
    healthDetailRoutes,
    streamRoutes,
    alertmanagerRoutes,
  ];
}
