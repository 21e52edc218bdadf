/**
 * Fake Google Calendar v3 events. Google has no idempotency header; a client-chosen event id is
 * the idempotency mechanism (409 duplicate on a repeat), and a deleted event answers 410, so the
 * adapter's "already done" handling for insert and delete can be exercised. Every event carries an
 * `etag` that changes on each write; PATCH (partial) and PUT (whole event) honour `If-Match` and
 * answer a stale one with 412 `conditionNotMet`, as Google does, so concurrent updates conflict.
 */
import { STATUS_CODES } from 'node:http';
import { bearerToken, isRecord } from '../http-io';
import { BASE32HEX, randomString } from '../random-ids';
import type { CalendarEvent, ProviderState } from '../state';
import type { FakeResponse, ParsedRequest } from '../types';
import { ISSUED_TOKEN_PREFIX } from './google-sheets';
import { json, type ProviderModule } from './provider-module';

const EVENT_ID = /^[a-v0-9]{5,1024}$/;
const EVENT_PATH = /^\/calendar\/v3\/calendars\/(?<calendarId>[^/]+)\/events\/(?<eventId>[^/]+)$/;

function googleError(code: number, message: string, errors: Record<string, string>[], extra: Record<string, string> = {}): FakeResponse {
  return json(code, { error: { code, message, errors, ...extra } });
}

const invalidId = (): FakeResponse =>
  googleError(400, 'Invalid resource id value.', [{ domain: 'global', reason: 'invalid' }]);
const notFound = (): FakeResponse => googleError(404, 'Not Found', [{ domain: 'global', reason: 'notFound' }]);
const gone = (): FakeResponse => googleError(410, 'Resource has been deleted', [{ domain: 'global', reason: 'deleted' }]);
const conditionNotMet = (): FakeResponse =>
  googleError(412, 'Precondition Failed', [
    { domain: 'global', reason: 'conditionNotMet', message: 'Precondition Failed', locationType: 'header', location: 'If-Match' },
  ]);

/** Google's event ETags are quoted, ever-increasing numbers; one counter for the process is enough here. */
let lastEtag = Date.now() * 1000;
function nextEtag(): string {
  lastEtag += 1;
  return `"${lastEtag}"`;
}

/** The fields a PATCH or PUT may write (id, etag, created, … are Google's). */
const WRITABLE = ['summary', 'description', 'location', 'attendees', 'start', 'end'] as const;

function timeOf(value: unknown): number {
  if (!isRecord(value)) return NaN;
  const text = typeof value.dateTime === 'string' ? value.dateTime : typeof value.date === 'string' ? value.date : '';
  return Date.parse(text);
}

/**
 * PATCH (`replace` false: the fields sent change, `null` clears one) or PUT (`replace` true: the
 * writable fields become exactly the body's; start and end required), under `If-Match`.
 */
function updateEvent(req: ParsedRequest, params: Record<string, string>, state: ProviderState, replace: boolean): FakeResponse {
  const unauthenticated = rejectToken(bearerToken(req), state);
  if (unauthenticated) return unauthenticated;
  const stored = state.calendarEvents.get(`${params.calendarId}/${params.eventId}`);
  if (!stored) return notFound();
  if (stored.deleted) return gone();
  const ifMatch = req.headers['if-match'];
  if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== stored.event.etag) return conditionNotMet();
  const body = isRecord(req.body) ? req.body : {};
  const next: Record<string, unknown> = { ...stored.event };
  for (const field of WRITABLE) {
    if (replace) {
      if (body[field] === undefined || body[field] === null) delete next[field];
      else next[field] = body[field];
    } else if (body[field] === null) delete next[field];
    else if (body[field] !== undefined) next[field] = body[field];
  }
  for (const field of ['start', 'end'] as const) {
    if (!hasTime(next[field])) {
      const message = `Missing ${field} time.`;
      return googleError(400, message, [{ domain: 'global', reason: 'required', message }]);
    }
  }
  if (timeOf(next.end) < timeOf(next.start)) {
    return googleError(400, 'The specified time range is empty.', [{ domain: 'calendar', reason: 'timeRangeEmpty', message: 'The specified time range is empty.' }]);
  }
  const event = { ...next, etag: nextEtag(), updated: new Date().toISOString(), sequence: stored.event.sequence + 1 } as CalendarEvent;
  stored.event = event;
  return json(200, event, { ETag: event.etag });
}

function hasTime(value: unknown): boolean {
  return isRecord(value) && (typeof value.dateTime === 'string' || typeof value.date === 'string');
}

/**
 * 401 as Google answers it without a token, or with one the fake token endpoint issued that has
 * expired (or was forgotten by a reset); any other token (a fixed GOOGLE_ACCESS_TOKEN) passes.
 */
