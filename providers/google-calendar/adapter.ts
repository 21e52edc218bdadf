/**
 * Google Calendar adapter (Calendar API v3 events) over the shared HTTP core. Google has no
 * idempotency-key header; its mechanism is a client-supplied event id. The id is derived from the
 * call's idempotency key, so a retried insert names the same event and Google answers 409
 * `duplicate`, which is treated as success (the existing event is read back). Deletes are
 * compensations and must be idempotent: 404 and 410 mean the event is already gone.
 *
 * Updates are optimistic: `updateEvent` PATCHes with `If-Match` = the event's ETag. A concurrent
 * change makes Google answer 412 `conditionNotMet`; the event is read again, the caller's changes
 * are merged into it by the declared rule (calendar-merge.ts) and the PATCH is retried with the
 * new ETag, at most `maxUpdateConflicts` times within one attempt. The count is in the result.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { mergeEventChanges, type EventField, type EventFields } from './calendar-merge';
import { classifyRequestFailure } from '../core/classify';
import { googleBearer } from '../core/google-token';
import { answerField, providerRequest, type ProviderRequestOptions, type ProviderResponse } from '../core/http-core';
import type { OperationAdapter, ProviderAdapter, ProviderCallContext, ProviderResult } from '../core/adapter-types';

const isoDateTime = z.iso.datetime({ offset: true });

const insertEventParams = z
  .object({
    calendarId: z.string().min(1),
    summary: z.string().min(1),
    start: isoDateTime,
    end: isoDateTime,
    description: z.string().optional(),
  })
  .refine((event) => Date.parse(event.end) >= Date.parse(event.start), { message: 'end must not be before start', path: ['end'] });
export type InsertEventParams = z.infer<typeof insertEventParams>;

const eventRefParams = z.object({ calendarId: z.string().min(1), eventId: z.string().min(1) });
export type EventRefParams = z.infer<typeof eventRefParams>;

const updateEventParams = eventRefParams
  .extend({
    /** The fields to change; fields left out keep the event's values (see calendar-merge.ts). */
    changes: z
      .object({
        summary: z.string().min(1).optional(),
        description: z.string().optional(),
        location: z.string().optional(),
        start: isoDateTime.optional(),
        end: isoDateTime.optional(),
        /** The full attendee list wanted, by e-mail; merged as a union with concurrent changes. */
        attendees: z.array(z.email()).max(500).optional(),
      })
      .strict()
      .refine((changes) => Object.values(changes).some((value) => value !== undefined), { message: 'at least one field to change' }),
    /**
     * The event's ETag as the caller last saw it: the first PATCH is sent against it (no read
     * first), so a change made since then is a conflict merged by the rule. Absent: the event is
     * read first and the changes apply to that version.
     */
    baseEtag: z.string().min(1).optional(),
  })
  .refine((p) => p.changes.start === undefined || p.changes.end === undefined || Date.parse(p.changes.end) >= Date.parse(p.changes.start), {
    message: 'end must not be before start',
    path: ['changes', 'end'],
  });
export type UpdateEventParams = z.infer<typeof updateEventParams>;

/** 412 → re-read → merge → retry rounds within one activity attempt; past them the attempt fails retryably. */
export const maxUpdateConflicts = 5;

/**
 * The event id for a call: lowercase hex of a hash of its idempotency key (hex digits are valid
 * base32hex, which Google requires), whatever characters the key itself uses.
 */
export function googleEventIdFor(idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey).digest('hex');
}

function eventPath(calendarId: string, eventId?: string): string {
  const events = `/calendar/v3/calendars/${encodeURIComponent(calendarId)}/events`;
  return eventId === undefined ? events : `${events}/${encodeURIComponent(eventId)}`;
}

/** Calendar's scope for every credential kind (providers/core/google-token.ts). */
const calendarScopes = ['https://www.googleapis.com/auth/calendar'] as const;
const bearer = googleBearer(calendarScopes);

/** Forgets every cached Calendar token (tests). */
export function clearCalendarTokens(): void {
  bearer.clear();
}

/** A Calendar API request with its bearer token (refreshed before expiry, and once on a 401). */
function calendarRequest(ctx: ProviderCallContext, options: Omit<ProviderRequestOptions, 'ctx'>): Promise<ProviderResponse> {
  return bearer.send(ctx, (token) => providerRequest({ ...options, ctx, headers: { ...options.headers, authorization: `Bearer ${token}` } }));
}

function eventData(body: unknown): ProviderResult {
  const htmlLink = answerField(body, 'htmlLink');
  return { data: { id: answerField(body, 'id'), status: answerField(body, 'status'), ...(htmlLink === null ? {} : { htmlLink }) } };
}

function isDuplicate(response: ProviderResponse): boolean {
  return response.status === 409 && answerField(response.body, 'error', 'errors', 0, 'reason') === 'duplicate';
}

function getEventRequest(ctx: ProviderCallContext, calendarId: string, eventId: string): Promise<ProviderResponse> {
  return calendarRequest(ctx, { method: 'GET', path: eventPath(calendarId, eventId) });
}

