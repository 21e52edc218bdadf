/**
 * SendGrid adapter: v3 Mail Send over the shared HTTP core. SendGrid answers 202 with an empty
 * body; the message id it assigns travels in the `X-Message-Id` header.
 */
import { z } from 'zod';
import { providerRequest, requireCredential } from './http-core';
import type { OperationAdapter, ProviderAdapter } from './types';

const defaultSender = 'no-reply@switchyard.local';

const sendMailParams = z.object({
  to: z.email(),
  /** Defaults to the provider's `from` credential, else no-reply@switchyard.local. */
  from: z.email().optional(),
  subject: z.string().min(1),
  text: z.string(),
});
export type SendMailParams = z.infer<typeof sendMailParams>;

const sendMail: OperationAdapter<SendMailParams> = {
  params: sendMailParams,
  async run(params, ctx) {
    const response = await providerRequest({
      ctx,
      method: 'POST',
      path: '/v3/mail/send',
      headers: { authorization: `Bearer ${requireCredential(ctx, 'apiKey')}` },
      json: {
        personalizations: [{ to: [{ email: params.to }] }],
        from: { email: params.from ?? ctx.credentials.from ?? defaultSender },
        subject: params.subject,
        content: [{ type: 'text/plain', value: params.text }],
      },
    });
    return { data: { messageId: response.headers['x-message-id'] ?? null } };
  },
};

export const sendgridAdapter: ProviderAdapter = { sendMail };
