/**
 * The service API as the console uses it: every request carries the signed-in credential, so the
 * API decides what each role may see and do. The live stream is read with fetch (EventSource
 * cannot send an Authorization header) and parsed as Server-Sent Events.
 */
export type Role = 'admin' | 'operator' | 'service';

export interface Session {
  id: string;
  kind: 'api-key' | 'jwt';
  tenant: string;
  role: Role;
  permissions: string[];
  temporal: { namespace: string; uiUrl: string };
}

/** The parts of GET /health/detailed the console reads (api/schemas.ts detailedHealth). */
export interface DetailedHealth {
  status: 'ok' | 'degraded' | 'failing';
  failing: string[];
  degraded: string[];
  checks: {
    /** The webhook inbox, system-wide: webhooks committed whose workflow is not started yet. */
    inbox?: { ok: boolean; error?: string; unstarted?: number; oldestAgeSeconds?: number };
  };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: string,
  ) {
    super(`${status} ${error}: ${reason}`);
  }
}

/** 429: the API's rate limit for this credential or address; `retryAfterMs` from its Retry-After. */
export class RateLimitedError extends ApiError {
  constructor(
    reason: string,
    readonly retryAfterMs: number,
  ) {
    super(429, 'rate_limited', reason);
  }
}

/** Retry-After in ms (seconds or an HTTP date); 5 s when absent or unreadable. */
export function retryAfterMs(header: string | null): number {
  if (header && /^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = header ? Date.parse(header) : NaN;
  return Number.isNaN(at) ? 5000 : Math.max(0, at - Date.now());
}

/**
 * The stream's server sends a keep-alive comment every 15 s (api/routes/stream.ts): nothing for
 * this long means the connection is dead even if no error surfaced, so "live" would be a lie.
 */
export const STREAM_SILENCE_MS = 40_000;

/** What the live badge shows: updates arriving, reconnecting, refused by the rate limit, or signed out. */
export type StreamState = { kind: 'live' } | { kind: 'offline' } | { kind: 'stale' } | { kind: 'rate-limited'; retryAfterMs: number } | { kind: 'refused' };

const CREDENTIAL_KEY = 'switchyard.credential';

export const credentialStore = {
  get: (): string | null => sessionStorage.getItem(CREDENTIAL_KEY),
  set: (value: string): void => sessionStorage.setItem(CREDENTIAL_KEY, value),
  clear: (): void => sessionStorage.removeItem(CREDENTIAL_KEY),
};

/** The API's origin: the console is served by the API itself at /console. */
const base = '';

export class Api {
  constructor(private readonly credential: string) {}

  /** The JSON answer; a status outside 2xx is an ApiError unless listed in `answers` (a 503 that is an answer, say). */
  async request<T>(method: string, path: string, body?: unknown, answers: readonly number[] = []): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.credential}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const json: unknown = text ? JSON.parse(text) : null;
    if (!res.ok && !answers.includes(res.status)) {
      const answer = (json ?? {}) as { error?: string; reason?: string };
      if (res.status === 429) throw new RateLimitedError(answer.reason ?? 'rate limited', retryAfterMs(res.headers.get('retry-after')));
      throw new ApiError(res.status, answer.error ?? 'error', answer.reason ?? res.statusText);
    }
    return json as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  whoami(): Promise<Session> {
    return this.get<Session>('/whoami');
  }

  /** GET /health/detailed: 503 (a dependency failing) is an answer too, with the same body. */
  detailedHealth(): Promise<DetailedHealth> {
    return this.request<DetailedHealth>('GET', '/health/detailed', undefined, [503]);
  }

  /**
   * Reads GET /stream until `signal` aborts, calling `onEvent` per event and `onState` as the
   * connection changes. "live" is reported only once bytes arrive, and withdrawn ("stale") when
   * nothing, not even the keep-alive, arrived for STREAM_SILENCE_MS: the connection is then dropped
   * and opened again. A 429 waits its Retry-After before trying again; otherwise the server's
   * `retry` (3 s).
   */
  async stream(onEvent: (topic: string, data: Record<string, unknown>) => void, onState: (state: StreamState) => void, signal: AbortSignal): Promise<void> {
    let retryMs = 3000;
    while (!signal.aborted) {
      let rateLimitedMs: number | null = null;
      const connection = new AbortController();
      const abort = () => connection.abort();
      signal.addEventListener('abort', abort);
      let lastBytesAt = Date.now();
      let stale = false;
      const watchdog = setInterval(() => {
        if (Date.now() - lastBytesAt < STREAM_SILENCE_MS) return;
        stale = true;
        onState({ kind: 'stale' });
        connection.abort();
      }, 1000);
      try {
        const res = await fetch(`${base}/stream`, { headers: { authorization: `Bearer ${this.credential}`, accept: 'text/event-stream' }, signal: connection.signal });
        if (res.status === 429) {
          rateLimitedMs = retryAfterMs(res.headers.get('retry-after'));
          onState({ kind: 'rate-limited', retryAfterMs: rateLimitedMs });
          throw new RateLimitedError('the stream was rate limited', rateLimitedMs);
        }
        if (!res.ok || !res.body) throw new ApiError(res.status, 'stream', 'the stream did not open');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        let live = false;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          lastBytesAt = Date.now();
          if (!live) {
            live = true;
            onState({ kind: 'live' });
          }
          buffer += value.replace(/\r\n?/g, '\n');
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let event = 'message';
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) continue; // a comment (keep-alive)
              const colon = line.indexOf(':');
              const field = colon < 0 ? line : line.slice(0, colon);
              const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
              if (field === 'event') event = text;
              else if (field === 'data') data.push(text);
              else if (field === 'retry' && /^\d+$/.test(text)) retryMs = Number(text);
            }
            if (data.length === 0) continue;
            try {
              onEvent(event, JSON.parse(data.join('\n')) as Record<string, unknown>);
            } catch {
              // not JSON: not one of ours
            }
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
          onState({ kind: 'refused' });
          return;
        }
      } finally {
        clearInterval(watchdog);
        signal.removeEventListener('abort', abort);
      }
      if (signal.aborted) return;
      if (!stale && rateLimitedMs === null) onState({ kind: 'offline' });
      await new Promise((resolve) => setTimeout(resolve, rateLimitedMs ?? (stale ? 0 : retryMs)));
    }
  }
}
