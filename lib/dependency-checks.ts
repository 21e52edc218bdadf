/**
 * What the health endpoints share: one dependency check, bounded in time and measured
 * (`timedCheck`), and the start-up probe's latch (`startupProbe`). The API's /startupz and
 * GET /health/detailed (api/routes/health.ts, api/routes/health-detailed.ts) and the worker's
 * /startupz (workers/metrics.ts) are made of these.
 */
import type { ProbeAnswer } from './metrics-server';

/** One dependency's answer: ok or the reason, and how long it took (milliseconds, 0.1 ms steps). */
export interface TimedCheck<T> {
  ok: boolean;
  latencyMs: number;
  /** What the check returned, when it answered. */
  value?: T;
  /** Why not ok: the error's message, or `<what> did not answer within <ms> ms`. */
  error?: string;
}

/** Runs `run` with a deadline; never throws: a failure or a timeout is an answer with `ok: false`. */
export async function timedCheck<T>(what: string, timeoutMs: number, run: () => Promise<T>): Promise<TimedCheck<T>> {
  const started = process.hrtime.bigint();
  const latencyMs = (): number => Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const value = await Promise.race([run(), timeout]);
    return { ok: true, latencyMs: latencyMs(), value };
  } catch (err) {
    return { ok: false, latencyMs: latencyMs(), error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A start-up probe: 503 until `check` passes once, then 200 for the life of the process (start-up
 * happens once; afterwards liveness and readiness speak). Concurrent probes share one check.
 */
export function startupProbe(check: () => Promise<ProbeAnswer>): () => Promise<ProbeAnswer> {
  let started: ProbeAnswer | undefined;
  let running: Promise<ProbeAnswer> | undefined;
  return async () => {
    if (started) return started;
    running ??= check().finally(() => (running = undefined));
    const answer = await running;
    if (answer.ok) started = answer;
    return answer;
  };
}
