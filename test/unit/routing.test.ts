/** The weighted failover's routing (activities/routing.ts): the monitor's 0.7 / 0.3 formula, the p95 mapping and the shares. */
import {
  responseTimeScore,
  routingHealthScore,
  routingOrder,
  routingScore,
  routingShares,
  type RoutingCandidate,
} from '../../activities/routing';

const thresholds = { responseTimeWarningMs: 2000, responseTimeCriticalMs: 5000 };

test('health is the share of probes and calls that succeeded, 1 without any', () => {
  expect(routingHealthScore({ attempts: 0, ok: 0, p95Ms: null })).toBe(1);
  expect(routingHealthScore({ attempts: 20, ok: 15, p95Ms: 100 })).toBe(0.75);
});

test('response time is 1 up to the warning level, 0 from the critical one, linear in between', () => {
  expect(responseTimeScore(null, thresholds)).toBe(1);
  expect(responseTimeScore(150, thresholds)).toBe(1);
  expect(responseTimeScore(2000, thresholds)).toBe(1);
  expect(responseTimeScore(3500, thresholds)).toBeCloseTo(0.5);
  expect(responseTimeScore(5000, thresholds)).toBe(0);
  expect(responseTimeScore(60_000, thresholds)).toBe(0);
});

test('the routing score is 0.7 × health + 0.3 × response time', () => {
  expect(routingScore(1, 1)).toBe(1);
  expect(routingScore(1, 0)).toBeCloseTo(0.7);
  expect(routingScore(0, 1)).toBeCloseTo(0.3);
  expect(routingScore(0.5, 0.5)).toBeCloseTo(0.5);
});

const candidate = (provider: string, score: number, declaredWeight = 1, circuitOpen = false): RoutingCandidate => ({ provider, score, declaredWeight, circuitOpen });

test('equally healthy candidates split by their declared weights', () => {
  const shares = routingShares([candidate('google', 1, 4), candidate('yandex', 1, 1)]);
  expect(shares.get('google')).toBeCloseTo(0.8);
  expect(shares.get('yandex')).toBeCloseTo(0.2);
});

test('a slow primary loses most of its share: 0.3 behind divides it by e³', () => {
  const slow = routingScore(1, responseTimeScore(6000, thresholds)); // 0.7
  const shares = routingShares([candidate('google', slow, 4), candidate('yandex', 1, 1)]);
  expect(shares.get('google')).toBeCloseTo((4 * Math.exp(-3)) / (4 * Math.exp(-3) + 1));
  expect(shares.get('yandex')).toBeGreaterThan(0.8);
});

test('an open circuit gets no share and goes last, unless every circuit is open', () => {
  const shares = routingShares([candidate('a', 1, 4, true), candidate('b', 0.2, 1)]);
  expect(shares.get('a')).toBe(0);
  expect(shares.get('b')).toBe(1);
  expect(routingOrder([candidate('a', 1, 4, true), candidate('b', 0.2, 1)], () => 0).map((c) => c.provider)).toEqual(['b', 'a']);
  const allOpen = routingShares([candidate('a', 1, 3, true), candidate('b', 1, 1, true)]);
  expect(allOpen.get('a')).toBeCloseTo(0.75);
});

test('the order draws the first candidate by its share', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  const healthy = [candidate('google', 1, 4), candidate('yandex', 1, 1)];
  const slowed = [candidate('google', 0.7, 4), candidate('yandex', 1, 1)];
  const firstGoogle = (candidates: RoutingCandidate[]) => {
    let n = 0;
    for (let i = 0; i < 2000; i++) if (routingOrder(candidates, random)[0]!.provider === 'google') n++;
    return n / 2000;
  };
  expect(firstGoogle(healthy)).toBeGreaterThan(0.75);
  expect(firstGoogle(healthy)).toBeLessThan(0.85);
  expect(firstGoogle(slowed)).toBeLessThan(0.25);
  // Far behind (share underflows to 0) it is still tried, last.
  expect(routingOrder([candidate('a', 0, 1), candidate('b', 100, 1)], () => 0.5).map((c) => c.provider)).toEqual(['b', 'a']);
});
