/**
 * Jest global set-up: the test database (migrated), a real Temporal dev server on a free port
 * (or the one at TEMPORAL_TEST_ADDRESS), with Switchyard's search attributes registered, and the
 * workflow bundle of this run's workflows/ source. Test files read the addresses and the bundle's
 * path from the environment set here.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { migrate } from '../../db/migrate';
import { findFreePort, startDevServer, workflowTaskTimeoutConfig, type DevServer } from '../../lib/temporal/dev-server';
import { projectRoot } from '../../lib/config/paths';
import { prepareNamespace } from '../../scripts/prepare';
import { writeWorkflowBundle } from '../../workers/worker';

declare global {
  var __switchyardDevServer: DevServer | undefined;
  var __switchyardDevServerDir: string | undefined;
  var __switchyardBundleDir: string | undefined;
}

/**
 * The workflow bundle, made once per jest run (webpack takes seconds, and jest gives every test
 * file its own module registry, so a bundle cached in a support module was made again by every
 * suite) from the source as it is now, into a temporary folder the teardown removes. Its path goes
 * to the test files as TEST_WORKFLOW_BUNDLE (test/support/workflow-bundle.ts).
 */
async function bundleForTheRun(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-test-bundle-'));
  globalThis.__switchyardBundleDir = dir;
  const file = path.join(dir, 'workflow-bundle.js');
  await writeWorkflowBundle(file);
  process.env.TEST_WORKFLOW_BUNDLE = file;
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

/**
 * Keyrings for the test processes (payload codec, secrets master key) unless the caller set its
 * own: derived from public labels, so every run can read what earlier runs stored in the test
 * database. Test-only values by construction; nothing outside the test database uses them.
 */
function useTestKeyrings(): void {
  for (const [name, label] of [['PAYLOAD_ENCRYPTION_KEYS', 'payload'], ['SECRETS_MASTER_KEYS', 'master']] as const) {
    if (process.env[name] !== undefined || process.env[`${name}_FILE`] !== undefined) continue;
    process.env[name] = `test-${label}-1:${createHash('sha256').update(`switchyard test-only ${label} key 1`).digest('base64')}`;
  }
}

export default async function globalSetup(): Promise<void> {
  useTestKeyrings();
  // Bundled while the database and the dev server start (awaited last; a failure fails the set-up).
  const bundled = bundleForTheRun();
  bundled.catch(() => undefined);
  const databaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/switchyard_test';
  process.env.DATABASE_URL = databaseUrl;
  await migrate(databaseUrl);
  await resetBudgets(databaseUrl);

  let address = process.env.TEMPORAL_TEST_ADDRESS;
  if (!address) {
    // A SQLite file, not the in-memory default: under the heaviest suites the in-memory store was
    // seen to fail for good ("GetNamespace operation failed. Error interrupted (9)") and take every
    // later suite with it. The file lives in a temporary folder the teardown removes; the server's
    // own output goes to test-artifacts/ for a post-mortem.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-test-temporal-'));
    mkdirSync(path.join(projectRoot, 'test-artifacts'), { recursive: true });
    const server = await startDevServer({
      port: await findFreePort(),
      dbFile: path.join(dir, 'temporal.db'),
      logFile: path.join(projectRoot, 'test-artifacts', 'temporal-dev-server.log'),
      // CI's cache-off step sets TEST_WORKFLOW_TASK_TIMEOUT=2s (see scripts/test-cache-off.sh).
      dynamicConfig: process.env.TEST_WORKFLOW_TASK_TIMEOUT ? [workflowTaskTimeoutConfig(process.env.TEST_WORKFLOW_TASK_TIMEOUT)] : [],
    });
    globalThis.__switchyardDevServer = server;
    globalThis.__switchyardDevServerDir = dir;
    address = server.address;
  }
  process.env.TEMPORAL_ADDRESS = address;
  process.env.TEMPORAL_NAMESPACE = 'default';
  // Worker processes started by tests must not create the monitoring Schedules: their probes
  // would hit the fake providers of unrelated tests. The monitoring test creates its own.
  process.env.SCHEDULES_AT_WORKER_START = 'false';
  await prepareNamespace(address, 'default');
  await bundled;
}
