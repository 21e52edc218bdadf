/**
 * `switchyard secrets …` (also `npm run secrets -- …`): the secrets stored in PostgreSQL
 * (DATABASE_URL) under SECRETS_MASTER_KEYS, straight to the database, never through the API:
 *   secrets credentials set <provider> <field>     the value is read from stdin
 *   secrets credentials list                       providers and fields, never values
 *   secrets credentials delete <provider> <field>
 *   secrets status                                 rows per table and master key id
 *   secrets rotate-master [--batch-size 100]       re-wrap every data key under the first key
 *   secrets seal-subscribers [--batch-size 100]    encrypt plaintext subscriber secrets left from before
 * Credential changes and rotations are written to the audit log under the system tenant "*"
 * (lib/data/audit-log.ts), as actor `cli` (the OS user); never a value.
 * Exit codes as the CLI's: 0 done, 1 failed (or rows that could not be re-wrapped), 2 bad usage.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { Pool } from 'pg';
import { cliActor, recordAudit, systemAuditTenant, type AuditAction, type AuditActor, type AuditOutcome } from '../lib/data/audit-log';
import type { Keyring } from '../lib/security/keyring';
import type { ProviderRegistry } from '../lib/config/registry';
import { NoKeyringError } from '../lib/security/secret-box';
import {
  countByMasterKey,
  deleteProviderCredential,
  listProviderCredentials,
  rotateMasterKey,
  sealPlaintextSubscriberSecrets,
  setProviderCredential,
} from '../lib/security/stored-secrets';
import { UsageError } from './errors';
import { table } from './table';

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

/** Opens what a command needs (pool, keyring, registry) for `use`, and closes it after. */
export type SecretsSession = <T>(use: (io: SecretsCommandIo) => Promise<T>) => Promise<T>;

/** A credential change or a rotation, on record under the system tenant (never a value). */
function audit(io: SecretsCommandIo, action: AuditAction, target: string | null, detail: Record<string, unknown>, outcome: AuditOutcome = 'done'): Promise<void> {
  return recordAudit(io.pool, { tenant: systemAuditTenant, actor: io.actor ?? cliActor(), action, target, detail, outcome });
}

function requireKeyring(keyring: Keyring | undefined): Keyring {
  if (!keyring) throw new NoKeyringError();
  return keyring;
}

/** The provider and field named, checked against the provider registry. */
function credentialTarget(registry: ProviderRegistry, provider: string, field: string): { provider: string; field: string } {
  const config = registry[provider];
  if (!config) throw new UsageError(`unknown provider "${provider}" (the registry lists ${Object.keys(registry).join(', ')})`);
  const fields = Object.keys(config.credentials);
  if (!fields.includes(field)) throw new UsageError(`provider ${provider} has no credential "${field}" (its fields: ${fields.join(', ') || 'none'})`);
  return { provider, field };
}

function batchSizeOption(value: string): number {
  const size = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(size >= 1 && size <= 10_000)) throw new InvalidArgumentError('a whole number from 1 to 10000');
  return size;
}

/**
 * Adds `secrets` and its commands to `parent` (the CLI's program); `setExitCode` receives 1 when
 * a command ran but did not fully succeed.
 */
