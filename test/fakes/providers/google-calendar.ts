/**
 * Fake Google Calendar v3 events. Google has no idempotency header; a client-chosen event id is
 * the idempotency mechanism (409 duplicate on a repeat), and a deleted event answers 410, so the
 * adapter's "already done" handling for insert and delete can be exercised.
 */
import { STATUS_CODES } from 'node:http';
import { bearerToken, isRecord } from '../http-io';
import { BASE32HEX, randomString } from '../random-ids';
import type { CalendarEvent } from '../state';
import type { FakeResponse } from '../types';
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

function hasTime(value: unknown): boolean {
  return isRecord(value) && (typeof value.dateTime === 'string' || typeof value.date === 'string');
}

function rejectMissingToken(authorization: string | undefined): FakeResponse | undefined {
  if (authorization) return undefined;
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
        const unauthenticated = rejectMissingToken(bearerToken(req));
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
        const event: CalendarEvent = {
          kind: 'calendar#event',
          id,
          status: 'confirmed',
          htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${calendarId}`).toString('base64url')}`,
          summary: body.summary,
          ...(body.description !== undefined ? { description: body.description } : {}),
          start: body.start,
          end: body.end,
          created: new Date().toISOString(),
        };
        state.calendarEvents.set(key, { event, deleted: false });
        return json(200, event);
      },
    },
    {
      method: 'GET',
      path: EVENT_PATH,
      operation: 'getEvent',
      handle(req, params, state) {
        const unauthenticated = rejectMissingToken(bearerToken(req));
        if (unauthenticated) return unauthenticated;
        const stored = state.calendarEvents.get(`${params.calendarId}/${params.eventId}`);
        if (!stored) return notFound();
        return stored.deleted ? gone() : json(200, stored.event);
      },
    },
    {
      method: 'DELETE',
      path: EVENT_PATH,
      operation: 'deleteEvent',
      handle(req, params, state) {
        const unauthenticated = rejectMissingToken(bearerToken(req));
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
