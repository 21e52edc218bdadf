/**
 * API key administration against the configured database (DATABASE_URL):
 *   npm run api-key -- create --tenant acme --role service --name billing-service [--json]
 *   npm run api-key -- list [--tenant acme] [--json]
 *   npm run api-key -- revoke <keyId> [--json]
 * `create` prints the key once; only its hash is stored. Creates and revokes are audited (actor `cli`,
 * the OS user). Exit codes: 0 done, 1 failed, 2 bad usage.
 */
import { parseArgs } from 'node:util';
import { createApiKey, listApiKeys, revokeApiKey, roles, type Role } from '../lib/api-keys';
import { cliActor } from '../lib/audit';
import { loadConfig, tenantPattern } from '../lib/config';
import { tenantNameRule } from '../lib/tenant-name';
import { createPool } from '../lib/db';

const usage = `usage:
  api-key create --tenant <tenant> --role <${roles.join('|')}> --name <name> [--json]
  api-key list [--tenant <tenant>] [--json]
  api-key revoke <keyId> [--json]`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { tenant: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const [command, ...rest] = positionals;
  const print = (json: unknown, text: string) => console.log(values.json ? JSON.stringify(json) : text);
  if (values.tenant !== undefined && !tenantPattern.test(values.tenant)) throw new UsageError(`--tenant: ${tenantNameRule}`);
  const pool = createPool(loadConfig().DATABASE_URL, { max: 1 });
  try {
    if (command === 'create') {
      const { tenant, role, name } = values;
      if (!tenant || !role || !name) throw new UsageError('create needs --tenant, --role and --name');
      if (!(roles as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${roles.join(', ')}`);
      const created = await createApiKey(pool, { tenant, role: role as Role, name }, cliActor());
      print({ key: created.key, ...created.info }, `${created.key}\n(key ${created.info.keyId}, tenant ${tenant}, role ${role}: shown once, store it now)`);
    } else if (command === 'list') {
      const keys = await listApiKeys(pool, values.tenant);
      print(keys, keys.map((k) => `${k.keyId}  ${k.tenant}  ${k.role}  ${k.name}  ${k.revokedAt ? `revoked ${k.revokedAt}` : 'live'}`).join('\n') || '(no keys)');
    } else if (command === 'revoke') {
      const [keyId] = rest;
      if (!keyId) throw new UsageError('revoke needs a key id');
      if (!(await revokeApiKey(pool, keyId, undefined, cliActor()))) {
        print({ revoked: false, keyId }, `no live key ${keyId}`);
        process.exitCode = 1;
      } else print({ revoked: true, keyId }, `revoked ${keyId}`);
    } else {
      throw new UsageError(command ? `unknown command "${command}"` : 'a command is required');
    }
  } finally {
    await pool.end();
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(usage);
    process.exit(2);
  }
  process.exit(1);
});
