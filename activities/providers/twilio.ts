/**
 * Twilio adapter: Programmable Messaging's "create message" over the shared HTTP core
 * (form-encoded, HTTP Basic auth with the account SID and auth token). The primary SMS provider;
 * Vonage (vonage-sms.ts) is its failover backup with the same `sendSms` params.
 */
import { answerField, providerRequest, requireCredential } from './http-core';
import { sendSmsParams, smsSender, type SendSmsParams } from './sms-params';
import type { OperationAdapter, ProviderAdapter } from './types';

const sendSms: OperationAdapter<SendSmsParams> = {
  params: sendSmsParams,
  async run(params, ctx) {
    const accountSid = requireCredential(ctx, 'accountSid');
    const authToken = requireCredential(ctx, 'authToken');
    const { body } = await providerRequest({
      ctx,
      method: 'POST',
      path: `/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`,
      headers: { authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}` },
      form: { To: params.to, From: smsSender(params, ctx), Body: params.body },
    });
    return { data: { sid: answerField(body, 'sid'), status: answerField(body, 'status'), to: answerField(body, 'to') ?? params.to } };
  },
};

export const twilioAdapter: ProviderAdapter = { sendSms };
