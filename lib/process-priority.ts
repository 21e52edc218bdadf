/**
 * CPU priority of the drain's processes on a machine they share with the API. On one host the API's
 * answers to providers should get the CPU first and the inbox drain (the worker, the Temporal dev
 * server) what is left: the drain is durable and catches up, an acknowledgement cannot wait. With
 * separate containers (docker-compose.yml, deploy/) each has its own share and this plays no part.
 */
import { readdirSync } from 'node:fs';
import os from 'node:os';

/** The nice value `npm start` and the burst benchmark give the drain's processes. */
export const DRAIN_NICE = 10;

/**
 * Sets the nice value of every thread of a process: Linux keeps one per thread, and a thread started
 * later inherits its creator's, so a second pass catches those started during the first. Elsewhere
 * (no /proc) only the process's own. A process or thread that is gone is skipped.
 */
export function renice(pid: number, nice: number): void {
  for (let pass = 0; pass < 2; pass++) {
    let threads: string[];
    try {
      threads = readdirSync(`/proc/${pid}/task`);
    } catch {
      threads = pass === 0 ? [String(pid)] : [];
    }
    for (const tid of threads) {
      try {
        os.setPriority(Number(tid), nice);
      } catch {
        // The thread (or process) ended meanwhile.
      }
    }
  }
}
