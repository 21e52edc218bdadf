/**
 * The Discord alert channel without I/O: which URLs are Discord webhooks, the route an alert takes
 * (rule, then severity, then the default), the wait a 429 asks for (fractional `retry_after`,
 * `Retry-After`), the configuration's validation (never echoing a URL: it carries the token), the
 * plan's channel levels and the message body.
 */
import { discordMessage, planAlertFor } from '../../activities/alerts';
import { discordRetryAfterMs, discordRouteFor, isDiscordWebhookUrl, redactWebhookUrl, retryAfterHeaderMs } from '../../activities/discord';
import { loadMonitoringConfig } from '../../lib/config/monitoring-config';
import type { AlertView } from '../../contracts/monitoring';

const token = 'tok_SECRET-abc_123';
const hook = (id: string) => `https://discord.com/api/webhooks/${id}/${token}`;

test('Discord webhook URLs: /api[/vN]/webhooks/{id}/{token}, no credentials', () => {
  expect(isDiscordWebhookUrl(hook('123'))).toBe(true);
  expect(isDiscordWebhookUrl('https://discord.com/api/v10/webhooks/123/abc?thread_id=9')).toBe(true);
  expect(isDiscordWebhookUrl('http://127.0.0.1:4000/api/webhooks/1/x')).toBe(true);
  expect(isDiscordWebhookUrl('https://hooks.slack.com/services/T/B/x')).toBe(false);
  expect(isDiscordWebhookUrl('https://discord.com/api/webhooks/abc/x')).toBe(false);
  expect(isDiscordWebhookUrl('https://u:p@discord.com/api/webhooks/1/x')).toBe(false);
  expect(isDiscordWebhookUrl('ftp://discord.com/api/webhooks/1/x')).toBe(false);
  expect(isDiscordWebhookUrl('not a url')).toBe(false);
});

test('an alert goes to its rule’s webhook, else its severity’s, else the default one', () => {
  const routes = { rule: { 'cost-anomaly': hook('1') }, severity: { critical: hook('2') } };
  expect(discordRouteFor({ defaultUrl: hook('3'), routes }, { rule: 'cost-anomaly', severity: 'critical' })).toEqual({ name: 'rule:cost-anomaly', url: hook('1') });
  expect(discordRouteFor({ defaultUrl: hook('3'), routes }, { rule: 'provider-down', severity: 'critical' })).toEqual({ name: 'severity:critical', url: hook('2') });
  expect(discordRouteFor({ defaultUrl: hook('3'), routes }, { rule: 'provider-down', severity: 'high' })).toEqual({ name: 'default', url: hook('3') });
  expect(discordRouteFor({ defaultUrl: undefined, routes }, { rule: 'provider-down', severity: 'high' })).toBeNull();
  // Inherited object keys are not routes.
  expect(discordRouteFor({ defaultUrl: undefined, routes }, { rule: 'toString', severity: 'constructor' })).toBeNull();
});

