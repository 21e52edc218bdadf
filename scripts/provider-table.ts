/**
 * Writes the table of shipped provider numbers in docs/PROVIDERS.md (between
 * `<!-- providers:start -->` and `<!-- providers:end -->`) from the registered providers' registry
 * defaults (providers/<name>/index.ts, as lib/config/registry.ts parses them without PROVIDERS_FILE):
 * `node dist/scripts/provider-table.js` (after `npx tsc -p .`). `--check` only
 * compares (exit 1 when the table is stale); test/unit/provider-table.test.ts does the same. A
 * provider added by a new folder gets its row by running the script again.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseRegistry, type ProviderConfig, type ProviderRegistry } from '../lib/config/registry';
import { projectRoot } from '../lib/config/paths';
import { defaultRegistryDocument } from '../providers';

export const providersDoc = path.join(projectRoot, 'docs', 'PROVIDERS.md');
const MARKER = 'providers';

/** The shipped registry: the folders' defaults, no environment (no base URL overrides). */
export function shippedRegistry(): ProviderRegistry {
  return parseRegistry(defaultRegistryDocument(), {}, "the registered providers' defaults");
}

const percent = (fraction: number): string => `${Math.round(fraction * 10_000) / 100}%`;
const seconds = (ms: number): string => `${ms / 1000} s`;
const usd = (amount: number): string => `$${amount}`;
const perSecond = (rate: number): string => `${Math.round(rate * 100) / 100}/s`;

function rateLimitCell(p: ProviderConfig): string {
  const { requests, windowSeconds } = p.rateLimit;
  return windowSeconds === 1 ? perSecond(requests) : `${requests} per ${windowSeconds} s (${perSecond(p.rateLimitPerSecond)})`;
}

function circuitCell(p: ProviderConfig): string {
  const c = p.circuit;
  return `${c.failureThreshold} failures or ${percent(c.errorRateThreshold)} of ≥ ${c.minimumRequests} in ${c.windowSeconds} s; open ${c.coolDownSeconds} s; ${c.successThreshold} successes`;
}

function batchCell(p: ProviderConfig): string {
  if (!p.batch) return '—';
  const w = p.batch.maxWaitMs;
  const waits = w.high === w.medium && w.medium === w.low ? seconds(w.high) : `${seconds(w.high)} / ${seconds(w.medium)} / ${seconds(w.low)}`;
  return `${p.batch.maxSize} items, wait ${waits} (${p.batch.mode})`;
}

function failoverCell(p: ProviderConfig): string {
  if (!p.failover) return '—';
  const weights = p.failover.weights ?? {};
  const named = [p.name, ...p.failover.backups].map((n) => (weights[n] === undefined ? n : `${n} ×${weights[n]}`));
  return `${p.failover.strategy}: ${p.failover.strategy === 'weighted' ? named.join(', ') : p.failover.backups.join(', ')}`;
}

/** One row per provider, in the registration order. */
export function providerRows(registry: ProviderRegistry): string[][] {
  return Object.values(registry).map((p) => [
    `\`${p.name}\``,
    rateLimitCell(p),
    circuitCell(p),
    p.budget ? `${usd(p.budget.dailyUsd)} / ${usd(p.budget.monthlyUsd)}` : '—',
    batchCell(p),
    `${percent(p.sla.availability)}, p95 ${p.sla.p95Ms} ms, errors ${percent(p.sla.errorRate)}`,
    `${seconds(p.thresholds.responseTimeWarningMs)} / ${seconds(p.thresholds.responseTimeCriticalMs)}`,
    `${percent(p.thresholds.errorRateWarning)} / ${percent(p.thresholds.errorRateCritical)}`,
    `${percent(p.thresholds.availabilityWarning)} / ${percent(p.thresholds.availabilityCritical)}`,
    failoverCell(p),
  ]);
}

const HEADER = [
  'provider',
  'rate limit',
  'circuit breaker',
  'budget day / month',
  'batch (wait high / medium / low)',
  'SLA',
  'response time warning / critical',
  'error rate warning / critical',
  'availability warning / critical',
  'failover',
];

export function providerTable(registry: ProviderRegistry = shippedRegistry()): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(HEADER), line(HEADER.map(() => '---')), ...providerRows(registry).map(line)].join('\n');
}

/** The document with its table made from the registry. */
export function withProviderTable(doc: string, registry: ProviderRegistry = shippedRegistry()): string {
  const section = new RegExp(`(<!-- ${MARKER}:start -->\\n)[\\s\\S]*?(<!-- ${MARKER}:end -->)`);
  if (!section.test(doc)) throw new Error(`docs/PROVIDERS.md has no <!-- ${MARKER}:start --> … <!-- ${MARKER}:end --> section`);
  return doc.replace(section, (_all, start: string, end: string) => `${start}${providerTable(registry)}\n${end}`);
}

if (require.main === module) {
  const doc = readFileSync(providersDoc, 'utf8');
  const made = withProviderTable(doc);
  if (process.argv.includes('--check')) {
    if (made !== doc) {
      process.stderr.write('docs/PROVIDERS.md: the providers table is stale; run node dist/scripts/provider-table.js\n');
      process.exitCode = 1;
    }
  } else if (made !== doc) {
    writeFileSync(providersDoc, made);
    process.stdout.write('docs/PROVIDERS.md: providers table written\n');
  }
}
