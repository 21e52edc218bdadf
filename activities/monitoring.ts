/**
 * Every monitoring activity (health probes, SLA reports, alerts, cost anomalies) over its dependencies; spread
 * into createActivities. The alert channels and escalation timing come from the environment the
 * worker is given (lib/config/monitoring-config.ts).
 */
import type { Pool } from 'pg';
import { loadMonitoringConfig } from '../lib/config/monitoring-config';
import type { OutboundPolicy } from '../lib/security/outbound-policy';
import type { ProviderRegistry } from '../lib/config/registry';
import type { Keyring } from '../lib/security/keyring';
import { configuredSecretsKeyring } from '../lib/security/stored-secrets';
import { createAlertActivities } from './alerts';
import { createCredentialResolver } from './credentials';
import { createCostActivities } from './costs';
import { createProbeActivities } from './probes';
import { createSlaActivities } from './sla';

export function createMonitoringActivities(deps: { pool: Pool; registry: ProviderRegistry; env: NodeJS.ProcessEnv; outbound?: OutboundPolicy; secretsKeyring?: Keyring }) {
  const monitoring = loadMonitoringConfig(deps.env);
  const credentials = createCredentialResolver({ pool: deps.pool, keyring: deps.secretsKeyring ?? configuredSecretsKeyring(), env: deps.env });
  return {
    ...createProbeActivities({ pool: deps.pool, registry: deps.registry, monitoring, credentials, outbound: deps.outbound }),
    ...createSlaActivities({ pool: deps.pool, registry: deps.registry }),
    ...createAlertActivities({ pool: deps.pool, monitoring, outbound: deps.outbound }),
    ...createCostActivities({ pool: deps.pool, registry: deps.registry, settings: monitoring }),
  };
}
