/** When a batch flushes (workflows/batch-flush.ts): the observed rate, the size it fills, the cost threshold, the reason; and their registry fields. */
import { loadRegistry, parseRegistry } from '../../lib/config/registry';
import { adaptiveBatchSize, costThresholdReached, flushReasonNow, observedArrivalRate, recentArrivals, type FlushLimits } from '../../workflows/batch-flush';

const limits: FlushLimits = { maxSize: 100, maxWaitMs: 2000, costThresholdUsd: null, costUsdPerItem: 0.001 };

test('the observed rate counts the arrivals of the last window, over the time watched when that is shorter', () => {
  const now = 10_000;
  // 4 arrivals in the last 2 s (the one at 7 000 is older): 2 items/s.
  expect(observedArrivalRate([7000, 8500, 9000, 9500, 10_000], now, 2000, 0)).toBe(2);
  // Watching for 500 ms only: 2 arrivals in 0.5 s are 4 items/s, not 1.
  expect(observedArrivalRate([9600, 10_000], now, 2000, 9500)).toBe(4);
  // No time watched yet (the first item): no evidence.
  expect(observedArrivalRate([10_000], now, 2000, 10_000)).toBeNull();
  expect(observedArrivalRate([], now, 2000, 0)).toBe(0);
});

test('the size is what the rate fills within the wait: a trickle is 1, a burst grows up to maxSize, no evidence keeps maxSize', () => {
  expect(adaptiveBatchSize(0.2, limits)).toBe(1); // one item per 5 s, 2 s wait: flush at once
  expect(adaptiveBatchSize(0, limits)).toBe(1);
  expect(adaptiveBatchSize(2, limits)).toBe(4); // 2/s over 2 s
  expect(adaptiveBatchSize(2.2, limits)).toBe(5); // rounded up
  expect(adaptiveBatchSize(500, limits)).toBe(100); // capped at maxSize
  expect(adaptiveBatchSize(null, limits)).toBe(100);
  // Monotonic in the rate.
  const sizes = [0.1, 0.5, 1, 5, 10, 49, 50, 51, 1000].map((rate) => adaptiveBatchSize(rate, limits));
  expect([...sizes].sort((a, b) => a - b)).toEqual(sizes);
});

test('the cost threshold is reached by the queued items’ cost, with float tolerance; no threshold or free items never reach it', () => {
  const threshold = { costThresholdUsd: 0.1, costUsdPerItem: 0.001 };
  expect(costThresholdReached(99, threshold)).toBe(false);
  expect(costThresholdReached(100, threshold)).toBe(true);
  expect(costThresholdReached(3, { costThresholdUsd: 2, costUsdPerItem: 0.0079 })).toBe(false);
  expect(costThresholdReached(254, { costThresholdUsd: 2, costUsdPerItem: 0.0079 })).toBe(true);
  expect(costThresholdReached(1, { costThresholdUsd: 0.05, costUsdPerItem: 0.05 })).toBe(true); // Stripe's figure: every charge alone
  expect(costThresholdReached(10_000, { costThresholdUsd: null, costUsdPerItem: 1 })).toBe(false);
  expect(costThresholdReached(10_000, { costThresholdUsd: 0.1, costUsdPerItem: 0 })).toBe(false);
});

test('the flush reason: size, then cost, then wait, then the rate size; null keeps waiting', () => {
  const costly = { ...limits, costThresholdUsd: 0.005 };
  expect(flushReasonNow(0, 5000, 1, costly)).toBeNull();
  expect(flushReasonNow(100, 0, 100, costly)).toBe('size');
  expect(flushReasonNow(5, 0, 100, costly)).toBe('cost');
  expect(flushReasonNow(4, 2000, 100, costly)).toBe('wait');
  expect(flushReasonNow(4, 2000, 2, costly)).toBe('wait'); // the wait ran out: that is why it went
  expect(flushReasonNow(2, 100, 2, costly)).toBe('rate');
  expect(flushReasonNow(1, 100, 2, costly)).toBeNull();
  expect(flushReasonNow(4, 1999, 100, limits)).toBeNull();
});

test('arrivals kept: those inside the window, at most the last `keep`', () => {
  expect(recentArrivals([1000, 5000, 9000, 9500, 10_000], 10_000, 2000, 100)).toEqual([9000, 9500, 10_000]);
  expect(recentArrivals([9000, 9500, 10_000], 10_000, 2000, 2)).toEqual([9500, 10_000]);
});

test('registry: adaptive sizing is on by default, the cost threshold is optional and positive; the shipped ones are the source’s figures', () => {
  const provider = (batch: Record<string, unknown>) => ({ providers: { p: { kind: 'http', baseUrl: 'https://p.example', operations: {}, batch: { maxSize: 10, maxWaitMs: {}, mode: 'fan-out', ...batch } } } });
  expect(parseRegistry(provider({})).p!.batch).toMatchObject({ adaptiveSize: true });
  expect(parseRegistry(provider({})).p!.batch!.costThresholdUsd).toBeUndefined();
  expect(parseRegistry(provider({ adaptiveSize: false, costThresholdUsd: 0.5 })).p!.batch).toMatchObject({ adaptiveSize: false, costThresholdUsd: 0.5 });
  expect(() => parseRegistry(provider({ costThresholdUsd: 0 }))).toThrow(/costThresholdUsd/);
  const registry = loadRegistry({});
  expect(registry.sendgrid!.batch!.costThresholdUsd).toBe(0.1);
  expect(registry.twilio!.batch!.costThresholdUsd).toBe(2);
  expect(registry['google-maps']!.batch!.costThresholdUsd).toBe(0.5);
  expect(registry.stripe!.batch).toBeUndefined(); // no Stripe batch endpoint
});
