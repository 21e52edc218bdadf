/**
 * Fake WhatsApp Business Cloud API (graph.facebook.com): template messages on
 * `POST /{version}/{phone-number-id}/messages` with a bearer token, answering
 * `{messaging_product, contacts: [{input, wa_id}], messages: [{id: "wamid…"}]}`, and the Graph
 * API's error body `{error: {message, type, code, error_subcode?, error_data?, fbtrace_id}}`:
 * 401 code 190 for a token that is not `EAA…`, 404 code 132001 for a template named `missing_…`,
 * 400 code 100 for a malformed request. Faults answer in the same format: status 400 is the
 * throughput limit 130429 (as the real API sends it, a 400), 401 code 190, 404 code 132001, 500
 * code 131000, 503 code 133004.
 */
import { bearerToken, isRecord } from '../http-io';
import { randomString } from '../random-ids';
import type { FakeResponse } from '../types';
import { json, type ProviderModule } from './provider-module';

const WA_NUMBER = /^\+?[1-9]\d{6,14}$/;

function graphErrorBody(code: number, message: string, type: string, details?: string, subcode?: number): Record<string, unknown> {
  return {
    error: {
      message,
      type,
      code,
      ...(subcode === undefined ? {} : { error_subcode: subcode }),
      ...(details === undefined ? {} : { error_data: { messaging_product: 'whatsapp', details } }),
      fbtrace_id: `A${randomString(22)}`,
    },
  };
}

const expiredToken = () => graphErrorBody(190, 'Error validating access token: Session has expired.', 'OAuthException', undefined, 463);
const missingTemplate = (name: string) =>
  graphErrorBody(132001, '(#132001) Template name does not exist in the translation', 'OAuthException', `template name (${name}) does not exist in en_US`);
const throughputLimit = () => graphErrorBody(130429, '(#130429) Rate limit hit', 'OAuthException', 'Cloud API message throughput has been reached.');

function invalidParameter(details: string): FakeResponse {
  return json(400, graphErrorBody(100, '(#100) Invalid parameter', 'OAuthException', details));
}

export const whatsapp: ProviderModule = {
  id: 'whatsapp',
  routes: [
    {
      // The token's own node: the health probe. Faults on operation 'probe' (or on the whole provider) make it fail.
      method: 'GET',
      path: /^\/v\d+\.\d+\/me$/,
      operation: 'probe',
      handle() {
        return json(200, { name: 'Switchyard fake system user', id: '100000000000001' });
      },
    },
    {
      method: 'POST',
      path: /^\/v\d+\.\d+\/(?<phoneNumberId>\d+)\/messages$/,
      operation: 'sendTemplate',
      handle(req, _params, state) {
        if (!bearerToken(req)?.startsWith('EAA')) return json(401, expiredToken());
        const body = isRecord(req.body) ? req.body : {};
        if (body.messaging_product !== 'whatsapp') return invalidParameter('messaging_product must be "whatsapp"');
        const to = body.to;
        if (typeof to !== 'string' || !WA_NUMBER.test(to)) return invalidParameter('to is not a valid WhatsApp number');
        if (body.type !== 'template') return invalidParameter('the fake accepts template messages only');
        const template = isRecord(body.template) ? body.template : {};
        const language = isRecord(template.language) ? template.language : {};
        if (typeof template.name !== 'string' || typeof language.code !== 'string') {
          return invalidParameter('template.name and template.language.code are required');
        }
        if (template.name.startsWith('missing_')) return json(404, missingTemplate(template.name));
        state.whatsappMessages++;
        const waId = to.replace(/^\+/, '');
        return json(200, {
          messaging_product: 'whatsapp',
          contacts: [{ input: to, wa_id: waId }],
          messages: [{ id: `wamid.${Buffer.from(`${waId}:${randomString(16)}`).toString('base64')}`, message_status: 'accepted' }],
        });
      },
    },
  ],
  faultBodies: {
    status: (status) => {
      if (status === 400) return throughputLimit();
      if (status === 401) return expiredToken();
      if (status === 404) return missingTemplate('injected_fault');
      if (status === 503) return graphErrorBody(133004, '(#133004) Server is temporarily unavailable', 'OAuthException');
      return graphErrorBody(131000, '(#131000) Something went wrong', 'OAuthException');
    },
    rateLimit: () => throughputLimit(),
    validation: () => invalidParameter('template.components: parameter count mismatch').body,
  },
};
