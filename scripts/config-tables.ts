/**
 * Writes the environment table of docs/CONFIGURATION.md (between `<!-- config:start -->` and
 * `<!-- config:end -->`) from the schema of lib/config/config.ts, and the monitoring table of
 * docs/OPERATIONS.md (`<!-- monitoring-config:start -->` … `<!-- monitoring-config:end -->`) from
 * that of lib/config/monitoring-config.ts: `npx ts-node scripts/config-tables.ts` or
 * `node dist/scripts/config-tables.js`. `--check` only compares (exit 1 when a table is stale);
 * test/unit/config.test.ts does the same.
 *
 * A row is a schema field with its description (`.describe()` or `.meta({ description })`) as
 * the meaning and its declared default, shown in backticks (`shownDefault` in `.meta()` replaces
 * it); `rowWith` in `.meta()` names the fields that share the row. The few variables read outside
 * the schemas (by the registry, the webhook sources, the launcher and the tests) are rows of
 * their own below, each placed after a schema variable.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { configSchema } from '../lib/config/config';
import { monitoringSchema } from '../lib/config/monitoring-config';
import { projectRoot } from '../lib/config/paths';

/** What `.describe()` and `.meta()` on a field may say for its table row. */
const fieldDoc = z.strictObject({
  description: z.string().min(1).optional(),
  shownDefault: z.string().min(1).optional(),
  rowWith: z.array(z.string()).min(1).optional(),
});

/** A table row as written: the variables cell, the default cell, the meaning cell. */
interface Row {
  names: string;
  shownDefault: string;
  meaning: string;
}

/** A row for variables read outside the schemas, placed after the schema variable named. */
interface RowReadElsewhere extends Row {
  after: string;
}

interface TableSpec {
  doc: string;
  marker: string;
  schema: z.ZodObject;
  /** The default cell of a variable without a default. */
  none: string;
  readElsewhere: readonly RowReadElsewhere[];
}

const credentials = [
  'STRIPE_API_KEY',
  'TWILIO_ACCOUNT_SID',
  'TWILIO_AUTH_TOKEN',
  'TWILIO_FROM_NUMBER',
  'TWILIO_NOTIFY_SERVICE_SID',
  'VONAGE_API_KEY',
  'VONAGE_API_SECRET',
  'VONAGE_FROM',
  'SENDGRID_API_KEY',
  'GOOGLE_REFRESH_TOKEN',
  'GOOGLE_CLIENT_ID',
  'GOOGLE_CLIENT_SECRET',
  'GOOGLE_CALENDAR_CREDENTIALS_FILE',
  'GOOGLE_ACCESS_TOKEN',
  'GOOGLE_SHEETS_CREDENTIALS_FILE',
  'GOOGLE_MAPS_API_KEY',
  'YANDEX_MAPS_API_KEY',
  'HTTPBIN_TOKEN',
  'OPENAI_API_KEY',
  'GOOGLE_MY_BUSINESS_REFRESH_TOKEN',
  'GOOGLE_MY_BUSINESS_ACCESS_TOKEN',
  'AIRTABLE_ACCESS_TOKEN',
  'WHATSAPP_ACCESS_TOKEN',
  'WHATSAPP_PHONE_NUMBER_ID',
  'RESEND_API_KEY',
  'RAZORPAY_KEY_ID',
  'RAZORPAY_KEY_SECRET',
  'CLOUDFLARE_API_TOKEN',
  'DIGITALOCEAN_TOKEN',
  'SYNTHESIA_API_KEY',
  'LINKEDIN_ACCESS_TOKEN',
  'FACEBOOK_ACCESS_TOKEN',
];

