/**
 * Operator commands for the secrets stored in PostgreSQL (DATABASE_URL) under SECRETS_MASTER_KEYS:
 *   npm run secrets -- credentials set <provider> <field>     the value is read from stdin
 *   npm run secrets -- credentials list [--json]              providers and fields, never values
 *   npm run secrets -- credentials delete <provider> <field>
 *   npm run secrets -- status [--json]                        rows per table and master key id
 *   npm run secrets -- rotate-master [--batch-size 100]       re-wrap every data key under the first key
 *   npm run secrets -- seal-subscribers                       encrypt plaintext subscriber secrets left from before
 * Credential changes and rotations are written to the audit log under the system tenant "*"
 * (lib/audit.ts), as actor `cli` (the OS user); never a value.
 * Exit codes: 0 done, 1 failed (or rows that could not be re-wrapped), 2 bad usage.
 */
import { parseArgs } from 'node:util';
import type { Pool } from 'pg';
import { cliActor, recordAudit, systemAuditTenant, type AuditAction, type AuditActor, type AuditOutcome } from '../lib/audit';
import { loadConfig } from '../lib/config';
import { createPool } from '../lib/db';
import type { Keyring } from '../lib/keyring';
import { loadRegistry, type ProviderRegistry } from '../lib/registry';
import { NoKeyringError } from '../lib/secret-box';
import { readStdin } from '../lib/stdin';
import {
  countByMasterKey,
  deleteProviderCredential,
  listProviderCredentials,
  rotateMasterKey,
  sealPlaintextSubscriberSecrets,
  setProviderCredential,
} from '../lib/stored-secrets';

const usage = `usage:
  secrets credentials set <provider> <field>      (the value on stdin, e.g. printf %s "$VALUE" | …)
  secrets credentials list [--json]
  secrets credentials delete <provider> <field>
  secrets status [--json]
  secrets rotate-master [--batch-size <n>]
  secrets seal-subscribers [--batch-size <n>]`;

export class UsageError extends Error {}

export interface SecretsCommandIo {
  pool: Pool;
  keyring: Keyring | undefined;
  registry: ProviderRegistry;
  /** The whole of stdin (for `credentials set`). */
  readInput: () => Promise<string>;
  out: (line: string) => void;
  /** Who runs it, for the audit log (default: the OS user, as actor `cli`). */
  actor?: AuditActor;
}

/** A credential change or a rotation, on record under the system tenant (never a value). */
function audit(io: SecretsCommandIo, action: AuditAction, target: string | null, detail: Record<string, unknown>, outcome: AuditOutcome = 'done'): Promise<void> {
  return recordAudit(io.pool, { tenant: systemAuditTenant, actor: io.actor ?? cliActor(), action, target, detail, outcome });
}

function requireKeyring(keyring: Keyring | undefined): Keyring {
  if (!keyring) throw new NoKeyringError();
  return keyring;
}

/** The provider and field named, checked against config/providers.json. */
function credentialTarget(registry: ProviderRegistry, provider: string | undefined, field: string | undefined): { provider: string; field: string } {
  if (!provider || !field) throw new UsageError('needs <provider> <field>');
  const config = registry[provider];
  if (!config) throw new UsageError(`unknown provider "${provider}" (config/providers.json lists ${Object.keys(registry).join(', ')})`);
  const fields = Object.keys(config.credentials);
  if (!fields.includes(field)) throw new UsageError(`provider ${provider} has no credential "${field}" (its fields: ${fields.join(', ') || 'none'})`);
  return { provider, field };
}

