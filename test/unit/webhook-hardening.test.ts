/**
 * The pure parts of webhook hardening: allowlist parsing and matching, the source settings'
 * validation (hostile names, typos that would silently allow everything), the failover reading of
 * a reservation, the status class label and the throttle notices' de-duplication.
 */
import { cidrProblem, ipAllowlist } from '../../lib/security/ip-allowlist';
import { parseWebhookSources } from '../../api/webhook-sources';
import { reservationCandidate } from '../../activities/call-provider';
import { statusClass } from '../../api/metrics';
import { throttleNotices } from '../../api/throttle-notices';
import { STREAM_CHANNEL } from '../../lib/data/event-stream';

describe('IP allowlists', () => {
  test('CIDRs and addresses, IPv4 and IPv6, are valid; anything else names the problem', () => {
    for (const ok of ['203.0.113.0/24', '3.18.12.63', '2001:db8::/32', '::1', '0.0.0.0/0']) expect(cidrProblem(ok)).toBeNull();
    expect(cidrProblem('203.0.113.0/33')).toMatch(/prefix length must be 0 to 32/);
    expect(cidrProblem('2001:db8::/129')).toMatch(/0 to 128/);
    for (const bad of ['stripe.com', '203.0.113.0/24/1', '', '1.2.3', '10.0.0.0/-1', '__proto__']) expect(cidrProblem(bad)).toMatch(/not an IPv4 or IPv6|prefix length/);
  });

  test('matches IPv4, IPv6 and IPv4-mapped IPv6 addresses; refuses others and non-addresses', () => {
    const list = ipAllowlist(['203.0.113.0/24', '2001:db8::/32', '198.51.100.7']);
    expect(list.allows('203.0.113.200')).toBe(true);
    expect(list.allows('::ffff:203.0.113.5')).toBe(true);
    expect(list.allows('2001:db8:1::9')).toBe(true);
    expect(list.allows('198.51.100.7')).toBe(true);
    expect(list.allows('198.51.100.8')).toBe(false);
    expect(list.allows('203.0.114.1')).toBe(false);
    expect(list.allows('2001:db9::1')).toBe(false);
    expect(list.allows(undefined)).toBe(false);
    expect(list.allows('203.0.113.5, 10.0.0.1')).toBe(false);
  });
});

describe('webhook source settings', () => {
  test('allowIps and rateLimitPerMinute are read per source', () => {
    const sources = parseWebhookSources({ sources: { stripe: { scheme: 'stripe', allowIps: ['3.18.12.63', '2001:db8::/32'], rateLimitPerMinute: 50 } } });
    const stripe = sources.get('stripe')!;
    expect(stripe.rateLimitPerMinute).toBe(50);
    expect(stripe.allowIps!.allows('3.18.12.63')).toBe(true);
    expect(stripe.allowIps!.allows('3.18.12.64')).toBe(false);
    expect(parseWebhookSources({ sources: { stripe: { scheme: 'stripe' } } }).get('stripe')!.allowIps).toBeUndefined();
  });

  test('bad values are refused at start, naming the field', () => {
    expect(() => parseWebhookSources({ sources: { stripe: { scheme: 'stripe', allowIps: ['10.0.0.0/8', 'stripe.com'] } } })).toThrow(
      /sources\.stripe\.allowIps\.1.*"stripe\.com" is not an IPv4 or IPv6/,
    );
    expect(() => parseWebhookSources({ sources: { stripe: { scheme: 'stripe', allowIps: [] } } })).toThrow(/allowIps.*at least one range/);
    expect(() => parseWebhookSources({ sources: { stripe: { scheme: 'stripe', rateLimitPerMinute: -1 } } })).toThrow(/rateLimitPerMinute/);
    // A misspelt allowlist must not silently receive from everywhere.
    expect(() => parseWebhookSources({ sources: { stripe: { scheme: 'stripe', allowIP: ['10.0.0.0/8'] } } })).toThrow(/allowIP/);
  });

  test('hostile source names are refused, and never become prototype members', () => {
    for (const name of ['__proto__', 'constructor', 'Stripe', 'generic:__proto__']) {
      const document = JSON.parse(`{"sources": {"${name}": {"scheme": "stripe"}}}`) as unknown;
      if (name === 'constructor') {
        // A valid lowercase name: a source like any other, looked up in a Map.
        expect(parseWebhookSources(document).get('constructor')?.provider).toBe('constructor');
      } else {
        expect(() => parseWebhookSources(document)).toThrow(/invalid/);
      }
    }
    expect(parseWebhookSources({ sources: {} }).get('__proto__')).toBeUndefined();
  });
});

test('a failover is a call reservation of a candidate after the first', () => {
  const base = { tenant: 't', provider: 'backup-sms', operation: 'sendSms', workflowId: 'call:t:twilio:k1', amountUsd: 0.01, critical: false };
  expect(reservationCandidate({ ...base, reservation: 'call:t:twilio:k1:2:backup-sms:sendSms' })).toBe(2);
  expect(reservationCandidate({ ...base, provider: 'twilio', reservation: 'call:t:twilio:k1:1:twilio:sendSms' })).toBe(1);
  // A batch flush's reservation is no call candidate.
  expect(reservationCandidate({ ...base, reservation: 'batch:t:backup-sms:sendSms:low:run-1:flush:3' })).toBeUndefined();
});

test('status classes', () => {
  expect([200, 202, 301, 404, 429, 503].map(statusClass)).toEqual(['2xx', '2xx', '3xx', '4xx', '4xx', '5xx']);
  expect(statusClass(999)).toBe('other');
});

test('throttle notices: one a minute per limit and key, counting the refusals between', async () => {
  const sent: string[] = [];
  let clock = 1_000_000;
  const notices = throttleNotices({
    pool: {
      query: ((_text: string, values: unknown[]) => {
        sent.push(String(values[1]));
        return Promise.resolve();
      }) as never,
    },
    logger: { warn: () => undefined },
    now: () => clock,
  });
  const notice = { kind: 'webhook_source' as const, tenant: 'acme', subject: 'stripe', limitPerMinute: 3, reason: 'over' };
  notices.throttled(notice);
  notices.throttled(notice);
  notices.throttled(notice);
  notices.throttled({ ...notice, tenant: 'other' });
  clock += 61_000;
  notices.throttled(notice);
  await new Promise((resolve) => setImmediate(resolve));
  const events = sent.map((payload) => JSON.parse(payload) as { topic: string; tenant: string; data: { refusedSinceLastNotice: number } });
  expect(events.map((e) => [e.topic, e.tenant, e.data.refusedSinceLastNotice])).toEqual([
    ['rate_limit', 'acme', 0],
    ['rate_limit', 'other', 0],
    ['rate_limit', 'acme', 2],
  ]);
  expect(STREAM_CHANNEL).toBe('switchyard_events');
});
