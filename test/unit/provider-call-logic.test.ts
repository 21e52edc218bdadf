/** Pure parts of the provider-call activity: idempotency keys, jittered backoff, weighted failover order, cache keys. */
import { cacheKey } from '../../lib/data/provider-cache';
import { idempotencyKeyFor, jitteredBackoffMs, weightedOrder } from '../../activities/call-provider';

test('the idempotency key is stable for one activity and differs between activities and runs', () => {
  const key = idempotencyKeyFor('call:acme:stripe:k1', 'run-1', '1');
  expect(idempotencyKeyFor('call:acme:stripe:k1', 'run-1', '1')).toBe(key);
  expect(idempotencyKeyFor('call:acme:stripe:k1', 'run-1', '2')).not.toBe(key);
  expect(idempotencyKeyFor('call:acme:stripe:k1', 'run-2', '1')).not.toBe(key); // after continue-as-new
  expect(key).toMatch(/^[0-9a-f]{64}$/); // valid Stripe key and Google event id
});

test('backoff doubles per attempt from the policy, capped, with jitter between half and the full delay', () => {
  // callProvider policy: 500 ms initial, ×2, at most 30 s
  expect(jitteredBackoffMs(1, () => 0)).toBe(250);
  expect(jitteredBackoffMs(1, () => 1)).toBe(500);
  expect(jitteredBackoffMs(3, () => 1)).toBe(2000);
  expect(jitteredBackoffMs(20, () => 1)).toBe(30_000);
  expect(jitteredBackoffMs(20, () => 0)).toBe(15_000);
});

test('weighted order puts healthier providers first in proportion to their score', () => {
  const providers = ['a', 'b'];
  const weight = (p: string) => (p === 'a' ? 0.9 : 0.1);
  expect(weightedOrder(providers, weight, () => 0.5)).toEqual(['a', 'b']);
  expect(weightedOrder(providers, weight, () => 0.95)).toEqual(['b', 'a']);
  let firstA = 0;
  let seed = 1;
  const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  for (let i = 0; i < 1000; i++) if (weightedOrder(providers, weight, random)[0] === 'a') firstA++;
  expect(firstA).toBeGreaterThan(850);
  expect(firstA).toBeLessThan(950);
});

test('cache keys are readable, tenant-scoped and independent of param order', () => {
  expect(cacheKey('acme', 'google-calendar', 'getEvent', { eventId: 'e1', calendarId: 'primary' })).toBe(
    'acme:google-calendar:getEvent:calendarId=primary&eventId=e1',
  );
  expect(cacheKey('acme', 'p', 'op', { b: 1, a: { y: 2, x: 1 } })).toBe(cacheKey('acme', 'p', 'op', { a: { x: 1, y: 2 }, b: 1 }));
  expect(cacheKey('other', 'p', 'op', {})).not.toBe(cacheKey('acme', 'p', 'op', {}));
  // Separators inside values or nested objects cannot make two different reads share a key.
  expect(cacheKey('acme', 'p', 'op', { a: '1&b=2' })).not.toBe(cacheKey('acme', 'p', 'op', { a: '1', b: '2' }));
  expect(cacheKey('acme', 'p', 'op', { a: { x: 1, y: 2 } })).not.toBe(cacheKey('acme', 'p', 'op', { a: { x: 1 }, y: 2 }));
});
