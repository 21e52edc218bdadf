/**
 * Twilio adapter over the shared HTTP core (form-encoded, HTTP Basic auth with the account SID and
 * auth token): Programmable Messaging's "create message" for one SMS, and Twilio Notify's
 * "create notification" (host `notify`) for one message to many numbers, up to 10 000 SMS
 * bindings per request. The primary SMS provider; Vonage (vonage-sms.ts) is its failover backup
 * with the same `sendSms` params.
 */
import { z } from 'zod';
import { answerField, providerRequest, requireCredential } from '../core/http-core';
import { sendSmsParams, smsSender, type SendSmsParams } from '../core/sms-params';
import type { OperationAdapter, ProviderAdapter, ProviderCallContext } from '../core/adapter-types';

function basicAuth(ctx: ProviderCallContext): { accountSid: string; authorization: string } {
  const accountSid = requireCredential(ctx, 'accountSid');
  const authToken = requireCredential(ctx, 'authToken');
  return { accountSid, authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}` };
}

const sendSms: OperationAdapter<SendSmsParams> = {
  params: sendSmsParams,
  recipients: (params) => [{ channel: 'sms', address: params.to }],
  async run(params, ctx) {
    const { accountSid, authorization } = basicAuth(ctx);
    const { body } = await providerRequest({
      ctx,
      method: 'POST',
      path: `/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`,
      headers: { authorization },
      form: { To: params.to, From: smsSender(params, ctx), Body: params.body },
    });
    return { data: { sid: answerField(body, 'sid'), status: answerField(body, 'status'), to: answerField(body, 'to') ?? params.to } };
  },
};

const sendSmsBatchParams = z.object({
  /** E.164 numbers, one SMS binding each (Notify takes up to 10 000 per notification). */
  recipients: z.array(z.object({ to: z.string().min(1) })).min(1).max(10_000),
  body: z.string().min(1),
  /** Overrides the Notify service's messaging-service sender for these SMS. */
  from: z.string().min(1).optional(),
});
export type SendSmsBatchParams = z.infer<typeof sendSmsBatchParams>;

/** One message to many numbers in one request (the batch workflow's `grouped` mode for SMS). */
const sendSmsBatch: OperationAdapter<SendSmsBatchParams> = {
  params: sendSmsBatchParams,
  recipients: (params) => params.recipients.map((r) => ({ channel: 'sms' as const, address: r.to })),
  async run(params, ctx) {
    const { authorization } = basicAuth(ctx);
    const serviceSid = requireCredential(ctx, 'notifyServiceSid');
    const { body } = await providerRequest({
      ctx,
      host: 'notify',
      method: 'POST',
      path: `/v1/Services/${encodeURIComponent(serviceSid)}/Notifications`,
      headers: { authorization },
      form: {
        Body: params.body,
        ToBinding: params.recipients.map((r) => JSON.stringify({ binding_type: 'sms', address: r.to })),
        Sms: params.from === undefined ? undefined : JSON.stringify({ from: params.from }),
      },
    });
    return { data: { sid: answerField(body, 'sid'), recipients: params.recipients.length } };
  },
};

export const twilioAdapter: ProviderAdapter = { sendSms, sendSmsBatch };
