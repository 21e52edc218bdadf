/**
 * The inbox drainer: starts `processWebhook` for every committed ledger row of its task queue that
 * has no run yet (lib/data/webhook-inbox.ts). Runs in every worker replica:
 *   - woken by LISTEN/NOTIFY (the API's insert notifies on commit), with a polling fallback for a
 *     lost notification or a listener that is reconnecting;
 *   - `lanes` loops each claim up to `batchSize` rows with FOR UPDATE SKIP LOCKED, start them, mark
 *     them started and commit: at most lanes × batchSize starts in flight, and two replicas never
 *     claim the same row;
 *   - a start that fails (Temporal unreachable) leaves its row waiting; the lane backs off and
 *     retries, so nothing committed is lost. A row whose run exists (a crash between start and
 *     commit) is found by the idempotent start and marked, never started twice.
 */
import { Connection } from '@temporalio/client';
import type { Pool, PoolClient } from 'pg';
import type { Counter } from 'prom-client';
import { claimInboxRows, INBOX_CHANNEL, markInboxStarted, type InboxRow } from '../lib/data/webhook-inbox';
import type { Logger } from '../lib/logger';
import type { WebhookEvent } from '../contracts/webhook';
import { startWebhook, type StartConfig } from '../lib/temporal/start-work';
import { WorkflowStarter, type StartOutcome } from '../lib/temporal/workflow-starter';
import type { Config } from '../lib/config/config';
import { payloadDataConverter } from '../lib/security/payload-codec';

export interface InboxDrainerOptions {
  pool: Pool;
  workflows: WorkflowStarter;
  config: StartConfig;
  logger: Logger;
  /** Claiming loops; each holds one pool connection while its batch starts. */
  lanes?: number;
  /** Rows one lane claims and starts at once. */
  batchSize?: number;
  /** The fallback poll when no notification arrives. */
  pollMs?: number;
  /** Counts starts by outcome: started, existing (run already there), failed. */
  starts?: Counter<'outcome'>;
}

export interface InboxDrainer {
  /** Stops claiming; resolves once every lane's batch in flight has committed or rolled back. */
  stop(): Promise<void>;
}

const MAX_BACKOFF_MS = 5_000;

