/**
 * Webhook sources: for each source (a provider, or a generic HMAC-signing system), the signature
 * scheme that verifies it and that scheme's options, and optionally the tenant it belongs to.
 * By default the registered providers' sources (each folder's index.ts, listed in
 * providers/index.ts); a WEBHOOK_SOURCES_FILE replaces them all. Validated at start with errors
 * that name the field; each scheme's folder declares the options its sources may set. Secrets are kept apart (api/webhook-secrets.ts).
 * A source may also name the addresses its provider sends from (`allowIps`, CIDRs: others get 403)
 * and its own request limit per tenant (`rateLimitPerMinute`, else WEBHOOK_RATE_LIMIT_PER_MINUTE).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { cidrProblem, ipAllowlist, type IpAllowlist } from '../lib/security/ip-allowlist';
import { formatIssues } from '../lib/zod-issues';
import { defaultWebhookSourcesDocument, schemeDeclarations } from '../providers';
import { isSchemeName, type SchemeName } from './webhook-schemes';

const sourceName = z.string().regex(/^(generic:)?[a-z][a-z0-9-]{0,62}$/, 'lowercase name, or "generic:<name>"');

const sourceSchema = z.object({
  scheme: z.string().refine(isSchemeName, 'unknown scheme'),
  options: z.unknown().optional(),
  /** Requests to /webhooks/<name> (without /tenants/...) belong to this tenant (default: DEFAULT_TENANT). */
  tenant: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/).optional(),
  /** Only requests from these CIDRs or addresses (IPv4, IPv6) are received; others get 403. Absent: any address. */
  allowIps: z
    .array(z.string().superRefine((entry, ctx) => {
      const problem = cidrProblem(entry);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }))
    .min(1, 'list at least one range, or leave allowIps out to receive from any address')
    .max(1000)
    .optional(),
  /** Requests a minute per tenant of this source before 429 + Retry-After (0: no limit); default WEBHOOK_RATE_LIMIT_PER_MINUTE. */
  rateLimitPerMinute: z.number().int().nonnegative().optional(),
}).strict();

export interface WebhookSource {
  name: string;
  /** The provider name in workflow ids, the ledger and metrics (`generic-<name>` for generic sources). */
  provider: string;
  scheme: SchemeName;
  options: unknown;
  tenant?: string;
  /** The addresses requests must come from; undefined: any. */
  allowIps?: IpAllowlist;
  /** Its own limit a minute per tenant; undefined: the configured default. */
  rateLimitPerMinute?: number;
}

export type WebhookSources = ReadonlyMap<string, WebhookSource>;

export function parseWebhookSources(document: unknown, source = 'webhook sources'): WebhookSources {
  const parsed = z.object({ sources: z.record(sourceName, sourceSchema) }).safeParse(document);
  const issues = parsed.success ? [] : formatIssues(parsed.error);
  // zod drops a JSON `__proto__` key without a word; a source file naming one is refused instead.
  const named = (document as { sources?: unknown } | null)?.sources;
  if (typeof named === 'object' && named !== null && Object.hasOwn(named, '__proto__')) issues.push('sources.__proto__: not a source name (lowercase name, or "generic:<name>")');
  const sources = new Map<string, WebhookSource>();
  for (const [name, entry] of Object.entries(parsed.success ? parsed.data.sources : {})) {
    const scheme = entry.scheme;
    const options = schemeDeclarations[scheme].options.safeParse(entry.options ?? {});
    if (!options.success) {
      issues.push(...formatIssues(options.error, { prefix: `sources.${name}.options.` }));
      continue;
    }
    const provider = name.startsWith('generic:') ? `generic-${name.slice('generic:'.length)}` : name;
    sources.set(name, {
      name,
      provider,
      scheme,
      options: options.data,
      tenant: entry.tenant,
      allowIps: entry.allowIps && ipAllowlist(entry.allowIps),
      rateLimitPerMinute: entry.rateLimitPerMinute,
    });
  }
  if (issues.length > 0) throw new Error(`invalid ${source}:\n  ${issues.join('\n  ')}`);
  return sources;
}

export function loadWebhookSources(env: NodeJS.ProcessEnv = process.env): WebhookSources {
  const file = env.WEBHOOK_SOURCES_FILE;
  if (file === undefined) return parseWebhookSources(defaultWebhookSourcesDocument(), 'the registered providers\' default webhook sources');
  return parseWebhookSources(JSON.parse(readFileSync(file, 'utf8')), file);
}
