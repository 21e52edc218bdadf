/**
 * SendGrid adapter: v3 Mail Send over the shared HTTP core. SendGrid answers 202 with an empty
 * body; the message id it assigns travels in the `X-Message-Id` header.
 */
import { z } from 'zod';
import { providerRequest, requireCredential } from './http-core';
import type { OperationAdapter, ProviderAdapter, ProviderCallContext } from './types';

const defaultSender = 'no-reply@switchyard.local';

const sendMailParams = z.object({
  to: z.email(),
  /** Defaults to the provider's `from` credential, else no-reply@switchyard.local. */
  from: z.email().optional(),
  subject: z.string().min(1),
  text: z.string(),
});
export type SendMailParams = z.infer<typeof sendMailParams>;

/** One v3 mail send: the same message, one personalization per recipient. */
async function postMail(
  ctx: ProviderCallContext,
  to: readonly string[],
  message: { from?: string; subject: string; text: string; subjects?: readonly string[] },
) {
  const response = await providerRequest({
    ctx,
    method: 'POST',
    path: '/v3/mail/send',
    headers: { authorization: `Bearer ${requireCredential(ctx, 'apiKey')}` },
    json: {
      // A personalization's own subject overrides the message's (SendGrid v3), so one request can
      // carry recipients whose subjects differ.
      personalizations: to.map((email, i) => {
        const subject = message.subjects?.[i];
        return subject !== undefined && subject !== message.subject ? { to: [{ email }], subject } : { to: [{ email }] };
      }),
      from: { email: message.from ?? ctx.credentials.from ?? defaultSender },
      subject: message.subject,
      content: [{ type: 'text/plain', value: message.text }],
    },
  });
  return response.headers['x-message-id'] ?? null;
}

const sendMail: OperationAdapter<SendMailParams> = {
  params: sendMailParams,
  async run(params, ctx) {
    return { data: { messageId: await postMail(ctx, [params.to], params) } };
  },
};

const sendMailBatchParams = z.object({
  /** One personalization per recipient: up to 1000 per request (SendGrid's limit). */
  to: z.array(z.email()).min(1).max(1000),
  from: z.email().optional(),
  subject: z.string().min(1),
  /** Per-recipient subjects (same order as `to`); the message `subject` is the default. */
  subjects: z.array(z.string().min(1)).max(1000).optional(),
  text: z.string(),
}).refine((p) => p.subjects === undefined || p.subjects.length === p.to.length, { message: 'one subject per recipient', path: ['subjects'] });
export type SendMailBatchParams = z.infer<typeof sendMailBatchParams>;

/** The same message to many recipients in one request (the batch workflow's SendGrid mode). */
const sendMailBatch: OperationAdapter<SendMailBatchParams> = {
  params: sendMailBatchParams,
  async run(params, ctx) {
    return { data: { messageId: await postMail(ctx, params.to, params), recipients: params.to.length } };
  },
};

export const sendgridAdapter: ProviderAdapter = { sendMail, sendMailBatch };
