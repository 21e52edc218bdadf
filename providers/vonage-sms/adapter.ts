/**
 * Vonage SMS adapter (the legacy SMS API, `POST /sms/json`), the failover backup for Twilio. Vonage
 * reports most failures inside an HTTP 200, per message part, so the answer's `messages[].status`
 * is classified here: "0" sent, "1" throttled (retryable), anything else rejected with Vonage's
 * `error-text` as the code.
 */
import { answerField, providerRequest, requireCredential, type ProviderResponse } from '../core/http-core';
import { sendSmsParams, smsSender, type SendSmsParams } from '../core/sms-params';
import type { OperationAdapter, ProviderAdapter } from '../core/adapter-types';

const vonageThrottled = '1';

/** What failed inside a 200 answer, or null when every message part was accepted. */
export function vonageMessageFailure(response: ProviderResponse) {
  const { body } = response;
  const messages: unknown = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).messages : undefined;
  const parts: readonly unknown[] = Array.isArray(messages) ? messages : [];
  // Without a per-part status nobody can tell whether the message went out: retry (same key).
  if (parts.length === 0) return { outcome: 'unavailable' as const, code: null, message: 'answer without messages' };
  for (const part of parts) {
    const status = answerField(part, 'status');
    if (status === '0') continue;
    return {
      outcome: status === vonageThrottled ? ('throttled' as const) : ('rejected' as const),
      code: answerField(part, 'error-text') ?? `status ${status ?? 'missing'}`,
      message: `Vonage message status ${status ?? 'missing'}`,
    };
  }
  return null;
}

const sendSms: OperationAdapter<SendSmsParams> = {
  params: sendSmsParams,
  recipients: (params) => [{ channel: 'sms', address: params.to }],
  async run(params, ctx) {
    const { body } = await providerRequest({
      ctx,
      method: 'POST',
      path: '/sms/json',
      form: {
        api_key: requireCredential(ctx, 'apiKey'),
        api_secret: requireCredential(ctx, 'apiSecret'),
        from: smsSender(params, ctx).replace(/^\+/, ''),
        // Vonage takes E.164 digits without the leading "+".
        to: params.to.replace(/^\+/, ''),
        text: params.body,
      },
      failureIn: vonageMessageFailure,
    });
    // `to` as the caller gave it, so results read the same whichever SMS provider sent the message.
    return { data: { messageId: answerField(body, 'messages', 0, 'message-id'), to: params.to } };
  },
};

export const vonageSmsAdapter: ProviderAdapter = { sendSms };
