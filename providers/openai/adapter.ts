/**
 * OpenAI adapter: Chat Completions and Embeddings over the shared HTTP core (Bearer API key, the
 * core's Idempotency-Key on every POST, classification, metrics). OpenAI's error body,
 * `{error: {message, type, param, code}}`, is the shape the core reads generically, and its 429s
 * carry `retry-after`, which the core honours. Results keep what callers use (text, vectors,
 * token usage), not the whole answer: they are stored in workflow history.
 *
 * Both operations are token-priced (providers/core/token-cost.ts): `tokenEstimate` bounds what a
 * call may use from its params (the prompt's UTF-8 bytes / 3, more than OpenAI's tokenizer makes
 * of any text but the densest, plus `maxCompletionTokens`), and the result carries the answer's
 * `usage`, at which the call's cost is settled.
 */
import { z } from 'zod';
import { answerField, providerRequest, requireCredential } from '../core/http-core';
import type { OperationAdapter, ProviderAdapter, ProviderCallContext } from '../core/adapter-types';

const chatMessage = z.object({
  role: z.enum(['developer', 'system', 'user', 'assistant']),
  content: z.string().min(1).max(100_000),
});

const createChatCompletionParams = z.object({
  model: z.string().min(1).max(100).default('gpt-4o-mini'),
  messages: z.array(chatMessage).min(1).max(256),
  /** Upper bound on generated tokens (OpenAI's `max_completion_tokens`). */
  maxCompletionTokens: z.number().int().positive().max(128_000).optional(),
  temperature: z.number().min(0).max(2).optional(),
  /** A stable id of the end user, for OpenAI's abuse monitoring. */
  user: z.string().min(1).max(256).optional(),
});
export type CreateChatCompletionParams = z.infer<typeof createChatCompletionParams>;

const createEmbeddingParams = z.object({
  model: z.string().min(1).max(100).default('text-embedding-3-small'),
  /** One text or up to 16 (vectors are kept in history, so batches stay small). */
  input: z.union([z.string().min(1).max(30_000), z.array(z.string().min(1).max(30_000)).min(1).max(16)]),
  /** Shorter vectors (text-embedding-3 models only). */
  dimensions: z.number().int().positive().max(3072).optional(),
});
export type CreateEmbeddingParams = z.infer<typeof createEmbeddingParams>;

/** Generated tokens reserved for a completion that sets no `maxCompletionTokens`. */
export const defaultCompletionTokenEstimate = 4096;

/** An upper estimate of the tokens of `text` (OpenAI's tokenizers average about 4 bytes of English per token). */
export function promptTokenEstimate(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / 3);
}

function usageOf(body: unknown): { promptTokens: number; completionTokens: number; totalTokens: number } {
  const usage = typeof body === 'object' && body !== null ? (body as { usage?: Record<string, unknown> }).usage : undefined;
  const count = (value: unknown): number => (typeof value === 'number' ? value : 0);
  return { promptTokens: count(usage?.prompt_tokens), completionTokens: count(usage?.completion_tokens), totalTokens: count(usage?.total_tokens) };
}

function authorization(ctx: ProviderCallContext): Record<string, string> {
  return { authorization: `Bearer ${requireCredential(ctx, 'apiKey')}` };
}

const createChatCompletion: OperationAdapter<CreateChatCompletionParams> = {
  params: createChatCompletionParams,
  tokenEstimate: (params) => ({
    model: params.model,
    // Each message costs a few tokens of framing besides its content.
    promptTokens: params.messages.reduce((sum, message) => sum + promptTokenEstimate(message.content) + 4, 3),
    completionTokens: params.maxCompletionTokens ?? defaultCompletionTokenEstimate,
  }),
  async run(params, ctx) {
    const response = await providerRequest({
      ctx,
      method: 'POST',
      path: '/v1/chat/completions',
      headers: authorization(ctx),
      json: {
        model: params.model,
        messages: params.messages,
        max_completion_tokens: params.maxCompletionTokens,
        temperature: params.temperature,
        user: params.user,
      },
    });
    const usage = usageOf(response.body);
    return {
      usage: { model: params.model, promptTokens: usage.promptTokens, completionTokens: usage.completionTokens },
      data: {
        id: answerField(response.body, 'id'),
        model: answerField(response.body, 'model'),
        content: answerField(response.body, 'choices', 0, 'message', 'content'),
        finishReason: answerField(response.body, 'choices', 0, 'finish_reason'),
        usage,
        requestId: response.headers['x-request-id'] ?? null,
      },
    };
  },
};

const createEmbedding: OperationAdapter<CreateEmbeddingParams> = {
  params: createEmbeddingParams,
  tokenEstimate: (params) => ({
    model: params.model,
    promptTokens: (typeof params.input === 'string' ? [params.input] : params.input).reduce((sum, text) => sum + promptTokenEstimate(text), 0),
    completionTokens: 0,
  }),
  async run(params, ctx) {
    const response = await providerRequest({
      ctx,
      method: 'POST',
      path: '/v1/embeddings',
      headers: authorization(ctx),
      json: { model: params.model, input: params.input, dimensions: params.dimensions, encoding_format: 'float' },
    });
    const data = typeof response.body === 'object' && response.body !== null ? (response.body as { data?: unknown }).data : undefined;
    const embeddings = Array.isArray(data)
      ? data.map((item: unknown) => (typeof item === 'object' && item !== null ? (item as { embedding?: unknown }).embedding : null)).filter(Array.isArray)
      : [];
    const usage = usageOf(response.body);
    return {
      usage: { model: params.model, promptTokens: usage.promptTokens, completionTokens: 0 },
      data: { model: answerField(response.body, 'model'), embeddings, usage },
    };
  },
};

export const openaiAdapter: ProviderAdapter = { createChatCompletion, createEmbedding };
