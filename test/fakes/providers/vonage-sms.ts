/**
 * Fake Vonage (Nexmo) SMS API, the backup SMS provider. Its quirk is the point: errors come back
 * INSIDE a 200 (`messages[0].status` other than "0"), so the adapter must read the body to know
 * whether the SMS went out.
 */
import { STATUS_CODES } from 'node:http';
import { stringField } from '../http-io';
import { randomHex } from '../random-ids';
import type { FakeResponse } from '../types';
import { json, type ProviderModule } from './provider-module';

/** Vonage's `messages[].status` codes used here. */
const THROTTLED = '1';
const MISSING_PARAMS = '2';
const INVALID_CREDENTIALS = '4';

function failedMessageBody(status: string, errorText: string): Record<string, unknown> {
  return { 'message-count': '1', messages: [{ status, 'error-text': errorText }] };
}

function failedMessage(status: string, errorText: string): FakeResponse {
  return json(200, failedMessageBody(status, errorText));
}

export const vonage: ProviderModule = {
  id: 'vonage',
  routes: [
    {
      // Vonage's account balance: the health probe. Faults on operation 'probe' (or on the whole provider) make it fail.
      method: 'GET',
      path: /^\/account\/get-balance$/,
      operation: 'probe',
      handle() {
        return json(200, { value: 10.5, autoReload: false });
      },
    },
    {
      method: 'POST',
      path: /^\/sms\/json$/,
      operation: 'sendSms',
      handle(req, _params, state) {
        if (!stringField(req.body, 'api_key') || !stringField(req.body, 'api_secret')) {
          return failedMessage(INVALID_CREDENTIALS, 'Bad Credentials');
        }
        for (const param of ['from', 'to', 'text']) {
          if (!stringField(req.body, param)) return failedMessage(MISSING_PARAMS, `Missing ${param} param`);
        }
        state.sms.vonage++;
        return json(200, {
          'message-count': '1',
          messages: [
            {
              to: (stringField(req.body, 'to') ?? '').replace(/^\+/, ''),
              'message-id': randomHex(16),
              status: '0',
              'remaining-balance': '10.00',
              'message-price': '0.0095',
              network: '23410',
            },
          ],
        });
      },
    },
  ],
  faultBodies: {
    // Vonage's own way of failing is the in-200 body, so a `status` fault with status 200 gives
    // the throttled answer; any other status gets a plain JSON error like an outage would.
    status: (status) =>
      status === 200 ? failedMessageBody(THROTTLED, 'Throttled') : { error: (STATUS_CODES[status] ?? 'error').toLowerCase() },
    rateLimit: () => ({ error: 'rate limited' }),
    validation: () => failedMessageBody(MISSING_PARAMS, 'Missing to param'),
  },
};
