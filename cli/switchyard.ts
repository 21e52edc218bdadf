/**
 * The operator CLI, `npx switchyard <command>`, the one way in for operators: send a correctly
 * signed test webhook, list and look at events, calls, bookings, batch items, subscribers,
 * deliveries, alerts, SLA reports, circuits, retry and replay, acknowledge alerts, reset a circuit,
 * read cache statistics, rate limits, batch queues, alert statistics, the configuration and the
 * performance report, manage API
 * keys, webhook signing secrets and the secrets at rest (provider credentials, master-key
 * rotation), read the audit log, show provider health and budgets. Every HTTP request goes through the typed client
 * (client/index.ts); `keys` goes to PostgreSQL directly when no credential is given or with --db
 * (so the first admin key can be made), and `secrets` always does (cli/secrets.ts); those changes
 * are written to the audit log as actor `cli` (the OS user). The npm scripts `api-key`, `secrets`
 * and `send-stripe-event` run these commands.
 *
 * Every option and argument the CLI can check is checked before any request (a list's options by
 * the route's own query schema in api/schemas.ts), and a bad one is a usage error naming it.
 * Every list prints a header row.
 *
 * Exit codes: 0 done · 1 the API or the operation failed (the message names status and reason)
 * · 2 usage error · 3 the API cannot be reached. `--json` prints machine-readable answers on
 * stdout (and errors as JSON on stderr).
 */
import { userInfo } from 'node:os';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { z } from 'zod';
import * as schemas from '../api/schemas';
import { createApiKey, listApiKeys, revokeApiKey, roles } from '../lib/security/api-keys';
import { cliActor } from '../lib/data/audit-log';
import { loadConfig, tenantPattern } from '../lib/config/config';
import { tenantNameRule } from '../lib/security/tenant-name';
import { createPool } from '../lib/data/db';
import { readStdin } from '../lib/stdin';
import type { WebhookSource } from '../api/webhook-sources';
import { SwitchyardApiError, SwitchyardClient, SwitchyardConnectionError, SwitchyardTimeoutError, webhookPath } from '../client';
import { OperationFailed, UsageError } from './errors';
import { addSecretsCommands, type SecretsSession } from './secrets';
import { show, table } from './table';

export const exitCodes = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

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

/** An option's value parser: commander names the option in its error (exit 2). */
function wholeNumber(value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new InvalidArgumentError('not a whole number');
  return Number(value);
}

