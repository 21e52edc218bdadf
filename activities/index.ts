/**
 * All activities, built over their dependencies; the webhook handlers come from the registered
 * providers (providers/index.ts). Workflows import this module as a type only
 * (`ReturnType<typeof createActivities>`); the worker calls it with real dependencies.
 */
import type { Duration } from '@temporalio/common';
import type { Pool } from 'pg';
import type { Keyring } from '../lib/security/keyring';
import type { OutboundPolicy } from '../lib/security/outbound-policy';
import type { ProviderRegistry } from '../lib/config/registry';
import { loadConfig } from '../lib/config/config';
import { createWebhookHandlers } from '../providers';
import { createBatchActivities } from './batches';
import { createDeliveryActivities } from './deliveries';
import { createLedgerActivities } from './ledger';
import { createMonitoringActivities } from './monitoring';
import { createProviderCallActivities } from './call-provider';
import { createRetentionActivities } from './retention';

export interface ActivityDeps {
  pool: Pool;
  registry: ProviderRegistry;
  /** Where provider credentials are read from (process.env in production). */
  env: NodeJS.ProcessEnv;
  /** Provider task queues are `${prefix}${provider}`. */
  providerTaskQueuePrefix: string;
  /** Overrides the policy table's delivery retry schedule (tests). */
  deliveryRetrySchedule?: readonly Duration[];
  /** Which addresses provider requests, subscriber deliveries and alert webhooks may reach; default: the strict policy. */
  outbound?: OutboundPolicy;
  /** SECRETS_MASTER_KEYS (stored signing secrets, provider credentials); default: the process's configuration. */
  secretsKeyring?: Keyring;
}

/** The registry the batch plans read: with FEATURE_BATCHING=off (a rollback switch), no provider batches, so every item is a call of its own. */
function batchingOf({ registry, env }: ActivityDeps): ProviderRegistry {
  if (loadConfig(env).FEATURE_BATCHING === 'on') return registry;
  return Object.fromEntries(Object.entries(registry).map(([name, provider]) => [name, { ...provider, batch: undefined }]));
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createLedgerActivities(deps.pool),
    ...createWebhookHandlers(deps.pool),
    ...createProviderCallActivities(deps),
    ...createBatchActivities(deps.pool, batchingOf(deps), deps.providerTaskQueuePrefix),
    ...createDeliveryActivities({ pool: deps.pool, retrySchedule: deps.deliveryRetrySchedule, outbound: deps.outbound, secretsKeyring: deps.secretsKeyring }),
    ...createMonitoringActivities({ pool: deps.pool, registry: deps.registry, env: deps.env, outbound: deps.outbound, secretsKeyring: deps.secretsKeyring }),
    ...createRetentionActivities(deps.pool, deps.env),
  };
}