/** Runs one command; returns the exit code. */
export async function secretsCommand(argv: string[], io: SecretsCommandIo): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, 'batch-size': { type: 'string' } },
  });
  const batchSize = values['batch-size'] === undefined ? 100 : Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new UsageError('--batch-size: a whole number from 1 to 10000');
  const print = (json: unknown, text: string) => io.out(values.json ? JSON.stringify(json) : text);
  const [command, sub, ...rest] = positionals;

  if (command === 'credentials') {
    if (sub === 'set') {
      const target = credentialTarget(io.registry, rest[0], rest[1]);
      const value = (await io.readInput()).replace(/\r?\n$/, '');
      if (value === '') throw new UsageError('credentials set reads the value from stdin, and it was empty');
      await setProviderCredential(io.pool, requireKeyring(io.keyring), target.provider, target.field, value);
      await audit(io, 'credential.set', `${target.provider}.${target.field}`, { masterKeyId: io.keyring!.currentId });
      print({ set: true, ...target }, `stored ${target.provider} ${target.field} (encrypted under master key "${io.keyring!.currentId}"); workers use it within seconds`);
      return 0;
    }
    if (sub === 'list') {
      const rows = await listProviderCredentials(io.pool);
      print(rows, rows.map((r) => `${r.provider}  ${r.field}  key ${r.masterKeyId}  updated ${r.updatedAt}`).join('\n') || '(no stored credentials: workers use the environment variables)');
      return 0;
    }
    if (sub === 'delete') {
      const target = credentialTarget(io.registry, rest[0], rest[1]);
      const deleted = await deleteProviderCredential(io.pool, target.provider, target.field);
      await audit(io, 'credential.delete', `${target.provider}.${target.field}`, {}, deleted ? 'done' : 'failed');
      print({ deleted, ...target }, deleted ? `deleted ${target.provider} ${target.field} (the environment variable applies again)` : `no stored ${target.provider} ${target.field}`);
      return deleted ? 0 : 1;
    }
    throw new UsageError(sub ? `unknown credentials command "${sub}"` : 'credentials needs set, list or delete');
  }
  if (command === 'status') {
    const counts = await countByMasterKey(io.pool);
    const known = new Set(io.keyring?.keys.keys() ?? []);
    print(
      { currentKeyId: io.keyring?.currentId ?? null, counts: counts.map((c) => ({ ...c, configured: known.has(c.keyId) })) },
      [
        `current master key: ${io.keyring?.currentId ?? '(SECRETS_MASTER_KEYS not configured)'}`,
        ...counts.map((c) => `${c.table}  key ${c.keyId}${known.has(c.keyId) ? '' : ' (NOT CONFIGURED: these rows cannot be opened)'}  ${c.rows} row(s)`),
      ].join('\n'),
    );
    return 0;
  }
  if (command === 'rotate-master') {
    const keyring = requireKeyring(io.keyring);
    io.out(`re-wrapping every data key under master key "${keyring.currentId}", ${batchSize} rows per batch`);
    const report = await rotateMasterKey(io.pool, keyring, { batchSize, log: io.out });
    await audit(io, 'master-key.rotate', keyring.currentId, { rewrapped: report.rewrapped, failed: report.failed.length }, report.failed.length > 0 ? 'failed' : 'done');
    io.out(`done: ${report.rewrapped} re-wrapped, ${report.failed.length} could not be${report.failed.length > 0 ? ' (left unchanged):' : ''}`);
    for (const failure of report.failed) io.out(`  ${failure.table} ${failure.id}: ${failure.reason}`);
    return report.failed.length > 0 ? 1 : 0;
  }
  if (command === 'seal-subscribers') {
    const { sealed } = await sealPlaintextSubscriberSecrets(io.pool, requireKeyring(io.keyring), { batchSize, log: io.out });
    io.out(`done: ${sealed} subscriber secret(s) encrypted`);
    return 0;
  }
  throw new UsageError(command ? `unknown command "${command}"` : 'a command is required');
}

async function main(): Promise<void> {
  const config = loadConfig();
  const pool = createPool(config.DATABASE_URL, { max: 2 });
  try {
    process.exitCode = await secretsCommand(process.argv.slice(2), {
      pool,
      keyring: config.SECRETS_MASTER_KEYS,
      registry: loadRegistry(),
      readInput: readStdin,
      out: (line) => console.log(line),
    });
  } finally {
    await pool.end();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(usage);
      process.exit(2);
    }
    process.exit(1);
  });
}