export function startInboxDrainer(options: InboxDrainerOptions): InboxDrainer {
  const { pool, workflows, config, logger } = options;
  const lanes = options.lanes ?? 4;
  const batchSize = options.batchSize ?? 16;
  const pollMs = options.pollMs ?? 1_000;
  const taskQueue = config.TEMPORAL_TASK_QUEUE;
  let stopped = false;
  /** Lanes asleep until the next notification, poll or stop; a backing-off lane wakes only on stop. */
  let sleepers: Array<{ wake: () => void; onNotify: boolean }> = [];
  /**
   * Counts notifications. A lane reads it before it claims: a notification that came while it was
   * claiming (its rows committed after the claim's snapshot) woke nobody, and the lane would sleep a
   * whole poll on them; a changed count sends it to claim again at once instead.
   */
  let notified = 0;
  const wakeAll = (reason: 'notify' | 'stop'): void => {
    if (reason === 'notify') notified += 1;
    const woken = sleepers.filter((s) => reason === 'stop' || s.onNotify);
    sleepers = sleepers.filter((s) => !woken.includes(s));
    for (const s of woken) s.wake();
  };
  const sleep = (ms: number, onNotify = true): Promise<void> =>
    new Promise((resolve) => {
      // A lane that was claiming when stop() woke the sleepers must not then sleep a whole poll.
      if (stopped) return resolve();
      const sleeper = {
        onNotify,
        wake: (): void => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        sleepers = sleepers.filter((s) => s !== sleeper);
        resolve();
      }, ms);
      sleepers.push(sleeper);
    });

  let listener: PoolClient | undefined;
  const listen = async (): Promise<void> => {
    while (!stopped) {
      let lost = false;
      let connected: PoolClient | undefined;
      try {
        const client = await pool.connect();
        connected = client;
        client.on('notification', (message) => {
          if (message.channel === INBOX_CHANNEL && message.payload === taskQueue) wakeAll('notify');
        });
        client.on('error', (err) => {
          if (lost) return;
          lost = true;
          logger.warn({ err }, 'inbox listener lost its connection; polling until it is back');
          if (listener === client) listener = undefined;
          client.release(err);
          if (!stopped) void sleep(pollMs, false).then(listen);
        });
        await client.query(`LISTEN ${INBOX_CHANNEL}`);
        listener = client;
        wakeAll('notify'); // rows committed while nobody listened
        return;
      } catch (err) {
        // LISTEN failed on a connection it got: release it here. Left checked out, it kept the pool
        // from ending, and its later 'error' started a second listen loop; if that 'error' came
        // first, the loop it started is the one that goes on.
        if (connected) {
          if (lost) return;
          lost = true;
          connected.release(err instanceof Error ? err : true);
        }
        logger.warn({ err }, 'inbox listener could not connect; polling meanwhile');
        await sleep(Math.min(pollMs * 5, MAX_BACKOFF_MS), false);
      }
    }
  };

  const eventOf = (row: InboxRow): WebhookEvent => ({
    tenant: row.tenant,
    provider: row.provider,
    eventId: row.event_id,
    eventType: row.event_type,
    receivedAt: row.received_at.toISOString(),
    // Retention never empties a waiting row's body; an empty one still runs (and is recorded as such).
    payload: row.payload ?? {},
    inboxed: true,
  });

  /** Claims, starts and marks one batch; how many rows it claimed and whether any start failed. */
  const drainBatch = async (): Promise<{ claimed: number; failed: number }> => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const rows = await claimInboxRows(client, taskQueue, batchSize);
      const outcomes = await Promise.allSettled(rows.map((row) => startWebhook(workflows, config, eventOf(row))));
      const started: Array<{ id: string; runId: string }> = [];
      let failed = 0;
      outcomes.forEach((outcome, i) => {
        const row = rows[i]!;
        if (outcome.status === 'fulfilled') {
          const result: StartOutcome = outcome.value;
          started.push({ id: row.id, runId: result.runId });
          options.starts?.inc({ outcome: result.started ? 'started' : 'existing' });
        } else {
          failed += 1;
          options.starts?.inc({ outcome: 'failed' });
          if (failed === 1) logger.warn({ err: outcome.reason, workflowId: row.workflow_id }, 'inbox row not started; it stays in the inbox and is retried');
        }
      });
      await markInboxStarted(client, started);
      await client.query('COMMIT');
      return { claimed: rows.length, failed };
    } catch (err) {
      broken = err as Error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release(broken);
    }
  };

  const lane = async (index: number): Promise<void> => {
    let backoffMs = 0;
    while (!stopped) {
      try {
        const notifiedBefore = notified;
        const { claimed, failed } = await drainBatch();
        if (failed > 0) backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(250, backoffMs * 2));
        else backoffMs = 0;
        if (backoffMs > 0) await sleep(backoffMs, false);
        else if (claimed < batchSize && notified === notifiedBefore) await sleep(pollMs);
      } catch (err) {
        backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(250, backoffMs * 2));
        logger.warn({ err, lane: index, retryInMs: backoffMs }, 'inbox drain failed; retrying');
        await sleep(backoffMs, false);
      }
    }
  };

  void listen();
  const running = Array.from({ length: lanes }, (_, i) => lane(i));
  logger.info({ taskQueue, lanes, batchSize, pollMs }, 'inbox drainer started');
  return {
    async stop() {
      stopped = true;
      wakeAll('stop');
      await Promise.all(running);
      const client = listener;
      listener = undefined;
      if (client) {
        await client.query(`UNLISTEN ${INBOX_CHANNEL}`).catch(() => undefined);
        client.release();
      }
    },
  };
}

/**
 * The drainer a worker process (and the test harness) runs: its own client connection to the
 * server (lazy, so a Temporal outage at start only delays the starts) with the payload codec,
 * INBOX_DRAIN_CONCURRENCY starts in flight over up to four lanes, polling every INBOX_POLL_MS.
 */
export function drainInbox(deps: { config: Config; pool: Pool; logger: Logger; starts?: Counter<'outcome'> }): InboxDrainer {
  const { config } = deps;
  const connection = Connection.lazy({ address: config.TEMPORAL_ADDRESS });
  const workflows = new WorkflowStarter({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: payloadDataConverter(config.PAYLOAD_ENCRYPTION_KEYS) });
  const lanes = Math.min(4, config.INBOX_DRAIN_CONCURRENCY);
  const drainer = startInboxDrainer({
    ...deps,
    workflows,
    lanes,
    batchSize: Math.ceil(config.INBOX_DRAIN_CONCURRENCY / lanes),
    pollMs: config.INBOX_POLL_MS,
  });
  return {
    async stop() {
      await drainer.stop();
      await connection.close();
    },
  };
}
