/**
 * The pure parts of monitoring: the health score, probe answers, SLA threshold comparison, the
 * alert plan per severity, the monitoring configuration and the Schedules derived from the registry.
 */
import { planAlertFor } from '../../activities/alerts';
import { healthScore, judgeProbeAnswer } from '../../activities/probes';
import { slaViolations } from '../../activities/sla';
import { loadMonitoringConfig } from '../../lib/config/monitoring-config';
import { loadRegistry, parseRegistry } from '../../lib/config/registry';
import { desiredSchedules } from '../../workers/schedules';

test('the health score weighs availability, latency against the SLA p95 and the real-call error rate', () => {
  expect(healthScore({ availability: 1, p95LatencyMs: 100, callErrorRate: 0 }, 2000)).toBe(1);
  expect(healthScore({ availability: 0.5, p95LatencyMs: 100, callErrorRate: 0 }, 2000)).toBe(0.7);
  expect(healthScore({ availability: 1, p95LatencyMs: 4000, callErrorRate: 0 }, 2000)).toBe(0.9);
  expect(healthScore({ availability: 1, p95LatencyMs: null, callErrorRate: 0.5 }, 2000)).toBe(0.9);
  expect(healthScore({ availability: 0, p95LatencyMs: null, callErrorRate: 1 }, 2000)).toBe(0.2);
});

test('a probe is up when the provider answers below 500, except 429 and a refusal of its credentials (401, 403)', () => {
  expect([200, 204, 400, 404].map((status) => judgeProbeAnswer(status).ok)).toEqual([true, true, true, true]);
  expect([401, 403, 429, 500, 503, null].map(judgeProbeAnswer)).toEqual([
    { ok: false, error: 'credentials refused (HTTP 401)' },
    { ok: false, error: 'credentials refused (HTTP 403)' },
    { ok: false, error: 'rate limited (HTTP 429)' },
    { ok: false, error: 'HTTP 500' },
    { ok: false, error: 'HTTP 503' },
    { ok: false, error: 'no answer' },
  ]);
});

test('SLA violations name each broken threshold; missing data breaks none', () => {
  const target = { availability: 0.999, p95Ms: 2000, errorRate: 0.01 };
  expect(slaViolations({ availability: 0.9995, p95Ms: 1500, errorRate: 0.005 }, target)).toEqual([]);
  expect(slaViolations({ availability: 0.99, p95Ms: 2500, errorRate: 0.02 }, target)).toEqual([
    'availability 99% < 99.9%',
    'p95 2500 ms > 2000 ms',
    'error rate 2% > 1%',
  ]);
  expect(slaViolations({ availability: null, p95Ms: null, errorRate: null }, target)).toEqual([]);
});

test('alert plans follow the escalation table: critical everything at once; high SMS after its wait; medium raised to high, then SMS; low email only', () => {
  const config = loadMonitoringConfig({
    ALERT_WEBHOOK_URL: 'http://hooks.example/alerts',
    ALERT_SLACK_WEBHOOK_URL: 'http://hooks.example/slack',
    ALERT_SMTP_URL: 'smtp://mail.example:25',
    ALERT_EMAIL_TO: 'ops@example.test',
    ALERT_SMS_TO: '+15551230000',
  });
  expect(config.ALERT_ESCALATION_HIGH).toBe(600_000);
  expect(config.ALERT_ESCALATION_MEDIUM).toBe(1_800_000);
  const atOnce = ['webhook', 'slack', 'email'];
  expect(planAlertFor('critical', config)).toEqual({
    levels: [['webhook', 'slack', 'email', 'sms']],
    escalateAfterMs: null,
    waits: [null],
    severities: [null],
    sms: { provider: 'twilio', to: '+15551230000' },
  });
  expect(planAlertFor('high', config)).toMatchObject({ levels: [atOnce, ['sms']], waits: [null, 600_000], severities: [null, null], escalateAfterMs: 600_000 });
  expect(planAlertFor('medium', config)).toMatchObject({ levels: [atOnce, atOnce, ['sms']], waits: [null, 1_800_000, 600_000], severities: [null, 'high', null] });
  expect(planAlertFor('low', config)).toMatchObject({ levels: [['email']], waits: [null], escalateAfterMs: null });
  // Unconfigured channels are left out: with SMS alone, a high alert says nothing at once and texts after its wait.
  expect(planAlertFor('high', loadMonitoringConfig({ ALERT_SMS_TO: '+15551230000', ALERT_ESCALATION_HIGH: '2s' }))).toMatchObject({
    levels: [[], ['sms']],
    waits: [null, 2000],
  });
  expect(planAlertFor('low', loadMonitoringConfig({ ALERT_SLACK_WEBHOOK_URL: 'http://hooks.example/slack' })).levels).toEqual([]);
  expect(() => loadMonitoringConfig({ ALERT_ESCALATION_HIGH: 'soon' })).toThrow(/ALERT_ESCALATION_HIGH/);
});