const optionName = (field: PropertyKey | undefined) => `--${String(field ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * Options checked by the request schema of the route they go to (api/schemas.ts), before any
 * request: what the API would refuse with a 400 is a usage error naming the option.
 */
function checked<S extends z.ZodType>(schema: S, options: Record<string, unknown>): z.output<S> {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new UsageError(`${optionName(issue.path[0])}: ${issue.message}`);
}

/** One value checked the same way; `label` names it in the message (`--idempotency-key`, `<source>`). */
function checkedValue<S extends z.ZodType>(schema: S, value: unknown, label: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new UsageError(`${label}: ${parsed.error.issues[0]!.message}`);
}

/** The allowed values of an enum field of a schema, for the option's help. */
const choicesOf = (field: { unwrap(): { options: readonly string[] } }) => field.unwrap().options.join(' | ');

// ---------------------------------------------------------------- send-webhook

function findSource(sources: ReadonlyMap<string, WebhookSource>, name: string): WebhookSource {
  const source = sources.get(name) ?? sources.get(`generic:${name}`);
  if (!source) throw new UsageError(`unknown webhook source "${name}"; configured: ${[...sources.keys()].join(', ')}`);
  return source;
}

async function sendWebhook(sourceName: string, options: { type?: string; id?: string }, command: Command): Promise<void> {
  // Loaded for this command only: the sources and their schemes bring every provider module, a
  // third of the CLI's start-up, which no other command needs.
  const [{ loadWebhookSources }, { createWebhookSecrets, envSecretsVariable }, { signTestWebhook, UnsignableSourceError }] = await Promise.all([
    import('../api/webhook-sources'),
    import('../api/webhook-secrets'),
    import('./sign-webhook'),
  ]);
  const globals = globalsOf(command);
  const client = clientFor(command);
  const source = findSource(loadWebhookSources(), sourceName);
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
function keysViaDatabase(command: Command): boolean {
  return command.optsWithGlobals<{ db?: boolean }>().db === true || globalsOf(command).key === undefined;
}

async function withPool<T>(use: (pool: ReturnType<typeof createPool>) => Promise<T>): Promise<T> {
  const pool = createPool(loadConfig().DATABASE_URL, { max: 1 });
  try {
    return await use(pool);
  } finally {
    await pool.end();
  }
}

async function keysCreate(options: { role: string; name: string }, command: Command): Promise<void> {
  const { role, name } = checked(schemas.apiKeyBody, options);
  let created;
  if (keysViaDatabase(command)) {
    const tenant = globalsOf(command).tenant ?? loadConfig().DEFAULT_TENANT;
    const made = await withPool((pool) => createApiKey(pool, { tenant, role, name }, cliActor()));
    created = { key: made.key, ...made.info };
  } else {
    created = await clientFor(command).createApiKey({ role, name });
  }
  // The key alone on stdout, so KEY=$(switchyard keys create …) captures exactly it.
  print(created, created.key);
  if (!jsonOutput) process.stderr.write(`(key ${created.keyId}, tenant ${created.tenant}, role ${created.role}: shown once, store it now)\n`);
}

async function keysList(_options: unknown, command: Command): Promise<void> {
  const keys = keysViaDatabase(command)
    ? await withPool((pool) => listApiKeys(pool, globalsOf(command).tenant))
    : (await clientFor(command).listApiKeys()).keys;
  print({ keys }, table(['key', 'tenant', 'role', 'name', 'state'], keys.map((k) => [k.keyId, k.tenant, k.role, k.name, k.revokedAt ? `revoked ${k.revokedAt}` : 'live'])));
}

async function keysRevoke(keyId: string, _options: unknown, command: Command): Promise<void> {
  if (keysViaDatabase(command)) {
    if (!(await withPool((pool) => revokeApiKey(pool, keyId, globalsOf(command).tenant, cliActor())))) throw new OperationFailed(`no live key ${keyId}`);
  } else {
    await clientFor(command).revokeApiKey(keyId);
  }
  print({ revoked: true, keyId }, `revoked ${keyId}`);
}

// ---------------------------------------------------------------- webhook signing secrets (API, admin)

/** `--not-after`: an ISO time with its offset, or `never` (kept as the word: commander turns a parsed null into ''). */
function notAfterOption(value: string): string {
  if (value !== 'never' && !schemas.webhookSecretPatch.shape.notAfter.safeParse(value).success) {
    throw new InvalidArgumentError('neither an ISO time with its offset (e.g. 2027-01-01T00:00:00Z) nor "never"');
  }
  return value;
}

const notAfterOf = (option: string) => (option === 'never' ? null : option);

async function webhookSecretsAdd(sourceName: string, options: { generate?: boolean; notAfter?: string }, command: Command): Promise<void> {
  const source = checkedValue(schemas.webhookSecretsQuery.shape.source.unwrap(), sourceName, '<source>');
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

// ---------------------------------------------------------------- secrets at rest (PostgreSQL)

/** `secrets` commands run on DATABASE_URL with the configured master keys and registry. */
const secretsSession: SecretsSession = async (use) => {
  const config = loadConfig();
  const { loadRegistry } = await import('../lib/config/registry'); // every provider module: only for these commands
  const registry = loadRegistry();
  const pool = createPool(config.DATABASE_URL, { max: 2 });
  try {
    return await use({ pool, keyring: config.SECRETS_MASTER_KEYS, registry, readInput: readStdin, out: (line) => process.stdout.write(`${line}\n`) });
  } finally {
    await pool.end();
  }
};

// ---------------------------------------------------------------- the program

function buildProgram(): Command {
  const program = new Command('switchyard')
    .description(
      'Operate Switchyard: test webhooks, events, calls, bookings, batch items and queues, subscribers, deliveries, alerts and their statistics, SLA, circuits (and reset), rate limits, cache statistics, the configuration, the performance report, API keys, webhook secrets, secrets at rest, the audit log, provider health and budgets',
    )
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
    .option('--status <status>', choicesOf(schemas.eventsQuery.shape.status))
    .option('--from <iso>', 'received at or after')
    .option('--to <iso>', 'received before')
    .option('--limit <n>', 'at most n (default 100, at most 500)')
    .option('--offset <n>', 'skip the first n (default 0)')
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const query = checked(schemas.eventsQuery, options);
      const list = await clientFor(command).listEvents(query);
      print(list, table(['workflow id', 'status', 'type', 'received'], list.events.map((e) => [e.workflowId, e.status, show(e.eventType), show(e.receivedAt)])));
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
    .command('list')
    .description("the tenant's provider calls, from Temporal's visibility")
    .option('--provider <provider>')
    .option('--status <status>', choicesOf(schemas.callsQuery.shape.status))
    .option('--from <iso>', 'started at or after')
    .option('--to <iso>', 'started before')
    .option('--limit <n>', 'at most n (default 100, at most 500)')
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const query = checked(schemas.callsQuery, options);
      const list = await clientFor(command).listCalls(query);
      print(list, table(['workflow id', 'provider', 'status', 'started', 'closed'], list.calls.map((c) => [c.workflowId, c.provider, c.executionStatus, c.startTime, show(c.closeTime)])));
    });
  calls
    .command('start')
    .description('start a provider call (POST /calls/:provider/:operation)')
    .argument('<provider>')
    .argument('<operation>')
    .requiredOption('--idempotency-key <key>', 'the call id within the tenant')
    .option('--params <json>', 'the operation params as a JSON object', '{}')
    .option('--priority <priority>', choicesOf(schemas.callBody.shape.priority))
    .option('--wait <ms>', 'wait this long for the result', wholeNumber)
    .action(async (provider: string, operation: string, options: { idempotencyKey: string; params: string; priority?: string; wait?: number }, command: Command) => {
      const idempotencyKey = checkedValue(schemas.idempotencyKey, options.idempotencyKey, '--idempotency-key');
      const { params, priority } = checked(schemas.callBody, { params: parseJsonObject(options.params, '--params'), priority: options.priority });
      const answer = await clientFor(command).call(provider, operation, params, { idempotencyKey, priority, wait: options.wait });
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
    .option('--timeout <ms>', 'give up after (default 30000)', wholeNumber)
    .action(async (workflowId: string, options: { timeout?: number }, command: Command) => {
      const view = await clientFor(command).waitForCall(workflowId, { timeoutMs: options.timeout });
      print(view, `${workflowId}: ${view.executionStatus}${view.status === 'completed' ? `\n${pretty(view.result)}` : view.status === 'failed' ? `\n${show(view.error)}` : ''}`);
      if (view.executionStatus !== 'COMPLETED') process.exitCode = exitCodes.failed;
    });

  const bookings = program.command('bookings').description('booking sagas');
  bookings
    .command('list')
    .description("the tenant's booking sagas, from Temporal's visibility")
    .option('--status <status>', choicesOf(schemas.bookingsQuery.shape.status))
    .option('--from <iso>', 'started at or after')
    .option('--to <iso>', 'started before')
    .option('--limit <n>', 'at most n (default 100, at most 500)')
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const query = checked(schemas.bookingsQuery, options);
      const list = await clientFor(command).listBookings(query);
      print(list, table(['workflow id', 'status', 'started', 'closed'], list.bookings.map((b) => [b.workflowId, b.executionStatus, b.startTime, show(b.closeTime)])));
    });

  const batches = program.command('batches').description('batch items');
  batches
    .command('queues')
    .description("items queued in the tenant's open batches, per provider and priority")
    .action(async (_options: unknown, command: Command) => {
      const list = await clientFor(command).batchQueues();
      const rows = list.queues.map((q) => [q.provider, q.priority, show(q.queued), show(q.batches)]);
      print(list, `${table(['provider', 'priority', 'queued', 'batches'], rows)}${list.truncated ? `\n(the first ${list.batches.length} of ${list.total} open batches)` : ''}`);
    });
  batches
    .command('list')
    .description("the tenant's sent and failed batch items, newest first (queued ones are still in their batch)")
    .option('--provider <provider>')
    .option('--operation <operation>')
    .option('--status <status>', choicesOf(schemas.batchItemsQuery.shape.status))
    .option('--from <iso>', 'sent at or after')
    .option('--to <iso>', 'sent before')
    .option('--limit <n>', 'at most n (default 100, at most 500)')
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const query = checked(schemas.batchItemsQuery, options);
      const list = await clientFor(command).listBatchItems(query);
      print(
        list,
        table(
          ['item id', 'provider', 'operation', 'status', 'batch size', 'sent'],
          list.items.map((i) => [i.itemId, i.provider, i.operation, i.status === 'failed' && i.error ? `failed: ${i.error}` : i.status, String(i.batchSize), i.sentAt]),
        ),
      );
    });

  const subscribers = program.command('subscribers').description('webhook subscribers (fan-out targets)');
  subscribers
    .command('list')
    .description("the tenant's subscribers and their filters (never their signing secrets)")
    .action(async (_options: unknown, command: Command) => {
      const list = await clientFor(command).listSubscribers();
      const filter = (values: string[]) => (values.length === 0 ? 'all' : values.join(','));
      print(
        list,
        table(
          ['id', 'url', 'providers', 'event types', 'state'],
          list.subscribers.map((s) => [s.id, s.url, filter(s.providers), filter(s.eventTypes), s.enabled ? 'enabled' : `disabled${s.disabledReason ? `: ${s.disabledReason}` : ''}`]),
        ),
      );
    });

  const deliveries = program.command('deliveries').description('subscriber deliveries');
  deliveries
    .command('list')
    .option('--subscriber <id>')
    .option('--status <status>', choicesOf(schemas.deliveriesQuery.shape.status))
    .option('--limit <n>', 'at most n (default 500, at most 500)')
    .option('--offset <n>', 'skip the first n (default 0)')
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const query = checked(schemas.deliveriesQuery, options);
      const list = await clientFor(command).listDeliveries(query);
      print(list, table(['id', 'status', 'attempts'], list.deliveries.map((d) => [d.id, d.status, String(d.attempts)])));
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
    .command('stats')
    .description('alerts started in the period: counts by severity and state, time to acknowledge and to resolve')
    .option('--period <period>', 'e.g. 24h, 7d (default 24h, at most 90d)')
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const query = checked(schemas.periodQuery, options);
      const stats = await clientFor(command).alertStatistics(query);
      const secs = (value: number | null) => (value === null ? '-' : `${Math.round(value)} s`);
      const row = (name: string, c: (typeof stats)['totals']) => [name, show(c.total), show(c.firing), show(c.acknowledged), show(c.resolved), secs(c.timeToAcknowledge.meanSeconds), secs(c.timeToAcknowledge.p95Seconds), secs(c.timeToResolve.meanSeconds), secs(c.timeToResolve.p95Seconds)];
      print(
        stats,
        table(['severity', 'total', 'firing', 'acked', 'resolved', 'ack mean', 'ack p95', 'resolve mean', 'resolve p95'], [...stats.bySeverity.map((c) => row(c.severity, c)), row('(all)', stats.totals)]),
      );
    });
  alerts
    .command('list')
    .option('--state <state>', choicesOf(schemas.alertsQuery.shape.state))
    .option('--limit <n>', 'at most n (default 100, at most 1000)')
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const query = checked(schemas.alertsQuery, options);
      const list = await clientFor(command).listAlerts(query);
      print(list, table(['id', 'state', 'severity', 'provider', 'summary'], list.alerts.map((a) => [a.id, a.state, a.severity, show(a.provider), show(a.summary)])));
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
      const { by } = checked(schemas.ackBody, { by: options.by ?? `cli:${userInfo().username}` });
      const acked = await clientFor(command).ackAlert(id, by);
      print(acked, `acknowledged ${acked.id} by ${acked.acknowledgedBy}`);
    });

  program
    .command('sla')
    .description('SLA reports per provider and window, newest first, with the compliance summary')
    .option('--provider <provider>')
    .option('--window <window>', choicesOf(schemas.slaQuery.shape.window))
    .option('--limit <n>', 'at most n (default 100, at most 1000)')
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const query = checked(schemas.slaQuery, options);
      const sla = await clientFor(command).sla(query);
      const percent = (value: unknown) => (typeof value === 'number' ? `${(value * 100).toFixed(2)}%` : '-');
      const rows = sla.reports.map((r) => [
        r.provider,
        show(r.window),
        show(r.periodEnd),
        percent(r.availability),
        typeof r.p95Ms === 'number' ? `${r.p95Ms} ms` : '-',
        percent(r.errorRate),
        r.noData === true ? 'no data' : r.compliant === true ? 'yes' : `no${Array.isArray(r.violations) && r.violations.length > 0 ? ` (${r.violations.join(', ')})` : ''}`,
      ]);
      const { summary } = sla;
      print(sla, `${table(['provider', 'window', 'period end', 'availability', 'p95', 'error rate', 'compliant'], rows)}\n${summary.compliant} of ${summary.reports - summary.noData} compliant${summary.noData > 0 ? `, ${summary.noData} without data` : ''}`);
    });

  const circuits = program
    .command('circuits')
    .description("every provider's circuit breaker, shared by all workers; `circuits reset <provider>` closes one")
    .action(async (_options: unknown, command: Command) => {
      const { circuits } = await clientFor(command).circuits();
      print(
        { circuits },
        table(['provider', 'state', 'failures', 'open until'], circuits.map((c) => [c.provider, c.state, show(c.consecutiveFailures), show(c.openUntil)])),
      );
    });
  circuits
    .command('reset')
    .description("close the provider's circuit now (operator or admin key; recorded in the audit log)")
    .argument('<provider>')
    .action(async (provider: string, _options: unknown, command: Command) => {
      const reset = await clientFor(command).resetCircuit(provider);
      print(reset, `${reset.provider}: ${reset.before.state} -> ${reset.after.state} (by ${reset.resetBy} at ${reset.at})`);
    });

  program
    .command('rate-limits')
    .description("each provider's rate limit, its use over the last minute and hour (every worker's requests) and throttles")
    .action(async (_options: unknown, command: Command) => {
      const limits = await clientFor(command).rateLimits();
      print(
        limits,
        table(
          ['provider', 'limit/s', 'last min/s', 'use', 'last hour', 'peak min', 'throttled (1h)', 'last throttled'],
          limits.providers.map((p) => [p.provider, show(p.limitPerSecond), show(p.lastMinute.perSecond), `${(p.lastMinute.utilization * 100).toFixed(1)}%`, show(p.lastHour.requests), show(p.lastHour.peakMinute), show(p.lastHour.throttled), show(p.lastThrottledAt)]),
        ),
      );
    });

  const cache = program.command('cache').description("the tenant's provider read cache");
  cache
    .command('stats')
    .description('hits, misses, hit rate over the period and live entries per namespace (provider/operation)')
    .option('--provider <provider>')
    .option('--period <period>', 'e.g. 30m, 24h, 30d (default 24h, at most 90d)')
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const query = checked(schemas.cacheStatsQuery, options);
      const stats = await clientFor(command).cacheStats(query);
      const rate = (value: number | null) => (value === null ? '-' : `${value}%`);
      const rows = stats.namespaces.map((n) => [n.namespace, show(n.hits), show(n.misses), rate(n.hitRate), show(n.entries)]);
      rows.push(['(total)', show(stats.totals.hits), show(stats.totals.misses), rate(stats.totals.hitRate), show(stats.totals.entries)]);
      print(stats, table(['namespace', 'hits', 'misses', 'hit rate', 'entries'], rows));
    });

  const config = program.command('config').description('the configuration in force, without secrets');
  config
    .command('show')
    .description('every variable (secrets as "redacted"), the monitoring variables and the provider registry')
    .action(async (_options: unknown, command: Command) => {
      const effective = await clientFor(command).effectiveConfig();
      const value = (v: { value: unknown; redacted: boolean }) => (v.redacted ? '(redacted)' : typeof v.value === 'string' ? v.value : JSON.stringify(v.value));
      const rows = [...effective.variables, ...effective.monitoring.variables].map((v) => [v.name, value(v)]);
      const providers = table(['provider', 'kind', 'rate/s', 'credentials (variables)'], effective.providers.map((p) => [p.name, p.kind, show(p.rateLimitPerSecond), Object.values(p.credentials).join(', ') || '-']));
      print(effective, `${table(['variable', 'value'], rows)}${effective.monitoring.error ? `\nmonitoring: ${effective.monitoring.error}` : ''}\n\n${providers}`);
    });
  config
    .command('failover')
    .description("each provider's failover strategy and backups, with their circuits")
    .action(async (_options: unknown, command: Command) => {
      const failover = await clientFor(command).failoverTable();
      print(
        failover,
        table(['provider', 'strategy', 'circuit', 'backups', 'operations'], failover.failover.map((f) => [f.provider, f.strategy, f.circuit, f.backups.map((b) => `${b.provider} (${b.circuit})`).join(', '), f.operations.join(', ') || '-'])),
      );
    });

  program
    .command('report')
    .description('performance and cost savings over the period: requests saved by batching and the cache, provider requests, spend against budget')
    .option('--period <period>', 'e.g. 24h, 7d, 30d (default 24h, at most 90d)')
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const query = checked(schemas.periodQuery, options);
      const report = await clientFor(command).performanceReport(query);
      const { batching, cache: cached, totals } = report;
      const money = (value: number) => `$${value.toFixed(4)}`;
      const summary = [
        `tenant ${report.tenant}, ${report.from} to ${report.to}`,
        `batching: ${batching.items} items in ${batching.providerRequests} provider requests (${batching.requestsSaved} saved)`,
        `cache: ${cached.hits} hits, ${cached.misses} misses (${cached.requestsSaved} requests and ${money(cached.usdSaved)} saved)`,
        `requests saved: ${totals.requestsSaved}; spent ${money(totals.spentUsd)} (this tenant ${money(totals.tenantSpentUsd)})`,
      ].join('\n');
      const providers = table(
        ['provider', 'requests', 'throttled', 'failed', 'spent', 'tenant spent', 'budget', 'of budget'],
        report.providers.map((p) => [p.provider, show(p.requests), show(p.throttled), show(p.failed), money(p.spentUsd), money(p.tenantSpentUsd), p.budgetUsd === null ? '-' : money(p.budgetUsd), p.budgetPercent === null ? '-' : `${p.budgetPercent}%`]),
      );
      print(report, `${summary}\n\n${providers}`);
    });

  const keys = program
    .command('keys')
    .description('API keys (through the API with --key; otherwise, or with --db, straight to DATABASE_URL)')
    .option('--db', 'use DATABASE_URL even when a key is given');
  keys
    .command('create')
    .description('make a key, printed once (alone on stdout)')
    .requiredOption('--role <role>', roles.join(' | '))
    .requiredOption('--name <name>', 'what the key is for')
    .action(keysCreate);
  keys.command('list').action(keysList);
  keys.command('revoke').argument('<keyId>').action(keysRevoke);

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
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const query = checked(schemas.webhookSecretsQuery, options);
      const list = await clientFor(command).listWebhookSecrets(query);
      print(list, table(['id', 'source', 'fingerprint', 'created', 'state'], list.webhookSecrets.map((w) => [w.id, w.source, w.fingerprint, w.createdAt, w.notAfter ? `until ${w.notAfter}` : 'live'])));
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

  addSecretsCommands(program, secretsSession, (code) => (process.exitCode = code));

  program
    .command('audit')
    .description("the tenant's audit log, newest first (admin key)")
    .option('--action <action>', 'e.g. key.create, subscriber.update, delivery.replay')
    .option('--from <iso>')
    .option('--to <iso>')
    .option('--limit <n>', 'at most n (default 100, at most 1000)')
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const query = checked(schemas.auditQuery, options);
      const list = await clientFor(command).listAudit(query);
      print(list, table(['at', 'actor', 'action', 'target', 'outcome'], list.entries.map((e) => [e.at, `${e.actor.kind}:${e.actor.id}`, e.action, show(e.target), e.outcome])));
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
        table(['provider', 'status', 'score', 'circuit'], health.providers.map((p) => [p.provider, p.status, show(p.score), circuitOf.get(p.provider) ?? 'closed'])),
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
      print(budgets, table(['provider', 'today', 'this month'], budgets.budgets.map((b) => [b.provider, period(b.daily), period(b.monthly)])));
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
