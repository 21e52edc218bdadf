/**
 * Jest global set-up: the test database (migrated) and a real Temporal dev server on a free port
 * (or the one at TEMPORAL_TEST_ADDRESS), with Switchyard's search attributes registered. Test
 * files read the addresses from the environment set here.
 */
import { Client } from 'pg';
import { migrate } from '../../db/migrate';
import { findFreePort, startDevServer, type DevServer } from '../../lib/dev-server';
import { prepareNamespace } from '../../scripts/prepare';

declare global {
  var __switchyardDevServer: DevServer | undefined;
}

/**
 * Provider budgets are per provider and per day, not per tenant, so the cost rows of earlier runs
 * against the same test database add up: after enough runs in one day the tests' calls would be
 * refused (429 budget_exceeded). Each run starts from no spend; only a test database is touched.
 */
async function resetBudgets(databaseUrl: string): Promise<void> {
  const name = new URL(databaseUrl).pathname.slice(1);
  if (!/test/.test(name)) throw new Error(`refusing to reset budgets in "${name}": TEST_DATABASE_URL must name a test database`);
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('DELETE FROM cost_ledger');
    await client.query('DELETE FROM budget_alerts');
  } finally {
    await client.end();
  }
}

export default async function globalSetup(): Promise<void> {
  const databaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/switchyard_test';
  process.env.DATABASE_URL = databaseUrl;
  await migrate(databaseUrl);
  await resetBudgets(databaseUrl);

  let address = process.env.TEMPORAL_TEST_ADDRESS;
  if (!address) {
    const server = await startDevServer({ port: await findFreePort() });
    globalThis.__switchyardDevServer = server;
    address = server.address;
  }
  process.env.TEMPORAL_ADDRESS = address;
  process.env.TEMPORAL_NAMESPACE = 'default';
  // Worker processes started by tests must not create the monitoring Schedules: their probes
  // would hit the fake providers of unrelated tests. The monitoring test creates its own.
  process.env.SCHEDULES_AT_WORKER_START = 'false';
  await prepareNamespace(address, 'default');
}