test('ALERT_POLICY replaces rows of the table; a raise that loops, an unknown channel or bad JSON is refused by name', () => {
  const config = loadMonitoringConfig({
    ALERT_SLACK_WEBHOOK_URL: 'http://hooks.example/slack',
    ALERT_SMTP_URL: 'smtp://mail.example:25',
    ALERT_EMAIL_TO: 'ops@example.test',
    ALERT_ESCALATION_LOW: '5s',
    ALERT_POLICY: JSON.stringify({ low: { atOnce: ['slack'], then: { channels: ['email'] } } }),
  });
  expect(planAlertFor('low', config)).toMatchObject({ levels: [['slack'], ['email']], waits: [null, 5000] });
  // The other rows keep the default.
  expect(planAlertFor('high', config).levels).toEqual([['slack', 'email']]);
  const loop = JSON.stringify({ high: { atOnce: ['email'], then: { severity: 'medium' } } });
  expect(() => loadMonitoringConfig({ ALERT_POLICY: loop })).toThrow(/ALERT_POLICY: a severity raise must not come back/);
  expect(() => loadMonitoringConfig({ ALERT_POLICY: JSON.stringify({ low: { atOnce: ['pager'], then: null } }) })).toThrow(/ALERT_POLICY\.low\.atOnce/);
  expect(() => loadMonitoringConfig({ ALERT_POLICY: JSON.stringify({ urgent: { atOnce: [], then: null } }) })).toThrow(/ALERT_POLICY/);
  expect(() => loadMonitoringConfig({ ALERT_POLICY: '{"low":' })).toThrow(/ALERT_POLICY: must be a JSON object/);
  for (const key of ['__proto__', 'constructor']) expect(() => loadMonitoringConfig({ ALERT_POLICY: `{"${key}": {"atOnce": [], "then": null}}` })).toThrow(/ALERT_POLICY/);
});

test('the registry gives every provider a probe and SLA thresholds, with defaults', () => {
  const registry = loadRegistry({});
  expect(registry.stripe!.sla).toEqual({ availability: 0.999, p95Ms: 2000, errorRate: 0.01 });
  expect(registry.stripe!.probe).toMatchObject({ method: 'GET', path: '/v1/balance', intervalSeconds: 30 });
  const minimal = parseRegistry({ providers: { x: { kind: 'http', baseUrl: 'https://x.example', operations: {} } } });
  expect(minimal.x!.probe).toEqual({ method: 'GET', path: '/', auth: { kind: 'none' }, intervalSeconds: 30, timeoutMs: 5000 });
  expect(registry.stripe!.probe.auth).toEqual({ kind: 'bearer', token: 'apiKey' });
  expect(minimal.x!.sla).toEqual({ availability: 0.999, p95Ms: 2000, errorRate: 0.01 });
  expect(() => parseRegistry({ providers: { x: { kind: 'http', baseUrl: 'https://x.example', operations: {}, probe: { path: 'no-slash' } } } })).toThrow(
    /providers\.x\.probe\.path/,
  );
});

test('one probe Schedule per provider at its interval, plus hourly and daily SLA reports', () => {
  const registry = loadRegistry({});
  const schedules = desiredSchedules(registry, 'switchyard');
  expect(schedules.map((s) => s.scheduleId).sort()).toEqual(
    [...Object.keys(registry).map((p) => `health-probe:${p}`), 'sla-report:daily', 'sla-report:hourly', 'retention:daily', 'cost-anomaly:check'].sort(),
  );
  const stripe = schedules.find((s) => s.scheduleId === 'health-probe:stripe')!;
  expect(stripe.spec).toEqual({ intervals: [{ every: '30 seconds' }] });
  expect(stripe.action).toMatchObject({ workflowType: 'healthProbe', taskQueue: 'switchyard', args: [{ provider: 'stripe' }] });
});