const configurationReadElsewhere: readonly RowReadElsewhere[] = [
  {
    after: 'PROVIDER_TASK_QUEUE_PREFIX',
    names: '`PROVIDERS_FILE`',
    shownDefault: "the registered providers' defaults (`providers/<name>/index.ts`)",
    meaning: 'a JSON provider registry (`{"providers": {...}}`) that replaces the defaults',
  },
  {
    after: 'PROVIDER_TASK_QUEUE_PREFIX',
    names: '`PROVIDER_<NAME>_BASE_URL`',
    shownDefault: 'from the registry',
    meaning: "a provider's base URL (`<NAME>` upper-cased, `-` as `_`, e.g. `PROVIDER_BACKUP_SMS_BASE_URL`)",
  },
  {
    after: 'PROVIDER_TASK_QUEUE_PREFIX',
    names: credentials
      .map((name) => (name === 'GOOGLE_SHEETS_CREDENTIALS_FILE' ? `\`${name}\` (path of a service-account JSON key file)` : `\`${name}\``))
      .join(', '),
    shownDefault: '*(none: fakes)*',
    meaning:
      'provider credentials, named in the registry; read only by the worker, never logged or put in workflow histories; a value stored encrypted with `npx switchyard secrets credentials set` wins (see *Secrets at rest*)',
  },
  {
    after: 'WEBHOOK_SECRETS_FILE',
    names: '`WEBHOOK_SECRETS_<SOURCE>`',
    shownDefault: '*(none)*',
    meaning:
      "comma-separated secrets for the default tenant's source (`<SOURCE>` upper-cased, other characters as `_`: `WEBHOOK_SECRETS_TWILIO`, `WEBHOOK_SECRETS_GENERIC_SHOPIFY`); `STRIPE_WEBHOOK_SECRETS` also works for Stripe. A source without a secret answers 503 so the provider keeps retrying",
  },
  {
    after: 'WEBHOOK_SECRETS_FILE',
    names: '`WEBHOOK_SOURCES_FILE`',
    shownDefault: "the registered providers' default sources (`providers/<name>/index.ts`)",
    meaning: 'a JSON file of webhook sources and their signature schemes (`{"sources": {...}}`) that replaces the defaults',
  },
  {
    after: 'PORT',
    names: '`TEMPORAL_UI_PORT`, `TEMPORAL_SERVER_METRICS_PORT`',
    shownDefault: '`8233`, `9233`',
    meaning: "the dev server's Web UI and metrics ports, for `npm start` (see Ports)",
  },
  { after: 'WORKER_MAX_CACHED_WORKFLOWS', names: '`TEST_DATABASE_URL`, `TEMPORAL_TEST_ADDRESS`', shownDefault: 'see above', meaning: 'tests only' },
  {
    after: 'WORKER_MAX_CACHED_WORKFLOWS',
    names: '`TEST_WORKFLOW_TASK_TIMEOUT`',
    shownDefault: "*(the server's 10 s)*",
    meaning: 'tests only: the default workflow task timeout of the dev server jest starts (`2s` in `npm run test:cache-off`)',
  },
  {
    after: 'SECRETS_MASTER_KEYS',
    names: '`CONFIG_FILE`',
    shownDefault: '*(none)*',
    meaning: 'a JSON object of these variables; the environment wins over it',
  },
  {
    after: 'SECRETS_MASTER_KEYS',
    names: '`<NAME>_FILE`',
    shownDefault: '*(none)*',
    meaning: 'any variable read from a file (e.g. `AUTH_JWT_SECRET_FILE=/run/secrets/jwt`), so secrets stay out of the environment',
  },
];

export const configurationTable: TableSpec = {
  doc: path.join(projectRoot, 'docs', 'CONFIGURATION.md'),
  marker: 'config',
  schema: configSchema,
  none: '*(none)*',
  readElsewhere: configurationReadElsewhere,
};

export const monitoringTable: TableSpec = {
  doc: path.join(projectRoot, 'docs', 'OPERATIONS.md'),
  marker: 'monitoring-config',
  schema: monitoringSchema,
  none: '—',
  readElsewhere: [],
};

/** The default a field declares (`.default()`, `.prefault()`, also under a transform), if any. */
function declaredDefault(field: z.core.$ZodType): { value: unknown } | undefined {
  const def = field._zod.def as { type: string; defaultValue?: unknown; in?: z.core.$ZodType };
  if (def.type === 'default' || def.type === 'prefault') return { value: def.defaultValue };
  if (def.type === 'pipe' && def.in) return declaredDefault(def.in);
  return undefined;
}

