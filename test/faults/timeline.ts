/**
 * The fault timeline: each fault fires when the send reaches its share of deliveries, takes its
 * component down (SIGKILL for the worker and the Temporal server, a fast shutdown for
 * PostgreSQL), keeps it down for the planned time, starts it again and records how long it
 * was unavailable. Faults run one after another, alongside the send, which never pauses.
 * In burst mode the send is cut into one burst per fault (`burstSegments`): each fault fires inside
 * its burst, and the next burst begins once it has recovered (`idle`).
 */
import type { Logger } from '../../lib/logger';
import type { FaultKind, FaultSpec } from './options';

export interface FaultActions {
  down(kind: FaultKind): Promise<void>;
  up(kind: FaultKind): Promise<void>;
}

export interface FaultRecord {
  kind: FaultKind;
  how: string;
  plannedAt: number;
  /** Share of deliveries dispatched when it fired. */
  firedAtShare: number;
  /** Deliveries in flight (dispatched, no final answer yet) when it fired. */
  inFlightAtFire: number;
  /** Seconds since the send began. */
  firedAtS: number;
  plannedDownMs: number;
  /** From the kill until the component answered again (planned down time + restart). */
  unavailableMs: number;
  restartMs: number;
  error: string | null;
}

const how: Record<FaultKind, string> = {
  api: 'SIGKILL API process (requests in flight get no answer), start a new one on the same port',
  worker: 'SIGKILL worker process, start a new one',
  temporal: 'SIGKILL temporal dev server, start it again on the same SQLite file and port',
  postgres: 'pg_ctl stop -m fast, then pg_ctl start',
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class FaultTimeline {
  readonly records: FaultRecord[] = [];
  private next = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly faults: FaultSpec[],
    private readonly total: number,
    private readonly actions: FaultActions,
    private readonly logger: Logger,
    private readonly sendStartedAt: number,
    private readonly inFlight: () => number = () => 0,
  ) {}

  /** Called after every dispatch; fires each fault whose share has been reached. */
  onProgress(dispatched: number): void {
    while (this.next < this.faults.length && dispatched >= this.faults[this.next]!.at * this.total) {
      const fault = this.faults[this.next++]!;
      this.chain = this.chain.then(() => this.inject(fault, dispatched / this.total));
    }
  }

  private async inject(fault: FaultSpec, share: number): Promise<void> {
    const firedAt = Date.now();
    const record: FaultRecord = {
      kind: fault.kind,
      how: how[fault.kind],
      plannedAt: fault.at,
      firedAtShare: Number(share.toFixed(4)),
      inFlightAtFire: this.inFlight(),
      firedAtS: Number(((firedAt - this.sendStartedAt) / 1000).toFixed(1)),
      plannedDownMs: fault.downMs,
      unavailableMs: 0,
      restartMs: 0,
      error: null,
    };
    this.logger.warn({ fault: fault.kind, share: record.firedAtShare, inFlight: record.inFlightAtFire, downMs: fault.downMs }, 'fault: taking component down');
    try {
      await this.actions.down(fault.kind);
      await sleep(fault.downMs);
      const restartBegan = Date.now();
      await this.actions.up(fault.kind);
      record.restartMs = Date.now() - restartBegan;
      record.unavailableMs = Date.now() - firedAt;
      this.logger.warn({ fault: fault.kind, unavailableMs: record.unavailableMs, restartMs: record.restartMs }, 'fault: component back');
    } catch (err) {
      record.error = err instanceof Error ? err.message : String(err);
      this.logger.error({ fault: fault.kind, err: record.error }, 'fault: injection or recovery failed');
    }
    this.records.push(record);
  }

  /** Resolves when every fault fired so far has recovered (the next burst may begin). */
  async idle(): Promise<void> {
    await this.chain;
  }

  /** Resolves when every fault fired so far has recovered; fires those not reached yet first. */
  async finish(): Promise<void> {
    this.onProgress(Number.POSITIVE_INFINITY);
    await this.chain;
  }
}

/**
 * Burst mode's cuts: where one burst ends and the next begins, half-way between two faults'
 * shares, as delivery counts ending with `total`. Each fault then fires inside its own burst, with
 * deliveries of that burst before and after it.
 */
export function burstSegments(faults: FaultSpec[], total: number): number[] {
  const ends: number[] = [];
  for (let i = 0; i + 1 < faults.length; i++) {
    const end = Math.round(((faults[i]!.at + faults[i + 1]!.at) / 2) * total);
    if (end > (ends.at(-1) ?? 0) && end < total) ends.push(end);
  }
  return [...ends, total];
}
