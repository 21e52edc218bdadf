/**
 * The operator CLI, `npx switchyard <command>`: send a correctly signed test webhook, look at
 * events and calls, retry and replay, acknowledge alerts, manage API keys and webhook signing
 * secrets, read the audit log, show provider health and budgets. Every HTTP request goes through
 * the typed client (client/index.ts); `keys` goes to PostgreSQL directly when no credential is
 * given (so the first admin key can be made), and those key changes are written to the audit log
 * as actor `cli` (the OS user).
 *
 * Exit codes: 0 done · 1 the API or the operation failed (the message names status and reason)
 * · 2 usage error · 3 the API cannot be reached. `--json` prints machine-readable answers on
 * stdout (and errors as JSON on stderr).
 */
import { userInfo } from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import { createApiKey, listApiKeys, revokeApiKey, roles, type Role } from '../lib/api-keys';
import { cliActor } from '../lib/audit';
import { loadConfig, tenantPattern } from '../lib/config';
import { tenantNameRule } from '../lib/tenant-name';
import { createPool } from '../lib/db';
import { readStdin } from '../lib/stdin';
import { createWebhookSecrets, envSecretsVariable } from '../api/webhook-secrets';
import { loadWebhookSources, type WebhookSource } from '../api/webhook-sources';
import { SwitchyardApiError, SwitchyardClient, SwitchyardConnectionError, SwitchyardTimeoutError, webhookPath, type CallParams } from '../client';
import { signTestWebhook, UnsignableSourceError } from './sign-webhook';

export const exitCodes = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

class UsageError extends Error {}
/** An operation that ran but did not succeed (a failed call, a key that was not live). */
class OperationFailed extends Error {}

interface GlobalOptions {
  url: string;
  key?: string;
  tenant?: string;
  json: boolean;
}

let jsonOutput = false;

function print(value: unknown, text: string): void {
  process.stdout.write(`${jsonOutput ? JSON.stringify(value, null, 2) : text}\n`);
}

const pretty = (value: unknown) => JSON.stringify(value, null, 2);

function globalsOf(command: Command): GlobalOptions {
  const options = command.optsWithGlobals<GlobalOptions>();
  if (options.tenant !== undefined && !tenantPattern.test(options.tenant)) throw new UsageError(`--tenant: ${tenantNameRule}`);
  return options;
}

function clientFor(command: Command): SwitchyardClient {
  const { url, key, tenant } = globalsOf(command);
  if (!/^https?:\/\//.test(url)) throw new UsageError(`--url must be an http(s) URL, not "${url}"`);
  return new SwitchyardClient({ baseUrl: url, apiKey: key, tenant });
}

function parseJsonObject(value: string, option: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new UsageError(`${option} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError(`${option} must be a JSON object`);
  return parsed as Record<string, unknown>;
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`"${value}" is not a whole number`);
  return Number(value);
}

function table(rows: string[][]): string {
  if (rows.length === 0) return '(none)';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** A table cell: "-" for nothing, JSON for objects. */
function show(value: unknown): string {
  if (value === null || value === undefined) return '-';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

// ---------------------------------------------------------------- send-webhook

function findSource(name: string): WebhookSource {
  const sources = loadWebhookSources();
  const source = sources.get(name) ?? sources.get(`generic:${name}`);
  if (!source) throw new UsageError(`unknown webhook source "${name}"; configured: ${[...sources.keys()].join(', ')}`);
  return source;
}

async function sendWebhook(sourceName: string, options: { type?: string; id?: string }, command: Command): Promise<void> {
  const globals = globalsOf(command);
  const client = clientFor(command);
  const source = findSource(sourceName);
  const config = loadConfig();
  const tenant = globals.tenant ?? source.tenant ?? config.DEFAULT_TENANT;
  const secrets = createWebhookSecrets({
    file: config.WEBHOOK_SECRETS_FILE,
    env: process.env,
    defaultTenant: config.DEFAULT_TENANT,
    onError: (err) => {
      throw new OperationFailed(err.message);
    },
  });
  const secret = secrets.secretsFor(tenant, source.name, new Date())[0];
  secrets.close();
  if (secret === undefined) {
    throw new OperationFailed(
      `no signing secret for ${source.name} (tenant ${tenant}): give the CLI the API's ${tenant === config.DEFAULT_TENANT ? `${envSecretsVariable(source.name)}${source.name === 'stripe' ? ' (or STRIPE_WEBHOOK_SECRETS)' : ''} or ` : ''}WEBHOOK_SECRETS_FILE`,
    );
  }
  const path = `${globals.tenant ? `/tenants/${encodeURIComponent(globals.tenant)}` : ''}${webhookPath(source.name)}`;
  const publicBase = config.PUBLIC_BASE_URL ?? globals.url.replace(/\/+$/, '');
  let signed;
  try {
    signed = signTestWebhook({ source, secret, url: `${publicBase}${path}`, eventType: options.type, eventId: options.id });
  } catch (err) {
    if (err instanceof UnsignableSourceError) throw new OperationFailed(err.message);
    throw err;
  }
  const { status, answer } = await client.sendWebhook(source.name, { body: signed.body, headers: signed.headers, tenant: globals.tenant });
  const ids = 'events' in answer ? answer.events.map((e) => e.workflowId) : [answer.workflowId];
  print(
    { status, source: source.name, tenant, eventType: signed.eventType, ...answer },
    `${status} ${status === 200 ? 'duplicate of an accepted event' : 'accepted'}: ${ids.join(', ')}\n(see it: switchyard events show ${ids[0] ?? ''})`,
  );
}