function shownValue(name: string, field: z.core.$ZodType, none: string): string | undefined {
  const declared = declaredDefault(field);
  if (!declared) return undefined;
  const { value } = declared;
  if (value === '') return '*(empty)*';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return `\`${value}\``;
  throw new Error(`${name}: its default does not read as a table cell; give it a shownDefault (e.g. ${none})`);
}

/** A row's default cell: each variable's default, or the one none when none of them has one. */
function shownDefaults(names: readonly string[], shape: Record<string, z.core.$ZodType>, none: string): string {
  const shown = names.map((name) => shownValue(name, shape[name]!, none));
  return shown.every((cell) => cell === undefined) ? none : shown.map((cell) => cell ?? none).join(', ');
}

function docOf(name: string, field: z.core.$ZodType): z.infer<typeof fieldDoc> {
  const parsed = fieldDoc.safeParse(z.globalRegistry.get(field) ?? {});
  if (!parsed.success) throw new Error(`${name}: bad table metadata: ${parsed.error.message}`);
  return parsed.data;
}

/** The table's rows: one per described field with its `rowWith` companions, and the rows read elsewhere after their anchors. */
export function tableRows(spec: TableSpec): Row[] {
  const shape = spec.schema.shape as Record<string, z.core.$ZodType>;
  const companions = new Set<string>();
  for (const [name, field] of Object.entries(shape)) {
    for (const other of docOf(name, field).rowWith ?? []) {
      if (!(other in shape)) throw new Error(`${name}: rowWith names ${other}, which the schema lacks`);
      companions.add(other);
    }
  }
  const rows: Row[] = [];
  for (const [name, field] of Object.entries(shape)) {
    if (companions.has(name)) continue;
    const doc = docOf(name, field);
    if (!doc.description) throw new Error(`${name}: no description for its table row (.describe() in its schema)`);
    const names = [name, ...(doc.rowWith ?? [])];
    rows.push({ names: names.map((n) => `\`${n}\``).join(', '), shownDefault: doc.shownDefault ?? shownDefaults(names, shape, spec.none), meaning: doc.description });
    rows.push(...spec.readElsewhere.filter((row) => row.after === name));
  }
  const anchors = new Set(Object.keys(shape));
  const lost = spec.readElsewhere.filter((row) => !anchors.has(row.after) || companions.has(row.after));
  if (lost.length > 0) throw new Error(`rows placed after no row of their own: ${lost.map((row) => row.names).join('; ')}`);
  return rows;
}

export function table(spec: TableSpec): string {
  const lines = tableRows(spec).map((row) => `| ${row.names} | ${row.shownDefault} | ${row.meaning} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...lines].join('\n');
}

/** The document with its table made from the schema. */
export function withTable(spec: TableSpec, doc: string): string {
  const section = new RegExp(`(<!-- ${spec.marker}:start -->\\n)[\\s\\S]*?(\\n<!-- ${spec.marker}:end -->)`);
  const file = path.relative(projectRoot, spec.doc);
  if (!section.test(doc)) throw new Error(`${file} has no <!-- ${spec.marker}:start --> … <!-- ${spec.marker}:end --> section`);
  return doc.replace(section, (_all, start: string, end: string) => `${start}${table(spec)}${end}`);
}

if (require.main === module) {
  for (const spec of [configurationTable, monitoringTable]) {
    const file = path.relative(projectRoot, spec.doc);
    const doc = readFileSync(spec.doc, 'utf8');
    const made = withTable(spec, doc);
    if (process.argv.includes('--check')) {
      if (made !== doc) {
        process.stderr.write(`${file}: the ${spec.marker} table is stale; run node dist/scripts/config-tables.js\n`);
        process.exitCode = 1;
      }
    } else if (made !== doc) {
      writeFileSync(spec.doc, made);
      process.stdout.write(`${file}: ${spec.marker} table written\n`);
    }
  }
}
