/**
 * WhatsApp Business Cloud API adapter: one template message, `POST /{version}/{phone-number-id}/messages`
 * on graph.facebook.com with the system user's bearer token. Business-initiated conversations
 * must open with an approved template, so that is the one operation. The Graph API names the
 * reason of a failure by its numeric `error.code`, not by the HTTP status (the throughput limit
 * 130429 comes as a 400), so failures are classified by code here (`whatsappFailureOutcome`).
 */
import { z } from 'zod';
import type { ProviderOutcome } from '../core/classify';
import { answerField, providerRequest, requireCredential, type ProviderResponse } from '../core/http-core';
import type { OperationAdapter, ProviderAdapter } from '../core/adapter-types';

/** The Graph API version the adapter speaks (Meta keeps each for about two years). */
export const graphApiVersion = 'v21.0';

/** WhatsApp's `to`: the number in international format, digits with an optional leading "+". */
const whatsappNumber = z.string().regex(/^\+?[1-9]\d{6,14}$/, 'a phone number in international format (E.164), e.g. +16505551234');

/** One template parameter: Meta's types, their own fields passed as given (text, currency, date_time, image, …). */
const templateParameter = z.looseObject({
  type: z.enum(['text', 'currency', 'date_time', 'image', 'document', 'video', 'location', 'payload', 'coupon_code', 'action']),
});

const templateComponent = z.object({
  type: z.enum(['header', 'body', 'button', 'footer']),
  /** Buttons only: `quick_reply`, `url`, `copy_code`, … */
  sub_type: z.string().min(1).max(40).optional(),
  /** Buttons only: the button's position, "0".."9". */
  index: z.union([z.string().regex(/^\d$/), z.number().int().min(0).max(9)]).optional(),
  parameters: z.array(templateParameter).max(100).default([]),
});

const sendTemplateParams = z.object({
  to: whatsappNumber,
  /** The approved template's name (lowercase letters, digits, underscores). */
  template: z.string().regex(/^[a-z0-9_]{1,512}$/, 'a template name: lowercase letters, digits and "_"'),
  /** The template translation's language code, e.g. en_US, pt_BR, de. */
  language: z.string().regex(/^[a-z]{2,3}(_[A-Z]{2})?$/, 'a language code such as en_US').default('en_US'),
  components: z.array(templateComponent).max(20).default([]),
});
export type SendTemplateParams = z.infer<typeof sendTemplateParams>;

/**
 * Graph API error codes (developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes)
 * whose verdict differs from their HTTP status's. Throttling: 4 app-level, 80007 account-level,
 * 130429 throughput, 131048 spam rate limit, 131056 too many messages to one user. Passing
 * trouble on Meta's side: 1 unknown, 2 service, 131000 something went wrong, 131016 service
 * unavailable, 133004 server temporarily unavailable. Everything else (190 token expired,
 * 131047 re-engagement window closed, 132001 template missing, 131026 undeliverable, 100 invalid
 * parameter, …) is judged by its status: a 4xx would be refused again.
 */
const throttledCodes = new Set(['4', '80007', '130429', '131048', '131056']);
const transientCodes = new Set(['1', '2', '131000', '131016', '133004']);

export function whatsappFailureOutcome(response: Pick<ProviderResponse, 'body'>): { outcome: Exclude<ProviderOutcome, 'success'> } | null {
  const code = answerField(response.body, 'error', 'code');
  if (code === null) return null;
  if (throttledCodes.has(code)) return { outcome: 'throttled' };
  if (transientCodes.has(code)) return { outcome: 'unavailable' };
  return null;
}

const sendTemplate: OperationAdapter<SendTemplateParams> = {
  params: sendTemplateParams,
  async run(params, ctx) {
    const phoneNumberId = requireCredential(ctx, 'phoneNumberId');
    const { body } = await providerRequest({
      ctx,
      method: 'POST',
      path: `/${graphApiVersion}/${encodeURIComponent(phoneNumberId)}/messages`,
      headers: { authorization: `Bearer ${requireCredential(ctx, 'accessToken')}` },
      json: {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: params.to,
        type: 'template',
        template: { name: params.template, language: { code: params.language }, components: params.components },
      },
      failureOutcome: whatsappFailureOutcome,
    });
    return {
      data: {
        messageId: answerField(body, 'messages', 0, 'id'),
        waId: answerField(body, 'contacts', 0, 'wa_id'),
        messageStatus: answerField(body, 'messages', 0, 'message_status'),
        to: params.to,
      },
    };
  },
};

export const whatsappAdapter: ProviderAdapter = { sendTemplate };