function rejectToken(token: string | undefined, state: ProviderState): FakeResponse | undefined {
  const issuedHere = token?.startsWith(ISSUED_TOKEN_PREFIX) ?? false;
  const live = issuedHere ? (state.googleAccessTokens.get(token!)?.expiresAt ?? 0) > Date.now() : Boolean(token);
  if (live) return undefined;
  return googleError(401, 'Request had invalid authentication credentials.', [{ domain: 'global', reason: 'authError' }], {
    status: 'UNAUTHENTICATED',
  });
}

export const googleCalendar: ProviderModule = {
  id: 'google-calendar',
  routes: [
    {
      // Calendar's discovery document: the health probe. Faults on operation 'probe' (or on the whole provider) make it fail.
      method: 'GET',
      path: /^\/discovery\/v1\/apis\/calendar\/v3\/rest$/,
      operation: 'probe',
      handle() {
        return json(200, { kind: 'discovery#restDescription', name: 'calendar', version: 'v3' });
      },
    },
    {
      method: 'POST',
      path: /^\/calendar\/v3\/calendars\/(?<calendarId>[^/]+)\/events$/,
      operation: 'insertEvent',
      handle(req, params, state) {
        const unauthenticated = rejectToken(bearerToken(req), state);
        if (unauthenticated) return unauthenticated;
        const body = isRecord(req.body) ? req.body : {};
        if (body.id !== undefined && (typeof body.id !== 'string' || !EVENT_ID.test(body.id))) return invalidId();
        for (const field of ['start', 'end'] as const) {
          if (!hasTime(body[field])) {
            const message = `Missing ${field} time.`;
            return googleError(400, message, [{ domain: 'global', reason: 'required', message }]);
          }
        }
        const calendarId = params.calendarId ?? '';
        const id = typeof body.id === 'string' ? body.id : randomString(26, BASE32HEX);
        const key = `${calendarId}/${id}`;
        // Deleted events keep their id: re-inserting one is a duplicate too.
        if (state.calendarEvents.has(key)) {
          return googleError(409, 'The requested identifier already exists.', [{ domain: 'global', reason: 'duplicate' }]);
        }
        const created = new Date().toISOString();
        const event: CalendarEvent = {
          kind: 'calendar#event',
          etag: nextEtag(),
          id,
          status: 'confirmed',
          htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${calendarId}`).toString('base64url')}`,
          summary: body.summary,
          ...(body.description !== undefined ? { description: body.description } : {}),
          ...(body.location !== undefined ? { location: body.location } : {}),
          ...(body.attendees !== undefined ? { attendees: body.attendees } : {}),
          start: body.start,
          end: body.end,
          created,
          updated: created,
          sequence: 0,
        };
        state.calendarEvents.set(key, { event, deleted: false });
        return json(200, event, { ETag: event.etag });
      },
    },
    {
      method: 'GET',
      path: EVENT_PATH,
      operation: 'getEvent',
      handle(req, params, state) {
        const unauthenticated = rejectToken(bearerToken(req), state);
        if (unauthenticated) return unauthenticated;
        const stored = state.calendarEvents.get(`${params.calendarId}/${params.eventId}`);
        if (!stored) return notFound();
        return stored.deleted ? gone() : json(200, stored.event, { ETag: stored.event.etag });
      },
    },
    {
      method: 'PATCH',
      path: EVENT_PATH,
      operation: 'updateEvent',
      handle: (req, params, state) => updateEvent(req, params, state, false),
    },
    {
      method: 'PUT',
      path: EVENT_PATH,
      operation: 'updateEvent',
      handle: (req, params, state) => updateEvent(req, params, state, true),
    },
    {
      method: 'DELETE',
      path: EVENT_PATH,
      operation: 'deleteEvent',
      handle(req, params, state) {
        const unauthenticated = rejectToken(bearerToken(req), state);
        if (unauthenticated) return unauthenticated;
        const stored = state.calendarEvents.get(`${params.calendarId}/${params.eventId}`);
        if (!stored) return notFound();
        if (stored.deleted) return gone();
        stored.deleted = true;
        return { status: 204 };
      },
    },
  ],
  faultBodies: {
    status: (status) => ({
      error: {
        code: status,
        message: STATUS_CODES[status] ?? 'Error',
        errors: [{ domain: 'global', reason: status >= 500 ? 'backendError' : 'badRequest' }],
      },
    }),
    rateLimit: () => ({ error: { code: 429, message: 'Rate Limit Exceeded', errors: [{ domain: 'usageLimits', reason: 'rateLimitExceeded' }] } }),
    validation: () => ({ error: { code: 400, message: 'Invalid resource id value.', errors: [{ domain: 'global', reason: 'invalid' }] } }),
  },
};
