/**
 * The service API's bounded waits (`?wait=` on calls, bookings and batch items): look again (after
 * 20 ms, doubling to 250 ms) until there is an answer or the wait is over. Never a Temporal
 * long-poll cut short at the deadline: that is a cancelled query on the server, and on the SQLite
 * dev server (the one-machine default) a cancelled query interrupts its shared connection, so other
 * requests fail ("interrupted (9)", "shard status unknown") and, at about ten cut-short waits a
 * second, the server stops answering (docs/BENCHMARKS.md, Batching).
 */
export async function waitUntil<T>(look: () => Promise<T | undefined>, waitMs: number): Promise<T | undefined> {
  const deadline = Date.now() + waitMs;
  for (let pauseMs = 20; ; pauseMs = Math.min(pauseMs * 2, 250)) {
    const found = await look();
    if (found !== undefined) return found;
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pauseMs, left)));
  }
}