test('a 429 waits for the body’s fractional retry_after and/or Retry-After, the longer of the two', () => {
  expect(discordRetryAfterMs({ message: 'You are being rate limited.', retry_after: 1.5, global: false }, undefined)).toBe(1500);
  expect(discordRetryAfterMs({ retry_after: 0.0011 }, null)).toBe(2);
  expect(discordRetryAfterMs(null, '2')).toBe(2000);
  expect(discordRetryAfterMs({ retry_after: 1.5 }, '2')).toBe(2000);
  expect(discordRetryAfterMs({ retry_after: 3.25 }, '2')).toBe(3250);
  expect(discordRetryAfterMs({ retry_after: 'soon' }, '0.75')).toBe(750);
  expect(discordRetryAfterMs({}, undefined)).toBeNull();
  expect(discordRetryAfterMs({ retry_after: -1 }, 'garbage')).toBeNull();
  const now = Date.parse('2026-01-01T00:00:00Z');
  expect(retryAfterHeaderMs('Thu, 01 Jan 2026 00:00:03 GMT', now)).toBe(3000);
  expect(retryAfterHeaderMs('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBeNull();
});

test('redaction removes the URL and its token from a text', () => {
  expect(redactWebhookUrl(`POST ${hook('7')} failed; token ${token}`, hook('7'))).toBe('POST [webhook URL] failed; token [token]');
});

test('ALERT_DISCORD_* are validated at load, with the variable named and no URL echoed', () => {
  const config = loadMonitoringConfig({
    ALERT_DISCORD_WEBHOOK_URL: hook('1'),
    ALERT_DISCORD_ROUTES: JSON.stringify({ rule: { 'cost-anomaly': hook('2') }, severity: { critical: hook('3') } }),
  });
  expect(config.ALERT_DISCORD_ROUTES).toEqual({ rule: { 'cost-anomaly': hook('2') }, severity: { critical: hook('3') } });
  expect(loadMonitoringConfig({}).ALERT_DISCORD_ROUTES).toEqual({ rule: {}, severity: {} });
  expect(loadMonitoringConfig({ ALERT_DISCORD_ROUTES: '{"severity":{"low":"' + hook('4') + '"}}' }).ALERT_DISCORD_ROUTES.rule).toEqual({});

  const problems = (env: NodeJS.ProcessEnv): string => {
    try {
      loadMonitoringConfig(env);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expected a configuration error');
  };
  const notJson = problems({ ALERT_DISCORD_ROUTES: `{"rule": {"x": "${hook('1')}"` });
  expect(notJson).toMatch(/ALERT_DISCORD_ROUTES: must be a JSON object/);
  expect(notJson).not.toContain(token);
  const slack = problems({ ALERT_DISCORD_WEBHOOK_URL: `https://hooks.slack.com/services/T/B/${token}` });
  expect(slack).toMatch(/ALERT_DISCORD_WEBHOOK_URL: a Discord webhook URL/);
  expect(slack).not.toContain(token);
  expect(problems({ ALERT_DISCORD_ROUTES: JSON.stringify({ severity: { urgent: hook('1') } }) })).toMatch(/ALERT_DISCORD_ROUTES\.severity/);
  expect(problems({ ALERT_DISCORD_ROUTES: JSON.stringify({ rules: {} }) })).toMatch(/ALERT_DISCORD_ROUTES/);
  const badRoute = problems({ ALERT_DISCORD_ROUTES: JSON.stringify({ rule: { 'cost-anomaly': `https://example.com/${token}` } }) });
  expect(badRoute).toMatch(/ALERT_DISCORD_ROUTES\.rule\.cost-anomaly: a Discord webhook URL/);
  expect(badRoute).not.toContain(token);
});

test('Discord joins the chat level beside the webhooks; a rule-only route adds it only for that rule', () => {
  const everywhere = loadMonitoringConfig({ ALERT_SLACK_WEBHOOK_URL: 'https://hooks.slack.test/x', ALERT_DISCORD_WEBHOOK_URL: hook('1'), ALERT_SMTP_URL: 'smtp://127.0.0.1:25', ALERT_EMAIL_TO: 'ops@example.test' });
  expect(planAlertFor('high', everywhere).levels).toEqual([['slack', 'discord', 'email']]);
  expect(planAlertFor('critical', everywhere).levels).toEqual([['slack', 'discord', 'email']]);
  const ruleOnly = loadMonitoringConfig({ ALERT_DISCORD_ROUTES: JSON.stringify({ rule: { 'cost-anomaly': hook('2') } }), ALERT_SMTP_URL: 'smtp://127.0.0.1:25', ALERT_EMAIL_TO: 'ops@example.test' });
  expect(planAlertFor('high', ruleOnly, 'cost-anomaly').levels).toEqual([['discord', 'email']]);
  expect(planAlertFor('high', ruleOnly, 'provider-down').levels).toEqual([['email']]);
  const severityOnly = loadMonitoringConfig({ ALERT_DISCORD_ROUTES: JSON.stringify({ severity: { critical: hook('3') } }) });
  expect(planAlertFor('critical', severityOnly, 'x').levels).toEqual([['discord']]);
  expect(planAlertFor('low', severityOnly, 'x').levels).toEqual([]);
});

test('the Discord message: the alert line as content, one embed, no mentions, Discord’s limits kept', () => {
  const alert: AlertView = {
    rule: 'provider-down', fingerprint: 'stripe', severity: 'high', summary: `@everyone ${'x'.repeat(5000)}`, provider: 'stripe',
    id: 'alert:provider-down:stripe', runId: 'r1', state: 'firing', escalationLevel: 1, acknowledgedAtLevel: null, acknowledgedBy: null,
    startedAt: '2026-01-01T00:00:00.000Z', acknowledgedAt: null, resolvedAt: null, resolveReason: null, notifications: [],
  };
  const message = discordMessage(alert, 'firing') as { content: string; embeds: Array<{ title: string; description: string; color: number; fields: unknown[] }>; allowed_mentions: unknown };
  expect(message.content.startsWith('[HIGH] @everyone')).toBe(true);
  expect(message.content.length).toBeLessThanOrEqual(2000);
  expect(message.allowed_mentions).toEqual({ parse: [] });
  expect(message.embeds).toHaveLength(1);
  expect(message.embeds[0]!.title.length).toBeLessThanOrEqual(256);
  expect(message.embeds[0]!.description.length).toBeLessThanOrEqual(4096);
  expect(message.embeds[0]!.fields).toContainEqual({ name: 'Escalation level', value: '1', inline: true });
  const resolved = discordMessage({ ...alert, summary: 'down', resolveReason: 'answered again' }, 'resolved') as { content: string; embeds: Array<{ description: string; color: number }> };
  expect(resolved.content).toMatch(/^\[RESOLVED\] down/);
  expect(resolved.embeds[0]).toMatchObject({ description: 'answered again', color: 0x2ecc71 });
});
