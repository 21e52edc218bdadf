/**
 * Google Calendar adapter (Calendar API v3 events) over the shared HTTP core. Google has no
 * idempotency-key header; its mechanism is a client-supplied event id. The id is derived from the
 * call's idempotency key, so a retried insert names the same event and Google answers 409
 * `duplicate`, which is treated as success (the existing event is read back). Deletes are
 * compensations and must be idempotent: 404 and 410 mean the event is already gone.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { answerField, providerRequest, requireCredential, type ProviderResponse } from './http-core';
import type { OperationAdapter, ProviderAdapter, ProviderCallContext, ProviderResult } from './types';

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

function auth(ctx: ProviderCallContext): Record<string, string> {
  return { authorization: `Bearer ${requireCredential(ctx, 'accessToken')}` };
}

function eventData(body: unknown): ProviderResult {
  const htmlLink = answerField(body, 'htmlLink');
  return { data: { id: answerField(body, 'id'), status: answerField(body, 'status'), ...(htmlLink === null ? {} : { htmlLink }) } };
}

function isDuplicate(response: ProviderResponse): boolean {
  return response.status === 409 && answerField(response.body, 'error', 'errors', 0, 'reason') === 'duplicate';
}

function getEventRequest(ctx: ProviderCallContext, calendarId: string, eventId: string): Promise<ProviderResponse> {
  return providerRequest({ ctx, method: 'GET', path: eventPath(calendarId, eventId), headers: auth(ctx) });
}

const insertEvent: OperationAdapter<InsertEventParams> = {
  params: insertEventParams,
  async run(params, ctx) {
    const id = googleEventIdFor(ctx.idempotencyKey);
    const response = await providerRequest({
      ctx,
      method: 'POST',
      path: eventPath(params.calendarId),
      headers: auth(ctx),
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

const deleteEvent: OperationAdapter<EventRefParams> = {
  params: eventRefParams,
  async run(params, ctx) {
    await providerRequest({ ctx, method: 'DELETE', path: eventPath(params.calendarId, params.eventId), headers: auth(ctx), expect: [404, 410] });
    return { data: { deleted: true, eventId: params.eventId } };
  },
};

const getEvent: OperationAdapter<EventRefParams> = {
  params: eventRefParams,
  async run(params, ctx) {
    return eventData((await getEventRequest(ctx, params.calendarId, params.eventId)).body);
  },
};

export const googleCalendarAdapter: ProviderAdapter = { insertEvent, deleteEvent, getEvent };
