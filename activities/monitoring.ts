/**
 * Every monitoring activity (health probes, SLA reports, alerts) over its dependencies; spread
 * into createActivities. The alert channels and escalation timing come from the environment the
 * worker is given (lib/monitoring-config.ts).
 */
import type { Pool } from 'pg';
import { loadMonitoringConfig } from '../lib/monitoring-config';
import type { ProviderRegistry } from '../lib/registry';
import { createAlertActivities } from './alerts';
import { createProbeActivities } from './probes';
import { createSlaActivities } from './sla';

export function createMonitoringActivities(deps: { pool: Pool; registry: ProviderRegistry; env: NodeJS.ProcessEnv }) {
  const monitoring = loadMonitoringConfig(deps.env);
  return {
    ...createProbeActivities({ pool: deps.pool, registry: deps.registry, monitoring }),
    ...createSlaActivities({ pool: deps.pool, registry: deps.registry }),
    ...createAlertActivities({ pool: deps.pool, monitoring }),
  };
}