// ---------------------------------------------------------------- keys (API or PostgreSQL)

/** Through the API with a credential, else (or with --db) straight to DATABASE_URL. */
function keysViaDatabase(command: Command, options: { db?: boolean }): boolean {
  return options.db === true || globalsOf(command).key === undefined;
}

async function withPool<T>(use: (pool: ReturnType<typeof createPool>) => Promise<T>): Promise<T> {
  const pool = createPool(loadConfig().DATABASE_URL, { max: 1 });
  try {
    return await use(pool);
  } finally {
    await pool.end();
  }
}

async function keysCreate(options: { role: string; name: string; db?: boolean }, command: Command): Promise<void> {
  if (!(roles as readonly string[]).includes(options.role)) throw new UsageError(`--role must be one of ${roles.join(', ')}`);
  const role = options.role as Role;
  let created;
  if (keysViaDatabase(command, options)) {
    const tenant = globalsOf(command).tenant ?? loadConfig().DEFAULT_TENANT;
    const made = await withPool((pool) => createApiKey(pool, { tenant, role, name: options.name }, cliActor()));
    created = { key: made.key, ...made.info };
  } else {
    created = await clientFor(command).createApiKey({ role, name: options.name });
  }
  // The key alone on stdout, so KEY=$(switchyard keys create …) captures exactly it.
  print(created, created.key);
  if (!jsonOutput) process.stderr.write(`(key ${created.keyId}, tenant ${created.tenant}, role ${created.role}: shown once, store it now)\n`);
}

async function keysList(options: { db?: boolean }, command: Command): Promise<void> {
  const keys = keysViaDatabase(command, options)
    ? await withPool((pool) => listApiKeys(pool, globalsOf(command).tenant))
    : (await clientFor(command).listApiKeys()).keys;
  print({ keys }, table(keys.map((k) => [k.keyId, k.tenant, k.role, k.name, k.revokedAt ? `revoked ${k.revokedAt}` : 'live'])));
}

async function keysRevoke(keyId: string, options: { db?: boolean }, command: Command): Promise<void> {
  if (keysViaDatabase(command, options)) {
    if (!(await withPool((pool) => revokeApiKey(pool, keyId, globalsOf(command).tenant, cliActor())))) throw new OperationFailed(`no live key ${keyId}`);
  } else {
    await clientFor(command).revokeApiKey(keyId);
  }
  print({ revoked: true, keyId }, `revoked ${keyId}`);
}

// ---------------------------------------------------------------- webhook signing secrets (API, admin)

/** `--not-after`: an ISO time, or `never` (kept as the word: commander turns a parsed null into ''). */
function notAfterOption(value: string): string {
  if (value !== 'never' && Number.isNaN(Date.parse(value))) throw new UsageError(`--not-after: "${value}" is neither an ISO time nor "never"`);
  return value;
}

const notAfterOf = (option: string) => (option === 'never' ? null : option);

