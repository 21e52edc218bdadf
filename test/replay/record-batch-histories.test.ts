/**
 * Records the batch workflow histories replayed by replay.test.ts, on the real stack (payloads
 * encrypted): a burst, then a trickle of lone items, then a quiet dedup window that ends the run.
 * Skipped unless RECORD_BATCH_HISTORIES names the file to write (test/replay/histories/<name>.json):
 *   export RECORD_BATCH_HISTORIES=batch-burst-trickle-encrypted TEST_DATABASE_URL=… && npx jest test/replay/record-batch-histories.test.ts --forceExit
 * Run it with the code whose histories must keep replaying: before a change to the workflow's
 * commands (the old path behind patched()) and after it (the new path).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporalCliPath } from '../../lib/temporal/dev-server';
import { eventually, startStack, type TestStack } from '../support/harness';

const name = process.env.RECORD_BATCH_HISTORIES;
const provider = `rec-${randomUUID().slice(0, 8)}`;

(name ? describe : describe.skip)('record batch histories', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({
      registry: (r) => {
        const sendgrid = r.sendgrid!;
        // Waits short enough to record quickly; a dedup window of 3 s ends the run after the trickle.
        // The cost threshold (0.003 USD: three $0.001 mails) is read only by code that knows it.
        const batch = { ...sendgrid.batch!, maxSize: 10, dedupWindowSeconds: 3, maxWaitMs: { high: 500, medium: 500, low: 500 }, costThresholdUsd: 0.003 };
        r[provider] = { ...structuredClone(sendgrid), name: provider, batch };
      },
    });
  });
  afterAll(() => stack?.close());

  test('a burst, a trickle, a quiet window', async () => {
    const { api } = stack;
    const post = async (n: number): Promise<{ itemId: string; batchId: string }> => {
      const res = await api.fetch(`/batches/${provider}/sendMail`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ params: { to: `r${n}@example.com`, subject: 'recorded', text: 'hello' }, priority: 'medium' }),
      });
      expect(res.status).toBe(202);
      return (await res.json()) as { itemId: string; batchId: string };
    };
    const sent = async (itemId: string): Promise<void> => {
      await eventually(async () => {
        const body = (await (await api.fetch(`/batches/items/${encodeURIComponent(itemId)}`)).json()) as { status: string };
        return body.status === 'sent' ? true : undefined;
      });
    };
    const burst = await Promise.all([1, 2, 3].map(post));
    for (const item of burst) await sent(item.itemId);
    for (const n of [4, 5]) {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await sent((await post(n)).itemId);
    }
    const workflowId = burst[0]!.batchId;
    await eventually(async () => ((await api.workflows.getHandle(workflowId).describe()).status.name === 'COMPLETED' ? true : undefined), 30_000);
    const json = execFileSync(temporalCliPath, ['workflow', 'show', '--workflow-id', workflowId, '--address', process.env.TEMPORAL_ADDRESS!, '--namespace', 'default', '--output', 'json'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    writeFileSync(path.join(__dirname, 'histories', `${name}.json`), `${JSON.stringify(JSON.parse(json), null, 2)}\n`);
  });
});