export function addSecretsCommands(parent: Command, session: SecretsSession, setExitCode: (code: number) => void): Command {
  const jsonOf = (command: Command) => command.optsWithGlobals<{ json?: boolean }>().json === true;
  const printer = (io: SecretsCommandIo, command: Command) => (json: unknown, text: string) => io.out(jsonOf(command) ? JSON.stringify(json, null, 2) : text);

  const secrets = parent.command('secrets').description('secrets stored in PostgreSQL (DATABASE_URL) under SECRETS_MASTER_KEYS: provider credentials, master-key rotation');
  const credentials = secrets.command('credentials').description('provider credentials stored encrypted (they win over the environment variables)');
  credentials
    .command('set')
    .description('store a provider credential; the value is read from stdin, never argv')
    .argument('<provider>', 'a provider of the registry')
    .argument('<field>', 'one of its credential fields, e.g. apiKey')
    .action((providerName: string, fieldName: string, _options: unknown, command: Command) =>
      session(async (io) => {
        const target = credentialTarget(io.registry, providerName, fieldName);
        const keyring = requireKeyring(io.keyring);
        const value = (await io.readInput()).replace(/\r?\n$/, '');
        if (value === '') throw new UsageError('credentials set reads the value from stdin, and it was empty');
        await setProviderCredential(io.pool, keyring, target.provider, target.field, value);
        await audit(io, 'credential.set', `${target.provider}.${target.field}`, { masterKeyId: keyring.currentId });
        printer(io, command)({ set: true, ...target }, `stored ${target.provider} ${target.field} (encrypted under master key "${keyring.currentId}"); workers use it within seconds`);
      }),
    );
  credentials
    .command('list')
    .description('providers and fields stored, never values')
    .action((_options: unknown, command: Command) =>
      session(async (io) => {
        const rows = await listProviderCredentials(io.pool);
        printer(io, command)(
          rows,
          table(['provider', 'field', 'master key', 'updated'], rows.map((r) => [r.provider, r.field, r.masterKeyId, r.updatedAt]), '(no stored credentials: workers use the environment variables)'),
        );
      }),
    );
  credentials
    .command('delete')
    .description('delete a stored credential (the environment variable applies again)')
    .argument('<provider>')
    .argument('<field>')
    .action((providerName: string, fieldName: string, _options: unknown, command: Command) =>
      session(async (io) => {
        const target = credentialTarget(io.registry, providerName, fieldName);
        const deleted = await deleteProviderCredential(io.pool, target.provider, target.field);
        await audit(io, 'credential.delete', `${target.provider}.${target.field}`, {}, deleted ? 'done' : 'failed');
        printer(io, command)({ deleted, ...target }, deleted ? `deleted ${target.provider} ${target.field} (the environment variable applies again)` : `no stored ${target.provider} ${target.field}`);
        if (!deleted) setExitCode(1);
      }),
    );

  secrets
    .command('status')
    .description('rows per table and master key id')
    .action((_options: unknown, command: Command) =>
      session(async (io) => {
        const counts = await countByMasterKey(io.pool);
        const known = new Set(io.keyring?.keys.keys() ?? []);
        printer(io, command)(
          { currentKeyId: io.keyring?.currentId ?? null, counts: counts.map((c) => ({ ...c, configured: known.has(c.keyId) })) },
          [
            `current master key: ${io.keyring?.currentId ?? '(SECRETS_MASTER_KEYS not configured)'}`,
            ...counts.map((c) => `${c.table}  key ${c.keyId}${known.has(c.keyId) ? '' : ' (NOT CONFIGURED: these rows cannot be opened)'}  ${c.rows} row(s)`),
          ].join('\n'),
        );
      }),
    );
  secrets
    .command('rotate-master')
    .description('re-wrap every data key under the first key of SECRETS_MASTER_KEYS (safe to re-run)')
    .option('--batch-size <n>', 'rows per transaction, 1-10000', batchSizeOption, 100)
    .action((options: { batchSize: number }) =>
      session(async (io) => {
        const keyring = requireKeyring(io.keyring);
        io.out(`re-wrapping every data key under master key "${keyring.currentId}", ${options.batchSize} rows per batch`);
        const report = await rotateMasterKey(io.pool, keyring, { batchSize: options.batchSize, log: io.out });
        await audit(io, 'master-key.rotate', keyring.currentId, { rewrapped: report.rewrapped, failed: report.failed.length }, report.failed.length > 0 ? 'failed' : 'done');
        io.out(`done: ${report.rewrapped} re-wrapped, ${report.failed.length} could not be${report.failed.length > 0 ? ' (left unchanged):' : ''}`);
        for (const failure of report.failed) io.out(`  ${failure.table} ${failure.id}: ${failure.reason}`);
        if (report.failed.length > 0) setExitCode(1);
      }),
    );
  secrets
    .command('seal-subscribers')
    .description('encrypt the plaintext subscriber secrets left from before secrets at rest')
    .option('--batch-size <n>', 'rows per transaction, 1-10000', batchSizeOption, 100)
    .action((options: { batchSize: number }) =>
      session(async (io) => {
        const { sealed } = await sealPlaintextSubscriberSecrets(io.pool, requireKeyring(io.keyring), { batchSize: options.batchSize, log: io.out });
        io.out(`done: ${sealed} subscriber secret(s) encrypted`);
      }),
    );
  return secrets;
}

/**
 * Runs one `secrets` command line (the words after `secrets`) on `io`, as the CLI would, and
 * answers its exit code; a usage error is thrown. For tests and embedding.
 */
export async function secretsCommand(argv: string[], io: SecretsCommandIo): Promise<number> {
  let code = 0;
  const program = new Command('switchyard').option('--json', 'machine-readable output', false).exitOverride();
  addSecretsCommands(program, (use) => use(io), (exitCode) => (code = exitCode));
  await program.parseAsync(['secrets', ...argv], { from: 'user' });
  return code;
}
