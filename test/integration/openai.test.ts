/**
 * OpenAI, added through the provider path in docs/CONTRIBUTING.md: calls through
 * POST /calls/openai/<operation> on the real Temporal dev server and PostgreSQL, against the fake
 * OpenAI API (test/fakes/providers/openai.ts): the wire format, the idempotency key, a 429 with
 * `retry-after` retried after exactly that delay, OpenAI's error body classified, and params
 * refused before anything starts.
 */
import { randomUUID } from 'node:crypto';
import type { FakeProviders } from '../fakes/provider-server';
import { startStack, type RunningApi, type TestStack } from '../support/harness';

let stack: TestStack;
let fakes: FakeProviders;
let api: RunningApi;

beforeAll(async () => {
  ({ fakes, api } = stack = await startStack({ config: { CALL_WAIT_MS: 30_000 } }));
});

afterAll(() => stack?.close());

beforeEach(() => {
  fakes.clearFaults();
});

interface CallAnswer {
  status: number;
  json: {
    status?: string;
    result?: { servedBy: string; data: Record<string, unknown> };
    error?: { message: string; type: string | null };
  };
}

async function call(operation: string, params: unknown): Promise<CallAnswer> {
  const res = await api.fetch(`/calls/openai/${operation}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ params }),
  });
  return { status: res.status, json: (await res.json()) as CallAnswer['json'] };
}

const chat = { messages: [{ role: 'user', content: 'Confirm booking 42' }], maxCompletionTokens: 64 };

test('a chat completion goes out in OpenAI wire format and comes back reduced to text and usage', async () => {
  const answer = await call('createChatCompletion', chat);
  expect(answer.status).toBe(200);
  expect(answer.json).toMatchObject({ status: 'completed', result: { servedBy: 'openai' } });
  const data = answer.json.result!.data;
  expect(data.id).toMatch(/^chatcmpl-/);
  expect(data.content).toContain('Confirm booking 42');
  expect(data.finishReason).toBe('stop');
  expect(data.requestId).toMatch(/^req_/);
  expect(data.usage).toMatchObject({ totalTokens: expect.any(Number) as number });

  const [sent] = fakes.requests({ provider: 'openai', operation: 'createChatCompletion' }).slice(-1);
  expect(sent!.headers.authorization).toMatch(/^Bearer sk-/);
  expect(sent!.idempotencyKey).toEqual(expect.any(String));
  expect(sent!.body).toMatchObject({ model: 'gpt-4o-mini', messages: chat.messages, max_completion_tokens: 64 });
});

test('embeddings: one vector per input', async () => {
  const answer = await call('createEmbedding', { input: ['first text', 'second text'] });
  expect(answer.json).toMatchObject({ status: 'completed', result: { data: { model: 'text-embedding-3-small' } } });
  const embeddings = answer.json.result!.data.embeddings as number[][];
  expect(embeddings).toHaveLength(2);
  expect(embeddings[0]!.length).toBeGreaterThan(0);
});

test('a 429 rate_limit_exceeded with retry-after is retried after that delay, with the same idempotency key', async () => {
  fakes.addFault({ provider: 'openai', operation: 'createChatCompletion', kind: 'rate-limit', retryAfterSeconds: 2, times: 1 });
  const before = fakes.requests({ provider: 'openai', operation: 'createChatCompletion' }).length;
  const answer = await call('createChatCompletion', chat);
  expect(answer.json).toMatchObject({ status: 'completed' });

  const attempts = fakes.requests({ provider: 'openai', operation: 'createChatCompletion' }).slice(before);
  expect(attempts.map((a) => a.status)).toEqual([429, 200]);
  expect(attempts[1]!.idempotencyKey).toBe(attempts[0]!.idempotencyKey);
  expect(Date.parse(attempts[1]!.at) - Date.parse(attempts[0]!.at)).toBeGreaterThanOrEqual(1900);
});

test("OpenAI's error body is classified: a 400 invalid_request_error fails the call at once with its code", async () => {
  fakes.addFault({ provider: 'openai', operation: 'createChatCompletion', kind: 'validation', times: 1 });
  const answer = await call('createChatCompletion', chat);
  expect(answer.json).toMatchObject({ status: 'failed', error: { type: 'ProviderRejected' } });
  expect(answer.json.error!.message).toMatch(/missing_required_parameter/);
});

test('params that fail the schema are refused with 400 before anything starts', async () => {
  const before = fakes.requests({ provider: 'openai' }).length;
  const answer = await call('createChatCompletion', { messages: [] });
  expect(answer.status).toBe(400);
  expect(fakes.requests({ provider: 'openai' })).toHaveLength(before);
});
