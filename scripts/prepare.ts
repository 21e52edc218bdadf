/**
 * The Node half of the set-up (scripts/setup.sh does the installs): apply the PostgreSQL
 * migrations (creating the database when missing) and, when a Temporal server answers at
 * TEMPORAL_ADDRESS, register the custom search attributes on the namespace and set its workflow
 * execution retention (TEMPORAL_NAMESPACE_RETENTION_DAYS).
 * With SECRETS_MASTER_KEYS configured it also encrypts subscriber signing secrets still stored in
 * plaintext (from before migration 010, or written meanwhile by an older API).
 *   node dist/scripts/prepare.js [--database-only]
 */
import { Connection } from '@temporalio/client';
import { migrate } from '../db/migrate';
import { loadConfig } from '../lib/config/config';
import { createPool } from '../lib/data/db';
import type { Keyring } from '../lib/security/keyring';
import { sealPlaintextSubscriberSecrets } from '../lib/security/stored-secrets';
import { ensureNamespaceRetention, ensureSearchAttributes, isTemporalReachable } from '../lib/temporal/connection';

export async function prepareDatabase(databaseUrl: string, secretsKeyring?: Keyring): Promise<void> {
  const applied = await migrate(databaseUrl, (line) => console.log(`[setup] ${line}`));
  if (applied.length === 0) console.log('[setup] database schema is up to date');
  if (secretsKeyring) {
    const pool = createPool(databaseUrl, { max: 1 });
    try {
      const { sealed } = await sealPlaintextSubscriberSecrets(pool, secretsKeyring);
      if (sealed > 0) console.log(`[setup] encrypted ${sealed} subscriber signing secret(s) stored in plaintext`);
    } finally {
      await pool.end();
    }
  }
}

/** `retentionDays`: default TEMPORAL_NAMESPACE_RETENTION_DAYS from the environment. */
export async function prepareNamespace(
  address: string,
  namespace: string,
  retentionDays: number = loadConfig().TEMPORAL_NAMESPACE_RETENTION_DAYS,
): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const previous = await ensureNamespaceRetention(connection, namespace, retentionDays);
    console.log(
      previous === undefined
        ? `[setup] namespace ${namespace} keeps closed workflows ${retentionDays} days`
        : `[setup] namespace ${namespace} retention set to ${retentionDays} days (was ${previous})`,
    );
    const added = await ensureSearchAttributes(connection, namespace);
    console.log(
      added.length > 0
        ? `[setup] registered search attributes ${added.join(', ')} on namespace ${namespace}`
        : `[setup] search attributes already registered on namespace ${namespace}`,
    );
  } finally {
    await connection.close();
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  await prepareDatabase(config.DATABASE_URL, config.SECRETS_MASTER_KEYS);
  if (process.argv.includes('--database-only')) return;
  if (await isTemporalReachable(config.TEMPORAL_ADDRESS)) {
    await prepareNamespace(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE, config.TEMPORAL_NAMESPACE_RETENTION_DAYS);
  } else {
    console.log(`[setup] no Temporal server at ${config.TEMPORAL_ADDRESS} yet; search attributes are registered when one starts`);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`[setup] failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
