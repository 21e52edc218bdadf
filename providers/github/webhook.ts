/**
 * GitHub's X-Hub-Signature-256: HMAC-SHA256 of the raw body keyed by the webhook secret, as
 * "sha256=<hex>". GitHub ships no CommonJS verifier, so this is node:crypto with a constant-time
 * compare. GitHub signs no timestamp: redeliveries are absorbed by the X-GitHub-Delivery id.
 * Configure the GitHub webhook with content type application/json.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { digestsEqual } from '../core/constant-time';
import { eventIdSchema, eventTypeSchema, invalidBody, noSecretConfigured, parseJsonBody } from '../core/event-parsing';
import type { SignatureScheme } from '../core/scheme-types';

export type GithubOptions = Record<string, never>;

const signatureHeader = /^sha256=([0-9a-fA-F]{64})$/;

const githubHeaders = z.object({
  'x-github-delivery': eventIdSchema,
  'x-github-event': z.string().regex(/^[a-z0-9_]{1,100}$/, 'must be a GitHub event name'),
});

const githubBody = z.looseObject({ action: eventTypeSchema.optional() });

export const githubScheme: SignatureScheme<GithubOptions> = {
  contentTypes: ['application/json'],
  verify(request, secrets) {
    const header = request.headers['x-hub-signature-256'];
    if (!header) return { ok: false, reason: 'missing X-Hub-Signature-256 header' };
    const hex = signatureHeader.exec(header)?.[1];
    if (hex === undefined) return { ok: false, reason: 'X-Hub-Signature-256 is not "sha256=" followed by 64 hex digits' };
    if (secrets.length === 0) return noSecretConfigured;
    const received = Buffer.from(hex, 'hex');
    for (const secret of secrets) {
      const expected = createHmac('sha256', secret).update(request.rawBody).digest();
      if (digestsEqual(received, expected)) return { ok: true };
    }
    return { ok: false, reason: 'X-Hub-Signature-256 does not match the body for any live secret' };
  },
  extract(request) {
    const headers = githubHeaders.safeParse(request.headers);
    if (!headers.success) return invalidBody('GitHub delivery headers are missing or invalid', headers.error);
    const body = parseJsonBody(request.rawBody);
    if (!body.ok) return body;
    const parsed = githubBody.safeParse(body.value);
    if (!parsed.success) return invalidBody('body is not a GitHub event payload (an object)', parsed.error);
    const { action } = parsed.data;
    return {
      ok: true,
      events: [
        {
          eventId: headers.data['x-github-delivery'],
          eventType: action === undefined ? headers.data['x-github-event'] : `${headers.data['x-github-event']}.${action}`,
          payload: parsed.data,
        },
      ],
    };
  },
};
