/**
 * Discord webhooks as an alert channel, wire level: which URLs are Discord webhook URLs, which
 * webhook an alert goes to (per rule, per severity, or the default one), and how long a 429 asks
 * us to wait. Pure, so the configuration (lib/config/monitoring-config.ts), the alert activities and the
 * unit tests share one definition. A webhook URL carries its token: it is a secret, so nothing
 * here ever puts a URL into a message; routes are named by their key (`rule:…`, `severity:…`,
 * `default`) instead.
 */

/** `…/api[/v10]/webhooks/{id}/{token}`, optionally with a query (`?thread_id=…`). */
const WEBHOOK_PATH = /^\/api(?:\/v\d+)?\/webhooks\/\d{1,25}\/[A-Za-z0-9_-]{1,200}\/?$/;

export const DISCORD_URL_HINT = 'a Discord webhook URL such as https://discord.com/api/webhooks/{id}/{token}';

export function isDiscordWebhookUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password && WEBHOOK_PATH.test(url.pathname);
}

/** Per-rule and per-severity webhooks (ALERT_DISCORD_ROUTES); both optional. */
export interface DiscordRoutes {
  rule: Record<string, string>;
  severity: Partial<Record<string, string>>;
}

export interface DiscordRoute {
  /** What to call the route in messages and errors (never the URL): `rule:<rule>`, `severity:<s>` or `default`. */
  name: string;
  url: string;
}

/** The webhook for an alert: its rule's, else its severity's, else the default one; null when none applies. */
export function discordRouteFor(
  config: { defaultUrl: string | undefined; routes: DiscordRoutes },
  alert: { rule?: string; severity: string },
): DiscordRoute | null {
  const byRule = alert.rule !== undefined && Object.hasOwn(config.routes.rule, alert.rule) ? config.routes.rule[alert.rule] : undefined;
  if (byRule) return { name: `rule:${alert.rule}`, url: byRule };
  const bySeverity = Object.hasOwn(config.routes.severity, alert.severity) ? config.routes.severity[alert.severity] : undefined;
  if (bySeverity) return { name: `severity:${alert.severity}`, url: bySeverity };
  return config.defaultUrl ? { name: 'default', url: config.defaultUrl } : null;
}

function secondsToMs(seconds: number): number | null {
  return Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds * 1000) : null;
}

/** A `Retry-After` header: (fractional) delta-seconds or an HTTP-date; null when absent, unusable or past. */
export function retryAfterHeaderMs(value: string | null | undefined, now: number = Date.now()): number | null {
  if (value === null || value === undefined) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return secondsToMs(Number(trimmed));
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : secondsToMs((at - now) / 1000);
}

/**
 * How long a Discord 429 asks us to wait, in ms: the body's `retry_after` (seconds, fractional)
 * and the `Retry-After` header, the longer of the two when both are there (waiting the longer one
 * satisfies both); null when neither is usable (the retry policy's backoff applies then).
 */
export function discordRetryAfterMs(body: unknown, retryAfterHeader: string | null | undefined, now: number = Date.now()): number | null {
  const fromBody =
    typeof body === 'object' && body !== null && typeof (body as { retry_after?: unknown }).retry_after === 'number'
      ? secondsToMs((body as { retry_after: number }).retry_after)
      : null;
  const fromHeader = retryAfterHeaderMs(retryAfterHeader, now);
  if (fromBody === null) return fromHeader;
  if (fromHeader === null) return fromBody;
  return Math.max(fromBody, fromHeader);
}

/** Replaces every occurrence of the secret parts of a webhook URL (the URL, its token) in a text. */
export function redactWebhookUrl(text: string, url: string): string {
  const token = /\/webhooks\/\d+\/([^/?#]+)/.exec(url)?.[1];
  let out = text.split(url).join('[webhook URL]');
  if (token) out = out.split(token).join('[token]');
  return out;
}
