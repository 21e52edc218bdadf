/**
 * The inbox backlog gauges (api/metrics.ts exportInboxBacklog): read at scrape time, one read per
 * scrape for both gauges, and a read that fails never fails /metrics: the gauges keep their last
 * values and the error goes to the callback (logged at debug by the app).
 */
import { createApiMetrics, exportInboxBacklog } from '../../api/metrics';
import type { InboxBacklog } from '../../lib/data/webhook-inbox';

function value(text: string, name: string): number | undefined {
  const line = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return line ? Number(line[1]) : undefined;
}

test('both gauges from one read per scrape; a failed read keeps the last values and is reported', async () => {
  const metrics = createApiMetrics();
  const answers: Array<InboxBacklog | Error> = [
    { unstarted: 0, oldestAgeSeconds: 0 },
    { unstarted: 7, oldestAgeSeconds: 93.5 },
    new Error('connection terminated'),
    { unstarted: 1, oldestAgeSeconds: 2 },
  ];
  let reads = 0;
  const errors: unknown[] = [];
  exportInboxBacklog(
    metrics,
    () => {
      const answer = answers[reads++]!;
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
    (err) => errors.push(err),
  );

  const scrape = async () => {
    const text = await metrics.registry.metrics();
    return { unstarted: value(text, 'webhook_inbox_unstarted'), oldest: value(text, 'webhook_inbox_oldest_age_seconds') };
  };
  expect(await scrape()).toEqual({ unstarted: 0, oldest: 0 });
  expect(await scrape()).toEqual({ unstarted: 7, oldest: 93.5 });
  expect(reads).toBe(2);
  // PostgreSQL did not answer: /metrics still does, with the last values.
  expect(await scrape()).toEqual({ unstarted: 7, oldest: 93.5 });
  expect(errors).toEqual([new Error('connection terminated')]);
  expect(await scrape()).toEqual({ unstarted: 1, oldest: 2 });
  expect(reads).toBe(4);
});

test('no labels: one series each, whatever waits (no tenant, event or queue in the metrics)', async () => {
  const metrics = createApiMetrics();
  exportInboxBacklog(metrics, () => Promise.resolve({ unstarted: 3, oldestAgeSeconds: 12 }));
  const text = await metrics.registry.metrics();
  expect(text.split('\n').filter((line) => line.startsWith('webhook_inbox_'))).toEqual(['webhook_inbox_unstarted 3', 'webhook_inbox_oldest_age_seconds 12']);
});