async function webhookSecretsAdd(source: string, options: { generate?: boolean; notAfter?: string }, command: Command): Promise<void> {
  const client = clientFor(command);
  let secret: string | undefined;
  if (!options.generate) {
    // From stdin, never argv: `printf %s "$SECRET" | switchyard webhook-secrets add stripe`.
    if (process.stdin.isTTY) process.stderr.write(`paste ${source}'s signing secret, then Ctrl-D:\n`);
    secret = (await readStdin()).replace(/\r?\n$/, '');
    if (secret.length === 0) throw new UsageError('no secret on stdin (or use --generate where Switchyard chooses it)');
  }
  const created = await client.addWebhookSecret({ source, ...(secret === undefined ? { generate: true } : { secret }), notAfter: options.notAfter === undefined ? undefined : notAfterOf(options.notAfter) });
  if (created.secret !== undefined) {
    // The generated secret alone on stdout, to configure the sender with; it is not shown again.
    print(created, created.secret);
    if (!jsonOutput) process.stderr.write(`(secret ${created.id} for ${created.source}, fingerprint ${created.fingerprint}: shown once, configure the sender with it now)\n`);
  } else {
    print(created, `stored ${created.id} for ${created.source} (fingerprint ${created.fingerprint})`);
  }
}

// ---------------------------------------------------------------- the program

