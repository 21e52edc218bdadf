/**
 * Google Calendar push notifications (channels created with events.watch): no body and no
 * signature. The channel's token, chosen by us when the watch was created, comes back in
 * X-Goog-Channel-Token and is compared with the source's live tokens in constant time. The token
 * is kept out of the extracted payload: the payload is stored in the ledger.
 */
import { z } from 'zod';
import { tokensEqual } from './constant-time';
import { eventIdPattern, invalidBody, noSecretConfigured } from './event-parsing';
import type { SignatureScheme } from './scheme-types';

/**
 * Push channels of other Google APIs (Drive changes for Sheets) use the same headers; the event
 * type prefix names the API: `calendar.exists`, `sheets.update`.
 */
export const googleChannelOptions = z.strictObject({ eventTypePrefix: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/).default('calendar') });
export type GoogleCalendarOptions = { eventTypePrefix?: string };

const tokenHeader = 'x-goog-channel-token';

const googleHeaders = z.object({
  'x-goog-channel-id': z.string().min(1),
  'x-goog-message-number': z.string().regex(/^\d{1,20}$/, 'must be a decimal message number'),
  'x-goog-resource-state': z.string().regex(/^[a-z_]{1,64}$/, 'must be a resource state such as sync, exists, not_exists'),
});

export const googleCalendarScheme: SignatureScheme<GoogleCalendarOptions> = {
  // Empty: push notifications carry no body, so there is no content type to check.
  contentTypes: [],
  verify(request, secrets) {
    const token = request.headers[tokenHeader];
    if (!token) return { ok: false, reason: 'missing X-Goog-Channel-Token header' };
    if (secrets.length === 0) return noSecretConfigured;
    // Every live token is compared (no early exit), so timing does not tell which one matched.
    let matched = false;
    for (const secret of secrets) matched = tokensEqual(token, secret) || matched;
    return matched ? { ok: true } : { ok: false, reason: 'X-Goog-Channel-Token matches no live channel token' };
  },
  extract(request, options) {
    const headers = googleHeaders.safeParse(request.headers);
    if (!headers.success) return invalidBody('Google push notification headers are missing or invalid', headers.error);
    const eventId = `${headers.data['x-goog-channel-id']}:${headers.data['x-goog-message-number']}`;
    if (!eventIdPattern.test(eventId)) {
      return {
        ok: false,
        reason: 'X-Goog-Channel-ID does not make a valid event id',
        fields: { 'x-goog-channel-id': 'must be A-Z a-z 0-9 _ . : - (and short enough for a 255-character event id)' },
      };
    }
    const payload = Object.fromEntries(
      Object.entries(request.headers).filter(
        (entry): entry is [string, string] => entry[0].startsWith('x-goog-') && entry[0] !== tokenHeader && entry[1] !== undefined,
      ),
    );
    return { ok: true, events: [{ eventId, eventType: `${options.eventTypePrefix ?? 'calendar'}.${headers.data['x-goog-resource-state']}`, payload }] };
  },
};
