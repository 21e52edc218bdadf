/**
 * The fault suite's knobs, from `--name=value` arguments or FAULTS_* environment variables
 * (arguments win), validated once so a typo fails at start with the option named. Defaults are
 * the full run's: 10 000 webhooks, 20% duplicates, 1% bad signatures, three faults during the send.
 * `--mode=burst` changes the defaults of the send and the faults (see `burstDefaults`): unpaced, 64
 * in flight, and a SIGKILL of the API, the worker and the Temporal server and a PostgreSQL restart,
 * each in the middle of a burst of its own.
 */
import { z } from 'zod';

export type FaultKind = 'api' | 'worker' | 'temporal' | 'postgres';
export type SendMode = 'paced' | 'burst';

export interface FaultSpec {
  kind: FaultKind;
  /** Share of deliveries dispatched when the fault is injected (0..1). */
  at: number;
  /** How long the component stays down before it is started again. */
  downMs: number;
}

const share = z.coerce.number().min(0).max(1);
const positiveInt = z.coerce.number().int().positive();

const optionsSchema = z
  .object({
    /** paced: a provider's steady send, faults on its timeline; burst: as fast as `concurrency` allows, one burst per fault. */
    mode: z.enum(['paced', 'burst']).default('paced'),
    /** Deliveries in total: first sends + duplicates + bad signatures. */
    events: positiveInt.default(10_000),
    duplicates: share.default(0.2),
    bad: share.default(0.01),
    /** Share of duplicates sent at the same moment as the first send (the rest come later). */
    concurrentDuplicates: share.default(0.5),
    /** Deliveries in flight at once, like a provider's parallel senders. */
    concurrency: positiveInt.optional(),
    /** First sends and re-sends started per second (0: as fast as `concurrency` allows). */
    rate: z.coerce.number().nonnegative().optional(),
    /**
     * Small runs are slowed to last at least this long, so every fault (and its recovery) still
     * happens while webhooks are being sent. 0 turns it off.
     */
    minSendSeconds: z.coerce.number().nonnegative().optional(),
    /** A provider gives up on one delivery after this long (Stripe retries for 3 days). */
    giveUpMs: positiveInt.default(15 * 60_000),
    requestTimeoutMs: positiveInt.default(15_000),
    /** How long to wait after the send for the inbox to drain and every accepted event's workflow to complete. */
    settleMs: positiveInt.optional(),
    /** `kind@share:down` list, e.g. `api@0.1:1s,worker@0.2:5s,temporal@0.45:10s,postgres@0.7:10s`; `none` for none. */
    faults: z.string().optional(),
    seed: z.coerce.number().int().nonnegative().default(7),
    /** Where faults.json and the component logs go. */
    artifacts: z.string().min(1).default('test-artifacts'),
    /** Keep the temporary directory (PostgreSQL cluster, SQLite file) for inspection. */
    keep: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  })
  .strict()
  .refine((o) => o.duplicates + o.bad < 1, { message: 'duplicates + bad must leave room for first sends' });

type ModeDependent = 'concurrency' | 'rate' | 'minSendSeconds' | 'settleMs' | 'faults';
export type FaultSuiteOptions = Omit<z.infer<typeof optionsSchema>, ModeDependent> & {
  concurrency: number;
  rate: number;
  minSendSeconds: number;
  settleMs: number;
  faults: FaultSpec[];
};

/** The defaults that depend on the mode; an option given explicitly wins in either mode. */
export const pacedDefaults = {
  concurrency: 32,
  rate: 60,
  minSendSeconds: 60,
  settleMs: 15 * 60_000,
  faults: 'worker@0.2:5s,temporal@0.45:10s,postgres@0.7:10s',
};
export const burstDefaults = {
  concurrency: 64,
  rate: 0,
  minSendSeconds: 0,
  settleMs: 5 * 60_000,
  // One burst per fault (split half-way between two faults' shares): each fires inside its burst.
  faults: 'api@0.1:1s,worker@0.35:2s,temporal@0.6:3s,postgres@0.85:3s',
};

function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a duration such as 500ms, 10s or 1m`);
  const value = Number(match[1]);
  return match[2] === 'ms' ? value : match[2] === 's' ? value * 1000 : value * 60_000;
}

export function parseFaults(text: string): FaultSpec[] {
  if (text.trim() === 'none' || text.trim() === '') return [];
  const faults = text.split(',').map((part) => {
    const match = /^\s*(api|worker|temporal|postgres)@([0-9.]+):(\S+)\s*$/.exec(part);
    if (!match) throw new Error(`fault "${part}" is not kind@share:down, e.g. temporal@0.45:10s`);
    const at = Number(match[2]);
    if (!(at >= 0 && at < 1)) throw new Error(`fault "${part}": share must be in [0, 1)`);
    return { kind: match[1] as FaultKind, at, downMs: parseDuration(match[3]!) };
  });
  return faults.sort((a, b) => a.at - b.at);
}

const camel = (name: string): string => name.toLowerCase().replace(/[-_]([a-z])/g, (_m, c: string) => c.toUpperCase());

/** `--events=500 --bad=0.02` and FAULTS_EVENTS=500 FAULTS_BAD=0.02 mean the same. */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): FaultSuiteOptions {
  const raw: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('FAULTS_') && value !== undefined) raw[camel(name.slice('FAULTS_'.length))] = value;
  }
  for (const arg of argv) {
    const match = /^--([a-z][a-z-]*)=(.*)$/.exec(arg);
    if (!match) throw new Error(`unexpected argument "${arg}": use --name=value (see docs/RELIABILITY.md)`);
    raw[camel(match[1]!)] = match[2]!;
  }
  const parsed = optionsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`invalid fault suite options:\n  ${parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('\n  ')}`);
  }
  const data = parsed.data;
  const defaults = data.mode === 'burst' ? burstDefaults : pacedDefaults;
  return {
    ...data,
    concurrency: data.concurrency ?? defaults.concurrency,
    rate: data.rate ?? defaults.rate,
    minSendSeconds: data.minSendSeconds ?? defaults.minSendSeconds,
    settleMs: data.settleMs ?? defaults.settleMs,
    faults: parseFaults(data.faults ?? defaults.faults),
  };
}