function buildProgram(): Command {
  const program = new Command('switchyard')
    .description('Operate Switchyard: test webhooks, events, calls, deliveries, alerts, API keys, webhook secrets, the audit log, provider health and budgets')
    .addOption(new Option('--url <url>', 'the API').env('SWITCHYARD_URL').default(`http://127.0.0.1:${process.env.PORT ?? 3000}`))
    .addOption(new Option('--key <apiKey>', 'API key or token').env('SWITCHYARD_API_KEY'))
    .option('--tenant <tenant>', "act on /tenants/<tenant>/… (must be the key's tenant); keys and send-webhook: that tenant")
    .option('--json', 'machine-readable output', false)
    .exitOverride()
    .showHelpAfterError('(switchyard --help for usage)');

  program
    .command('send-webhook')
    .description("send a test webhook signed with the source's configured secret (the same env / WEBHOOK_SECRETS_FILE the API reads)")
    .argument('<source>', 'a configured source: stripe, twilio, standard, github, google-calendar, generic:<name>')
    .option('--type <type>', 'event type (e.g. payment_intent.succeeded, message.delivered, issues.opened)')
    .option('--id <eventId>', 'event id (default: a new one)')
    .action(sendWebhook);

  const events = program.command('events').description('webhook events');
  events
    .command('list')
    .description('events from the ledger and those still in flight')
    .option('--provider <provider>')
    .option('--type <type>')
    .option('--status <status>', 'received | processing | completed | failed')
    .option('--from <iso>')
    .option('--to <iso>')
    .option('--limit <n>', 'at most n (default 100)', positiveInt)
    .action(async (options: { provider?: string; type?: string; status?: 'received'; from?: string; to?: string; limit?: number }, command: Command) => {
      const list = await clientFor(command).listEvents(options);
      print(list, table(list.events.map((e) => [e.workflowId, e.status, show(e.eventType), show(e.receivedAt)])));
    });
  events
    .command('show')
    .argument('<workflowId>', 'e.g. webhook:default:stripe:evt_123')
    .action(async (workflowId: string, _options: unknown, command: Command) => {
      const view = await clientFor(command).getEvent(workflowId);
      print(view, pretty(view));
    });
  events
    .command('retry')
    .description('re-run a failed event under the same id')
    .argument('<workflowId>')
    .action(async (workflowId: string, _options: unknown, command: Command) => {
      const rerun = await clientFor(command).retryEvent(workflowId);
      print(rerun, `retrying ${workflowId} (run ${rerun.runId})`);
    });

  const calls = program.command('calls').description('provider calls');
  calls
    .command('start')
    .description('start a provider call (POST /calls/:provider/:operation)')
    .argument('<provider>')
    .argument('<operation>')
    .requiredOption('--idempotency-key <key>', 'the call id within the tenant')
    .option('--params <json>', 'the operation params as a JSON object', '{}')
    .option('--priority <priority>', 'critical | high | normal | low')
    .option('--wait <ms>', 'wait this long for the result', positiveInt)
    .action(async (provider: string, operation: string, options: { idempotencyKey: string; params: string; priority?: 'normal'; wait?: number }, command: Command) => {
      const params: CallParams = parseJsonObject(options.params, '--params');
      const answer = await clientFor(command).call(provider, operation, params, options);
      print(answer, `${answer.workflowId}: ${answer.status}${answer.duplicate ? ' (existing call)' : ''}${answer.result !== undefined ? `\n${pretty(answer.result)}` : ''}${answer.error ? `\n${answer.error.message}` : ''}`);
      if (answer.status === 'failed') process.exitCode = exitCodes.failed;
    });
  calls
    .command('show')
    .argument('<workflowId>', 'e.g. call:default:stripe:order-42')
    .action(async (workflowId: string, _options: unknown, command: Command) => {
      const view = await clientFor(command).getCall(workflowId);
      print(view, pretty(view));
    });
  calls
    .command('wait')
    .description('wait until the call finished (exit 1 when it failed or the wait ran out)')
    .argument('<workflowId>')
    .option('--timeout <ms>', 'give up after (default 30000)', positiveInt)
    .action(async (workflowId: string, options: { timeout?: number }, command: Command) => {
      const view = await clientFor(command).waitForCall(workflowId, { timeoutMs: options.timeout });
      print(view, `${workflowId}: ${view.executionStatus}${view.status === 'completed' ? `\n${pretty(view.result)}` : view.status === 'failed' ? `\n${show(view.error)}` : ''}`);
      if (view.executionStatus !== 'COMPLETED') process.exitCode = exitCodes.failed;
    });

  const deliveries = program.command('deliveries').description('subscriber deliveries');
  deliveries
    .command('list')
    .option('--subscriber <id>')
    .option('--status <status>', 'pending | delivered | dead_lettered | skipped')
    .action(async (options: { subscriber?: string; status?: 'pending' }, command: Command) => {
      const list = await clientFor(command).listDeliveries(options);
      print(list, table(list.deliveries.map((d) => [d.id, d.status, `${d.attempts} attempts`])));
    });
  deliveries
    .command('replay')
    .description('run a delivery again (e.g. dead-lettered) under the same id')
    .argument('<deliveryId>')
    .action(async (deliveryId: string, _options: unknown, command: Command) => {
      const rerun = await clientFor(command).replayDelivery(deliveryId);
      print(rerun, `replaying ${deliveryId} (run ${rerun.runId})`);
    });

  const alerts = program.command('alerts').description('alerts');
  alerts
    .command('list')
    .option('--state <state>', 'firing | acknowledged | resolved | open')
    .action(async (options: { state?: 'firing' }, command: Command) => {
      const list = await clientFor(command).listAlerts(options);
      print(list, table(list.alerts.map((a) => [a.id, a.state, a.severity, show(a.provider), show(a.summary)])));
    });
  alerts
    .command('show')
    .argument('<alertId>')
    .action(async (id: string, _options: unknown, command: Command) => {
      const alert = await clientFor(command).getAlert(id);
      print(alert, pretty(alert));
    });
  alerts
    .command('ack')
    .description('acknowledge: stops the escalation')
    .argument('<alertId>')
    .option('--by <name>', 'who acknowledges (default: your user name)')
    .action(async (id: string, options: { by?: string }, command: Command) => {
      const acked = await clientFor(command).ackAlert(id, options.by ?? `cli:${userInfo().username}`);
      print(acked, `acknowledged ${acked.id} by ${acked.acknowledgedBy}`);
    });

  const keys = program.command('keys').description('API keys (through the API with --key; otherwise straight to DATABASE_URL)');
  keys
    .command('create')
    .requiredOption('--role <role>', roles.join(' | '))
    .requiredOption('--name <name>', 'what the key is for')
    .option('--db', 'write to DATABASE_URL even when a key is given')
    .action(keysCreate);
  keys.command('list').option('--db', 'read DATABASE_URL even when a key is given').action(keysList);
  keys.command('revoke').argument('<keyId>').option('--db', 'write to DATABASE_URL even when a key is given').action(keysRevoke);

  const webhookSecrets = program.command('webhook-secrets').description("the tenant's stored webhook signing secrets (admin key)");
  webhookSecrets
    .command('add')
    .description("store a source's signing secret, read from stdin; --generate where Switchyard chooses it (shown once)")
    .argument('<source>', 'a configured source: stripe, twilio, standard, github, google-calendar, generic:<name>')
    .option('--generate', 'make a new secret (standard, github, google channels, generic HMAC sources)')
    .option('--not-after <iso>', 'end of its rotation window', notAfterOption)
    .action(webhookSecretsAdd);
  webhookSecrets
    .command('list')
    .option('--source <source>')
    .action(async (options: { source?: string }, command: Command) => {
      const list = await clientFor(command).listWebhookSecrets(options);
      print(list, table(list.webhookSecrets.map((w) => [w.id, w.source, w.fingerprint, w.createdAt, w.notAfter ? `until ${w.notAfter}` : 'live'])));
    });
  webhookSecrets
    .command('expire')
    .description('end the rotation window: from then on the secret no longer verifies')
    .argument('<secretId>')
    .option('--not-after <iso>', 'when (default: now); "never" reopens it', notAfterOption)
    .action(async (id: string, options: { notAfter?: string }, command: Command) => {
      const info = await clientFor(command).setWebhookSecretNotAfter(id, notAfterOf(options.notAfter ?? new Date().toISOString()));
      print(info, `${info.id} (${info.source}): ${info.notAfter ? `verifies until ${info.notAfter}` : 'live'}`);
    });
  webhookSecrets
    .command('remove')
    .argument('<secretId>')
    .action(async (id: string, _options: unknown, command: Command) => {
      await clientFor(command).deleteWebhookSecret(id);
      print({ removed: true, id }, `removed ${id}`);
    });

  program
    .command('audit')
    .description("the tenant's audit log, newest first (admin key)")
    .option('--action <action>', 'e.g. key.create, subscriber.update, delivery.replay')
    .option('--from <iso>')
    .option('--to <iso>')
    .option('--limit <n>', 'at most n (default 100)', positiveInt)
    .action(async (options: { action?: 'key.create'; from?: string; to?: string; limit?: number }, command: Command) => {
      const list = await clientFor(command).listAudit(options);
      print(list, table(list.entries.map((e) => [e.at, `${e.actor.kind}:${e.actor.id}`, e.action, show(e.target), e.outcome])));
    });

  program
    .command('health')
    .description('provider health scores and circuit breakers')
    .action(async (_options: unknown, command: Command) => {
      const client = clientFor(command);
      const [health, circuits] = await Promise.all([client.providerHealth(), client.circuits()]);
      const circuitOf = new Map(circuits.circuits.map((c) => [c.provider, c.state]));
      print(
        { providers: health.providers, circuits: circuits.circuits },
        table([['provider', 'status', 'score', 'circuit'], ...health.providers.map((p) => [p.provider, p.status, show(p.score), circuitOf.get(p.provider) ?? 'closed'])]),
      );
    });

  program
    .command('budgets')
    .description('provider spend against daily and monthly budgets')
    .action(async (_options: unknown, command: Command) => {
      const budgets = await clientFor(command).budgets();
      const period = (value: unknown) => {
        const use = value as { usedUsd: number; budgetUsd: number; percent: number } | null | undefined;
        return use ? `$${use.usedUsd.toFixed(2)} of $${use.budgetUsd.toFixed(2)} (${use.percent}%)` : '-';
      };
      print(budgets, table([['provider', 'today', 'this month'], ...budgets.budgets.map((b) => [b.provider, period(b.daily), period(b.monthly)])]));
    });

  return program;
}

