/**
 * The shipped registry (providers/<name>/index.ts) holds the source systems' numbers
 * (shared/seeds: 000 the booking platform's optimisation guide, 002 the integration health
 * monitor, 003 the coordination layer). Each expectation names the source line it comes from; a
 * number a source gives that cannot hold under Temporal is explained in the provider's index.ts.
 */
import { loadRegistry, type ProviderConfig } from '../../lib/config/registry';
import { HEALTH_WEIGHT, RESPONSE_TIME_WEIGHT } from '../../activities/routing';

const registry = loadRegistry({});
const entry = (name: string): ProviderConfig => registry[name]!;

// 000 "Rate Limiting Configuration": rate_limits = {"stripe": {"requests": 100, "window": 60}, …}
const rateLimits: Array<[string, number, number]> = [
  ['stripe', 100, 60],
  ['google-calendar', 250, 100],
  ['sendgrid', 600, 60],
  ['twilio', 1000, 60],
];

test.each(rateLimits)('%s: rate limit %i per %i s (000), run as its average rate', (name, requests, windowSeconds) => {
  expect(entry(name).rateLimit).toEqual({ requests, windowSeconds });
  expect(entry(name).rateLimitPerSecond).toBeCloseTo(requests / windowSeconds);
});

// 000 circuit_breaker_config and 002 CIRCUIT_BREAKER_*: 5 failures, 60 s, 3 successes.
test.each(Object.keys(registry))('%s: circuit breaker 5 failures, 60 s, 3 successes (000, 002)', (name) => {
  expect(entry(name).circuit).toMatchObject({ failureThreshold: 5, coolDownSeconds: 60, successThreshold: 3 });
});

// 000 "SLA Thresholds": stripe 99.9 / 2000 ms / 0.01, google_calendar 99.5 / 3000 ms / 0.05.
const slas: Array<[string, number, number, number]> = [
  ['stripe', 0.999, 2000, 0.01],
  ['google-calendar', 0.995, 3000, 0.05],
];

test.each(slas)('%s: SLA availability %d, p95 %i ms, error rate %d (000)', (name, availability, p95Ms, errorRate) => {
  expect(entry(name).sla).toEqual({ availability, p95Ms, errorRate });
});

// 003 "Budget Configurations": Stripe $50/month $2/day, Twilio $200/$8, SendGrid $50/$2, Maps $150/$6.
const budgets: Array<[string, number, number]> = [
  ['stripe', 2, 50],
  ['twilio', 8, 200],
  ['sendgrid', 2, 50],
  ['google-maps', 6, 150],
  ['yandex-maps', 6, 150],
];

test.each(budgets)('%s: budget $%d a day, $%d a month (003)', (name, dailyUsd, monthlyUsd) => {
  expect(entry(name).budget).toEqual({ dailyUsd, monthlyUsd });
});

// 003 "Service Configurations": Twilio max 50 / 1 s, SendGrid 1000 / 5 s, Maps 25 / 1.5 s. The one
// wait is the longest any item waits (medium and low); high items wait no longer than it.
const batches: Array<[string, number, number]> = [
  ['twilio', 50, 1000],
  ['sendgrid', 1000, 5000],
  ['google-maps', 25, 1500],
  ['yandex-maps', 25, 1500],
];

test.each(batches)('%s: batches of at most %i items, waiting at most %i ms (003)', (name, maxSize, waitMs) => {
  const batch = entry(name).batch!;
  expect(batch.maxSize).toBe(maxSize);
  expect(batch.maxWaitMs.medium).toBe(waitMs);
  expect(batch.maxWaitMs.low).toBe(waitMs);
  expect(batch.maxWaitMs.high).toBeLessThanOrEqual(waitMs);
  expect(batch.dedupWindowSeconds).toBe(60); // 003: "Request caching with 1-minute TTL"
});

// 000 alert_thresholds for the booking platform's providers: response time 5 s / 10 s, error rate
// 5% / 10%, availability 98% / 95%.
test.each(['stripe', 'google-calendar', 'sendgrid', 'twilio'])('%s: warning / critical levels of the booking platform (000)', (name) => {
  expect(entry(name).thresholds).toEqual({
    responseTimeWarningMs: 5000,
    responseTimeCriticalMs: 10000,
    errorRateWarning: 0.05,
    errorRateCritical: 0.1,
    availabilityWarning: 0.98,
    availabilityCritical: 0.95,
  });
});

// 002 RESPONSE_TIME_WARNING=2.0, RESPONSE_TIME_CRITICAL=5.0, ERROR_RATE_WARNING=0.02,
// ERROR_RATE_CRITICAL=0.05 for every other provider the monitor watches.
test.each(['paypal', 'backup-sms', 'google-maps', 'yandex-maps', 'google-sheets', 'httpbin', 'openai'])('%s: warning / critical levels of the monitor (002)', (name) => {
  expect(entry(name).thresholds).toMatchObject({ responseTimeWarningMs: 2000, responseTimeCriticalMs: 5000, errorRateWarning: 0.02, errorRateCritical: 0.05 });
});

test('routing weighs health 0.7 and response time 0.3 (002 HEALTH_SCORE_WEIGHT, RESPONSE_TIME_WEIGHT)', () => {
  expect([HEALTH_WEIGHT, RESPONSE_TIME_WEIGHT]).toEqual([0.7, 0.3]);
  expect(Object.values(registry).filter((p) => p.failover?.strategy === 'weighted').map((p) => p.name)).toEqual(['google-maps']);
});

// 002 MONITOR_INTERVAL=30: probes every 30 s unless a provider's own interval is longer.
test.each(['stripe', 'paypal', 'twilio', 'backup-sms', 'sendgrid', 'google-calendar'])('%s: probed every 30 s (002)', (name) => {
  expect(entry(name).probe.intervalSeconds).toBe(30);
});
