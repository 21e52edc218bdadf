/**
 * Fake Twilio: Programmable Messaging's Messages.json resource and Twilio Notify's Notifications
 * resource (one message to many SMS bindings), with HTTP Basic auth and Twilio's numbered error
 * bodies (20003, 21211, …). The primary SMS provider.
 */
import { basicCredentials, isRecord, stringField } from '../http-io';
import { randomHex } from '../random-ids';
import type { ProviderState } from '../state';
import type { FakeResponse } from '../types';
import { json, type ProviderModule } from './provider-module';

const E164 = /^\+[1-9]\d{6,14}$/;

/** Twilio's default opt-out and opt-in keywords (Advanced Opt-Out off), matched on the trimmed body, any case. */
const OPT_OUT_KEYWORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT']);
const OPT_IN_KEYWORDS = new Set(['START', 'YES', 'UNSTOP']);

/**
 * An inbound SMS from `from` as Twilio handles it before the webhook: an opt-out keyword puts
 * the number on the account's opt-out list (later sends answer 21610), an opt-in keyword takes it
 * off. What it did, or null for any other text.
 */
export function receiveTwilioSms(state: ProviderState, from: string, body: string): 'opted-out' | 'opted-in' | null {
  const keyword = body.trim().toUpperCase();
  if (OPT_OUT_KEYWORDS.has(keyword)) {
    state.twilioOptOuts.add(from);
    return 'opted-out';
  }
  if (OPT_IN_KEYWORDS.has(keyword)) {
    state.twilioOptOuts.delete(from);
    return 'opted-in';
  }
  return null;
}

function twilioError(status: number, code: number, message: string): FakeResponse {
  return json(status, twilioErrorBody(status, code, message));
}

function twilioErrorBody(status: number, code: number, message: string): Record<string, unknown> {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

function invalidToBody(to: string | undefined): Record<string, unknown> {
  return twilioErrorBody(400, 21211, `The 'To' number ${to ?? ''} is not a valid phone number.`);
}

/** Twilio's date format (RFC 2822 with a numeric zone). */
function twilioDate(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

export const twilio: ProviderModule = {
  id: 'twilio',
  routes: [
    {
      // Twilio's API root: the health probe. Faults on operation 'probe' (or on the whole provider) make it fail.
      method: 'GET',
      path: /^\/2010-04-01\.json$/,
      operation: 'probe',
      handle() {
        return json(200, { versions: ['2010-04-01'], status: 'ok' });
      },
    },
    {
      method: 'POST',
      path: /^\/2010-04-01\/Accounts\/(?<accountSid>[^/]+)\/Messages\.json$/,
      operation: 'sendSms',
      handle(req, params, state) {
        const credentials = basicCredentials(req);
        if (!credentials || credentials.user !== params.accountSid || credentials.password === '') {
          return twilioError(401, 20003, 'Authenticate');
        }
        const to = stringField(req.body, 'To');
        const from = stringField(req.body, 'From');
        const text = stringField(req.body, 'Body');
        if (!to) return twilioError(400, 21604, "A 'To' phone number is required.");
        if (!E164.test(to)) return json(400, invalidToBody(to));
        if (!from) return twilioError(400, 21603, "A 'From' phone number is required.");
        if (!text) return twilioError(400, 21602, 'Message body is required.');
        if (state.twilioOptOuts.has(to)) return twilioError(400, 21610, 'Attempt to send to unsubscribed recipient');
        state.sms.twilio++;
        return json(201, {
          sid: `SM${randomHex(16)}`,
          account_sid: params.accountSid,
          to,
          from,
          body: text,
          status: 'queued',
          num_segments: '1',
          price: null,
          date_created: twilioDate(new Date()),
        });
      },
    },
    {
      // Twilio Notify (notify.twilio.com): form-encoded Body plus one ToBinding JSON per recipient.
      method: 'POST',
      path: /^\/v1\/Services\/(?<serviceSid>IS[^/]+)\/Notifications$/,
      operation: 'sendSmsBatch',
      handle(req, params, state) {
        const credentials = basicCredentials(req);
        if (!credentials?.user.startsWith('AC') || credentials.password === '') return twilioError(401, 20003, 'Authenticate');
        const text = stringField(req.body, 'Body');
        const raw = isRecord(req.body) ? req.body.ToBinding : undefined;
        const bindings = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((b) => {
          try {
            return JSON.parse(String(b)) as unknown;
          } catch {
            return null;
          }
        });
        if (!text) return twilioError(400, 21602, 'Message body is required.');
        if (bindings.length === 0) return twilioError(400, 20001, 'Missing required parameter ToBinding');
        for (const binding of bindings) {
          if (!isRecord(binding) || binding.binding_type !== 'sms' || typeof binding.address !== 'string') {
            return twilioError(400, 20001, 'Invalid parameter ToBinding');
          }
          if (!E164.test(binding.address)) return json(400, invalidToBody(binding.address));
        }
        state.sms.twilio += bindings.length;
        return json(201, {
          sid: `NT${randomHex(16)}`,
          account_sid: credentials.user,
          service_sid: params.serviceSid,
          body: text,
          identities: [],
          priority: 'high',
          date_created: new Date().toISOString(),
        });
      },
    },
  ],
  faultBodies: {
    // Twilio's REST error codes mirror the HTTP status (20429, 20500, 20503, …).
    status: (status) => twilioErrorBody(status, 20000 + status, `The fake Twilio answered ${status} (injected fault).`),
    rateLimit: () => ({ code: 20429, message: 'Too Many Requests', status: 429 }),
    validation: (req) => invalidToBody(stringField(req.body, 'To')),
  },
};
