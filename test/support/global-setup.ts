/**
 * Jest global set-up: the test database (migrated) and a real Temporal dev server on a free port
 * (or the one at TEMPORAL_TEST_ADDRESS), with Switchyard's search attributes registered. Test
 * files read the addresses from the environment set here.
 */
import { migrate } from '../../db/migrate';
import { findFreePort, startDevServer, type DevServer } from '../../lib/dev-server';
import { prepareNamespace } from '../../scripts/prepare';

declare global {
  var __switchyardDevServer: DevServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  const databaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/switchyard_test';
  process.env.DATABASE_URL = databaseUrl;
  await migrate(databaseUrl);

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
