/**
 * Fake OpenAI API: Chat Completions, Embeddings and the model list (the health probe), on
 * OpenAI's paths with its JSON bodies, `x-request-id` and `x-ratelimit-*` headers, and its error
 * body `{error: {message, type, param, code}}` (401 invalid_api_key, 400 invalid_request_error,
 * 429 rate_limit_exceeded with `retry-after`). Completions echo the last user message; embeddings
 * are small deterministic vectors of the input.
 */
import { STATUS_CODES } from 'node:http';
import { bearerToken, isRecord } from '../http-io';
import { randomString } from '../random-ids';
import type { FakeResponse, ParsedRequest } from '../types';
import { json, type ProviderModule } from './provider-module';

const MODELS = ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small', 'text-embedding-3-large'];

function openaiError(status: number, message: string, type: string, code: string | null, param: string | null = null, headers: Record<string, string> = {}): FakeResponse {
  return json(status, { error: { message, type, param, code } }, { 'x-request-id': `req_${randomString(32)}`, ...headers });
}

/** The headers OpenAI puts on every answer, with the request budget as the fake reports it. */
function rateLimitHeaders(remaining: number): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': '500',
    'x-ratelimit-remaining-requests': String(remaining),
    'x-ratelimit-reset-requests': remaining > 0 ? '120ms' : '1s',
    'x-ratelimit-limit-tokens': '200000',
    'x-ratelimit-remaining-tokens': remaining > 0 ? '199000' : '0',
    'x-ratelimit-reset-tokens': remaining > 0 ? '300ms' : '1s',
  };
}

function ok(body: unknown): FakeResponse {
  return json(200, body, { 'x-request-id': `req_${randomString(32)}`, 'openai-processing-ms': '42', ...rateLimitHeaders(499) });
}

/** 401 unless `Authorization: Bearer sk-…`, as OpenAI answers a missing or wrong key. */
function unauthorized(req: ParsedRequest): FakeResponse | null {
  const token = bearerToken(req);
  if (token === null || token === undefined) {
    return openaiError(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", 'invalid_request_error', null);
  }
  if (!token.startsWith('sk-')) {
    return openaiError(401, `Incorrect API key provided: ${token.slice(0, 3)}***. You can find your API key at https://platform.openai.com/account/api-keys.`, 'invalid_request_error', 'invalid_api_key');
  }
  return null;
}

const tokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

function chatCompletion(req: ParsedRequest): FakeResponse {
  const body = isRecord(req.body) ? req.body : {};
  const model = body.model;
  if (typeof model !== 'string' || model === '') return openaiError(400, "Missing required parameter: 'model'.", 'invalid_request_error', 'missing_required_parameter', 'model');
  if (!MODELS.includes(model)) return openaiError(404, `The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found');
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    return openaiError(400, "Missing required parameter: 'messages'.", 'invalid_request_error', 'missing_required_parameter', 'messages');
  }
  if (!messages.every((m) => isRecord(m) && typeof m.role === 'string' && typeof m.content === 'string')) {
    return openaiError(400, "Invalid type for 'messages': each message needs a role and string content.", 'invalid_request_error', 'invalid_type', 'messages');
  }
  const checked = messages as { role: string; content: string }[];
  const texts = checked.map((m) => m.content);
  const lastUser = [...checked].reverse().find((m) => m.role === 'user');
  const content = `(fake ${model}) ${lastUser?.content ?? ''}`.trim();
  const promptTokens = texts.reduce((sum, text) => sum + tokens(text), 0);
  const completionTokens = tokens(content);
  return ok({
    id: `chatcmpl-${randomString(29)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: `${model}-2024-07-18`,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    service_tier: 'default',
    system_fingerprint: `fp_${randomString(10)}`,
  });
}

/** A small vector that depends only on the text, so equal inputs embed equally. */
function vectorOf(text: string, dimensions: number): number[] {
  let seed = 0;
  for (const char of text) seed = (seed * 31 + char.charCodeAt(0)) >>> 0;
  return Array.from({ length: dimensions }, (_, i) => Math.round(Math.sin(seed + i) * 1e6) / 1e6);
}

function embeddings(req: ParsedRequest): FakeResponse {
  const body = isRecord(req.body) ? req.body : {};
  const model = body.model;
  if (typeof model !== 'string' || model === '') return openaiError(400, "Missing required parameter: 'model'.", 'invalid_request_error', 'missing_required_parameter', 'model');
  const input = typeof body.input === 'string' ? [body.input] : Array.isArray(body.input) ? body.input : null;
  if (input === null || input.length === 0 || !input.every((text) => typeof text === 'string' && text !== '')) {
    return openaiError(400, "'input' must be a non-empty string or array of strings.", 'invalid_request_error', null, 'input');
  }
  const dimensions = typeof body.dimensions === 'number' ? Math.min(body.dimensions, 8) : 8;
  const promptTokens = (input as string[]).reduce((sum, text) => sum + tokens(text), 0);
  return ok({
    object: 'list',
    data: (input as string[]).map((text, index) => ({ object: 'embedding', index, embedding: vectorOf(text, dimensions) })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  });
}

export const openai: ProviderModule = {
  id: 'openai',
  routes: [
    {
      // The model list: the health probe. Faults on operation 'probe' (or on the whole provider) make it fail.
      method: 'GET',
      path: /^\/v1\/models$/,
      operation: 'probe',
      handle(req) {
        return unauthorized(req) ?? ok({ object: 'list', data: MODELS.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'system' })) });
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/chat\/completions$/,
      operation: 'createChatCompletion',
      handle(req) {
        return unauthorized(req) ?? chatCompletion(req);
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/embeddings$/,
      operation: 'createEmbedding',
      handle(req) {
        return unauthorized(req) ?? embeddings(req);
      },
    },
  ],
  faultBodies: {
    status: (status) => ({
      error: {
        message: status >= 500 ? 'The server had an error while processing your request. Sorry about that!' : (STATUS_CODES[status] ?? 'error'),
        type: status >= 500 ? 'server_error' : 'invalid_request_error',
        param: null,
        code: null,
      },
    }),
    rateLimit: () => ({
      error: {
        message: 'Rate limit reached for gpt-4o-mini in organization org-fake on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 1s.',
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      },
    }),
    rateLimitHeaders: () => rateLimitHeaders(0),
    validation: (_req, operation) => ({
      error: {
        message: operation === 'createEmbedding' ? "'input' must be a non-empty string or array of strings." : "Missing required parameter: 'messages'.",
        type: 'invalid_request_error',
        param: operation === 'createEmbedding' ? 'input' : 'messages',
        code: operation === 'createEmbedding' ? null : 'missing_required_parameter',
      },
    }),
  },
};
