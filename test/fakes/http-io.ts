/**
 * The plumbing between node:http and the fake's handlers: read and parse a request the way the
 * real providers accept it (form-encoded or JSON), pull credentials and fields out of it, and
 * write a FakeResponse back. Kept apart so the provider modules only deal with wire semantics.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { FakeResponse, ParsedRequest } from './types';

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  // Like the providers that take them (SendGrid's mail send), a gzip body is decoded; a broken one reads as empty.
  if (req.headers['content-encoding']?.trim().toLowerCase() === 'gzip' && bytes.length > 0) {
    try {
      return gunzipSync(bytes).toString('utf8');
    } catch {
      return '';
    }
  }
  return bytes.toString('utf8');
}

/** The client accepts a gzip answer (`Accept-Encoding` lists gzip without q=0), as Google and the others honour. */
export function acceptsGzip(headers: Readonly<Record<string, string>>): boolean {
  return (headers['accept-encoding'] ?? '')
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .some((part) => /^gzip(\s*;\s*q=(?!0(\.0*)?$)[\d.]+)?$/.test(part));
}

export function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/**
 * Form bodies become a flat object with the keys as sent (stripe-node's `metadata[order]` stays one
 * key; a repeated key, like Twilio Notify's `ToBinding`, becomes an array of its values). JSON that does not parse is kept as the raw string,
 * like any other body, so the record still shows what arrived.
 */
function parseBody(text: string, contentType: string): Pick<ParsedRequest, 'body' | 'bodyFormat'> {
  if (text === '') return { body: null, bodyFormat: 'empty' };
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType === 'application/x-www-form-urlencoded') {
    const form: Record<string, string | string[]> = {};
    for (const [key, value] of new URLSearchParams(text)) {
      const seen = form[key];
      form[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
    }
    return { body: form, bodyFormat: 'form' };
  }
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
    try {
      return { body: JSON.parse(text) as unknown, bodyFormat: 'json' };
    } catch {
      return { body: text, bodyFormat: 'raw' };
    }
  }
  return { body: text, bodyFormat: 'raw' };
}

export function parseRequest(req: IncomingMessage, text: string): ParsedRequest {
  const url = req.url ?? '/';
  // Only the path and query matter; the base just satisfies the URL parser.
  const parsed = new URL(url, 'http://fake.invalid');
  const headers = flattenHeaders(req.headers);
  return {
    method: req.method ?? 'GET',
    path: parsed.pathname,
    url,
    query: Object.fromEntries(parsed.searchParams),
    headers,
    ...parseBody(text, headers['content-type'] ?? ''),
  };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A body field as a string (numbers too, since JSON callers may send them unquoted); else undefined. */
export function stringField(body: unknown, name: string): string | undefined {
  if (!isRecord(body)) return undefined;
  const value = body[name];
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

export function bearerToken(req: ParsedRequest): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

export function basicCredentials(req: ParsedRequest): { user: string; password: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Writes the answer; `gzip`: a body is sent `Content-Encoding: gzip` (provider answers to clients that accept it). */
export function sendResponse(res: ServerResponse, response: FakeResponse, options: { gzip?: boolean } = {}): void {
  // A client that gave up during a latency fault has closed the socket; nothing left to answer.
  if (res.destroyed || res.writableEnded) return;
  const headers: Record<string, string> = { ...response.headers };
  if (response.body === undefined) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  headers['content-type'] = 'application/json; charset=utf-8';
  const text = JSON.stringify(response.body);
  if (options.gzip) {
    headers['content-encoding'] = 'gzip';
    headers.vary = 'Accept-Encoding';
    res.writeHead(response.status, headers);
    res.end(gzipSync(text));
    return;
  }
  res.writeHead(response.status, headers);
  res.end(text);
}
