/**
 * SendGrid adapter: v3 Mail Send over the shared HTTP core. SendGrid answers 202 with an empty
 * body; the message id it assigns travels in the `X-Message-Id` header.
 */
import { z } from 'zod';
import { providerErrorTypes, providerSetupFailure } from '../core/classify';
import { providerRequest, requireCredential } from '../core/http-core';
import type { OperationAdapter, ProviderAdapter, ProviderCallContext } from '../core/adapter-types';

const defaultSender = 'no-reply@switchyard.local';

const sendMailParams = z.object({
  to: z.email(),
  /** Defaults to the provider's `from` credential, else no-reply@switchyard.local. */
  from: z.email().optional(),
  subject: z.string().min(1),
  text: z.string(),
});
export type SendMailParams = z.infer<typeof sendMailParams>;

/** One v3 mail send: the same message, one personalization per recipient (with its own subject when it differs). */
async function postMail(
  ctx: ProviderCallContext,
  recipients: ReadonlyArray<{ to: string; subject?: string | undefined }>,
  message: { from?: string | undefined; subject: string; text: string },
) {
  const response = await providerRequest({
    ctx,
    method: 'POST',
    path: '/v3/mail/send',
    headers: { authorization: `Bearer ${requireCredential(ctx, 'apiKey')}` },
    json: {
      // A personalization's own subject overrides the message's (SendGrid v3), so one request can
      // carry recipients whose subjects differ.
      personalizations: recipients.map(({ to, subject }) =>
        subject !== undefined && subject !== message.subject ? { to: [{ email: to }], subject } : { to: [{ email: to }] },
      ),
      from: { email: message.from ?? ctx.credentials.from ?? defaultSender },
      subject: message.subject,
      content: [{ type: 'text/plain', value: message.text }],
    },
  });
  return response.headers['x-message-id'] ?? null;
}

const sendMail: OperationAdapter<SendMailParams> = {
  params: sendMailParams,
  recipients: (params) => [{ channel: 'email', address: params.to }],
  async run(params, ctx) {
    return { data: { messageId: await postMail(ctx, [params], params) } };
  },
};

const sendMailBatchParams = z.object({
  /** One personalization per recipient, up to 1000 per request (SendGrid's limit); `subject` overrides the message's. */
  recipients: z.array(z.object({ to: z.email(), subject: z.string().min(1).optional() })).min(1).max(1000),
  from: z.email().optional(),
  /** The default subject: the first recipient's when absent. */
  subject: z.string().min(1).optional(),
  text: z.string(),
});
export type SendMailBatchParams = z.infer<typeof sendMailBatchParams>;

/** The same message to many recipients in one request (the batch workflow's `grouped` mode). */
const sendMailBatch: OperationAdapter<SendMailBatchParams> = {
  params: sendMailBatchParams,
  recipients: (params) => params.recipients.map((r) => ({ channel: 'email' as const, address: r.to })),
  async run(params, ctx) {
    const subject = params.subject ?? params.recipients.find((r) => r.subject !== undefined)?.subject;
    if (subject === undefined) {
      throw providerSetupFailure({ provider: ctx.provider.name, operation: ctx.operation, type: providerErrorTypes.invalidRequest, code: 'missing_subject', message: 'a subject is required' });
    }
    return { data: { messageId: await postMail(ctx, params.recipients, { ...params, subject }), recipients: params.recipients.length } };
  },
};

export const sendgridAdapter: ProviderAdapter = { sendMail, sendMailBatch };