function fail(code: number, message: string, details: Record<string, unknown> = {}): number {
  process.stderr.write(jsonOutput ? `${JSON.stringify({ error: message, ...details })}\n` : `switchyard: ${message}\n`);
  return code;
}

/** Runs the CLI on `argv` (without node and script) and answers the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  jsonOutput = argv.includes('--json');
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : exitCodes.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end "with an error" in commander's exitOverride; they succeeded.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return exitCodes.ok;
      return exitCodes.usage; // commander already printed what was wrong
    }
    if (err instanceof UsageError) return fail(exitCodes.usage, err.message);
    if (err instanceof SwitchyardConnectionError) return fail(exitCodes.unreachable, err.message, { url: err.url, reason: err.reason });
    if (err instanceof SwitchyardApiError) {
      const fields = err.fields ? ` (${Object.entries(err.fields).map(([k, v]) => `${k}: ${v}`).join('; ')})` : '';
      const retry = err.retryAfter !== undefined ? ` (retry after ${err.retryAfter} s)` : '';
      return fail(exitCodes.failed, `${err.status} ${err.error}: ${err.reason}${fields}${retry}`, { status: err.status, code: err.error, reason: err.reason, fields: err.fields });
    }
    if (err instanceof SwitchyardTimeoutError) return fail(exitCodes.failed, err.message, { id: err.id, timeoutMs: err.timeoutMs });
    return fail(exitCodes.failed, err instanceof Error ? err.message : String(err));
  }
}

if (require.main === module) {
  void runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