const insertEvent: OperationAdapter<InsertEventParams> = {
  params: insertEventParams,
  async run(params, ctx) {
    const id = googleEventIdFor(ctx.idempotencyKey);
    const response = await calendarRequest(ctx, {
      method: 'POST',
      path: eventPath(params.calendarId),
      json: {
        id,
        summary: params.summary,
        start: { dateTime: params.start },
        end: { dateTime: params.end },
        ...(params.description === undefined ? {} : { description: params.description }),
      },
      expect: [409],
      // Only "duplicate" means "ours, already made"; any other conflict is classified as usual.
      failureIn: (answer) => (answer.status === 409 && !isDuplicate(answer) ? {} : null),
    });
    if (response.status === 409) return eventData((await getEventRequest(ctx, params.calendarId, id)).body);
    return eventData(response.body);
  },
};

/** An event as read from Google, in the merge's terms, with its ETag. */
interface EventVersion {
  etag: string | null;
  fields: EventFields;
}

function eventVersion(body: unknown): EventVersion {
  const fields: EventFields = {};
  for (const field of ['summary', 'description', 'location'] as const) {
    const value = answerField(body, field);
    if (value !== null) fields[field] = value;
  }
  for (const field of ['start', 'end'] as const) {
    const value = answerField(body, field, 'dateTime') ?? answerField(body, field, 'date');
    if (value !== null) fields[field] = value;
  }
  const attendees = typeof body === 'object' && body !== null ? (body as { attendees?: unknown }).attendees : undefined;
  if (Array.isArray(attendees)) {
    fields.attendees = attendees.map((_attendee, index) => answerField(attendees, index, 'email')).filter((email) => email !== null);
  }
  return { etag: answerField(body, 'etag'), fields };
}

/** The PATCH body for merged fields; attendees the event already has keep their response status and other fields. */
function patchBody(patch: EventFields, current: unknown): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of ['summary', 'description', 'location'] as const) {
    if (patch[field] !== undefined) body[field] = patch[field];
  }
  for (const field of ['start', 'end'] as const) {
    if (patch[field] !== undefined) body[field] = { dateTime: patch[field] };
  }
  if (patch.attendees !== undefined) {
    const existing = new Map<string, unknown>();
    const listed = typeof current === 'object' && current !== null ? (current as { attendees?: unknown }).attendees : undefined;
    if (Array.isArray(listed)) {
      for (const [index, attendee] of listed.entries()) {
        const email = answerField(listed, index, 'email');
        if (email !== null) existing.set(email.toLowerCase(), attendee);
      }
    }
    body.attendees = patch.attendees.map((email) => existing.get(email.toLowerCase()) ?? { email });
  }
  return body;
}

const updateEvent: OperationAdapter<UpdateEventParams> = {
  params: updateEventParams,
  async run(params, ctx) {
    const path = eventPath(params.calendarId, params.eventId);
    // The version the caller's changes are made against: read now, unless the caller named one.
    let baseBody: unknown = null;
    let etag: string | null = params.baseEtag ?? null;
    if (etag === null) {
      baseBody = (await getEventRequest(ctx, params.calendarId, params.eventId)).body;
      etag = eventVersion(baseBody).etag;
    }
    const base = baseBody === null ? null : eventVersion(baseBody).fields;
    // The event the next PATCH is merged into: none before a conflict when the caller named its version.
    let currentBody: unknown = baseBody;
    let conflicts = 0;
    for (;;) {
      const merged: { patch: EventFields; overwritten: EventField[] } =
        currentBody === null
          ? { patch: params.changes, overwritten: [] }
          : mergeEventChanges({ changes: params.changes, current: eventVersion(currentBody).fields, base });
      const response = await calendarRequest(ctx, {
        method: 'PATCH',
        path,
        headers: etag === null ? {} : { 'if-match': etag },
        json: patchBody(merged.patch, currentBody),
        expect: [412],
      });
      // 412 conditionNotMet: the event changed since `etag` (any 412 is taken as that; Google sends no other).
      if (response.status !== 412) {
        return { data: { ...eventData(response.body).data, etag: answerField(response.body, 'etag'), conflicts, overwritten: merged.overwritten } };
      }
      conflicts++;
      if (conflicts > maxUpdateConflicts) {
        // Retryable: Temporal's backoff spaces the next attempt, by when the event is likely quieter.
        throw classifyRequestFailure(ctx, {
          status: 412,
          headers: response.headers,
          body: response.body,
          outcome: 'unavailable',
          message: `the event kept changing: ${conflicts} conflicting updates in a row`,
        });
      }
      currentBody = (await getEventRequest(ctx, params.calendarId, params.eventId)).body;
      etag = eventVersion(currentBody).etag;
    }
  },
};

const deleteEvent: OperationAdapter<EventRefParams> = {
  params: eventRefParams,
  async run(params, ctx) {
    await calendarRequest(ctx, { method: 'DELETE', path: eventPath(params.calendarId, params.eventId), expect: [404, 410] });
    return { data: { deleted: true, eventId: params.eventId } };
  },
};

const getEvent: OperationAdapter<EventRefParams> = {
  params: eventRefParams,
  async run(params, ctx) {
    return eventData((await getEventRequest(ctx, params.calendarId, params.eventId)).body);
  },
};

export const googleCalendarAdapter: ProviderAdapter = { insertEvent, updateEvent, deleteEvent, getEvent };
