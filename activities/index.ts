/**
 * All activities, built over their dependencies. Workflows import this module as a type only
 * (`ReturnType<typeof createActivities>`); the worker calls it with real dependencies.
 */
import type { Pool } from 'pg';
import { createStripeHandlers } from './handlers/stripe';
import { createLedgerActivities } from './ledger';

export interface ActivityDeps {
  pool: Pool;
}

export function createActivities({ pool }: ActivityDeps) {
  return {
    ...createLedgerActivities(pool),
    ...createStripeHandlers(pool),
  };
}
