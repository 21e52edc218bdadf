/**
 * OpenAI's token-priced cost on the real Temporal dev server and PostgreSQL: a chat completion
 * reserves the estimate of its params (prompt length, max tokens) before it is sent, is settled
 * at the answer's usage times the registry's per-1K-token prices, and /stats/spend shows that
 * figure; a call whose estimate would pass the budget's throttle line is refused before it starts;
 * a model without a price is refused with 400. A provider of its own per run: its ledger is the
 * test's alone.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { ProviderConfig } from '../../lib/config/registry';
import { defaultCompletionTokenEstimate } from '../../providers/openai/adapter';
import type { FakeProviders } from '../fakes/provider-server';
import { eventually, startStack, type RunningApi, type TestStack } from '../support/harness';

const run = randomUUID().slice(0, 8);
const provider = `openai-${run}`;
const tight = `openai-tight-${run}`;

let stack: TestStack;
let pool: Pool;
let fakes: FakeProviders;
let api: RunningApi;

beforeAll(async () => {
  ({ pool, fakes, api } = stack = await startStack({
    config: { CALL_WAIT_MS: 30_000 },
    registry: (r) => {
      const base: ProviderConfig = r.openai!;
      r[provider] = { ...structuredClone(base), name: provider };
      // $0.01 a day: refused past $0.009.
      r[tight] = { ...structuredClone(base), name: tight, budget: { dailyUsd: 0.01, monthlyUsd: 1 } };
    },
  }));
});

afterAll(() => stack?.close());

beforeEach(() => fakes.clearFaults());

interface CallAnswer {
  status: number;
  json: {
    workflowId?: string;
    status?: string;
    error?: string;
    reason?: string;
  };
}

async function call(name: string, params: unknown, wait = true): Promise<CallAnswer> {
  const res = await api.fetch(`/calls/${name}/createChatCompletion${wait ? '' : '?wait=0'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ params }),
  });
  return { status: res.status, json: (await res.json()) as CallAnswer['json'] };
}

async function ledger(workflowId: string): Promise<Array<{ status: string; amount: number }>> {
  const { rows } = await pool.query<{ status: string; amount_usd: string }>('SELECT status, amount_usd FROM cost_ledger WHERE workflow_id = $1', [workflowId]);
  return rows.map((row) => ({ status: row.status, amount: Number(row.amount_usd) }));
}

const gpt4o = { promptPer1kUsd: 0.0025, completionPer1kUsd: 0.01 };
const usd = (amount: number): number => Math.round(amount * 1e6) / 1e6;

test('the estimate is reserved while the call runs; the ledger is settled at usage × per-1K prices, and /stats/spend shows it', async () => {
  // 2000 bytes of prompt: the estimate is 667 + 4 + 3 tokens of prompt and the 500 tokens allowed.
  const content = 'Summarise the booking history. '.padEnd(2000, 'x');
  const params = { model: 'gpt-4o', messages: [{ role: 'user', content }], maxCompletionTokens: 500 };
  const estimate = usd(((Math.ceil(2000 / 3) + 4 + 3) / 1000) * gpt4o.promptPer1kUsd + (500 / 1000) * gpt4o.completionPer1kUsd);
  fakes.addFault({ provider: 'openai', operation: 'createChatCompletion', kind: 'latency', latencyMs: 1500, times: 1 });

  const started = await call(provider, params, false);
  expect(started.status).toBe(202);
  const workflowId = started.json.workflowId!;
  // While OpenAI is answering, the call holds the estimate of its params. The wait covers a slow
  // first workflow task on a loaded machine: in a CI rehearsal the call reached the provider 12 s
  // after its start, past the 10 s this waited, and then took the next test's fault.
  await eventually(async () => ((await ledger(workflowId)).some((row) => row.status === 'reserved' && row.amount === estimate) ? true : undefined), 30_000);

  // GET /calls/{id} answers the call's status, whose result is the provider's data.
  const done = await eventually(async () => {
    const res = await api.fetch(`/calls/${encodeURIComponent(workflowId)}`);
    const body = (await res.json()) as { status: string; result: { usage: { promptTokens: number; completionTokens: number }; costUsd: number } };
    return body.status === 'completed' ? body : undefined;
  }, 20_000);
  const { usage, costUsd } = done.result;
  // The fake counts a token per 4 characters: 500 of prompt, and the echo of it.
  expect(usage.promptTokens).toBe(500);
  expect(usage.completionTokens).toBeGreaterThan(500);
  const actual = usd((usage.promptTokens / 1000) * gpt4o.promptPer1kUsd + (usage.completionTokens / 1000) * gpt4o.completionPer1kUsd);
  expect(costUsd).toBe(actual);
  // Above the estimate's completion part: the real figure is recorded, not the reservation's.
  expect(actual).not.toBe(estimate);
  expect(await ledger(workflowId)).toEqual([{ status: 'settled', amount: actual }]);

  const spend = await api.fetch('/stats/spend');
  const series = (await spend.json()) as { providers: Array<{ provider: string; usd: number[] }> };
  const ours = series.providers.find((p) => p.provider === provider)!;
  expect(usd(ours.usd.reduce((sum, value) => sum + value, 0))).toBe(actual);
});

test('a failed call returns its raised reservation', async () => {
  fakes.addFault({ provider: 'openai', operation: 'createChatCompletion', kind: 'validation', times: 1 });
  const answer = await call(provider, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
  expect(answer.json.status).toBe('failed');
  expect(await ledger(answer.json.workflowId!)).toEqual([{ status: 'released', amount: expect.any(Number) as number }]);
});

test('a call whose estimate would pass the throttle line is refused (429) before it starts; a cheap one runs', async () => {
  const before = fakes.requests({ provider: 'openai' }).length;
  // gpt-4o with the default 4096 completion tokens reserved: about $0.04, past $0.009.
  expect(defaultCompletionTokenEstimate).toBe(4096);
  const refused = await call(tight, { model: 'gpt-4o', messages: [{ role: 'user', content: 'Write a long story' }] });
  expect(refused.status).toBe(429);
  expect(refused.json).toMatchObject({ error: 'budget_exceeded', reason: expect.stringMatching(/daily budget/) as unknown });
  expect(fakes.requests({ provider: 'openai' })).toHaveLength(before);

  const cheap = await call(tight, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hi' }], maxCompletionTokens: 16 });
  expect(cheap.json.status).toBe('completed');
});

test('a model without a price, or named like an Object.prototype member, is refused with 400 before anything starts', async () => {
  const before = fakes.requests({ provider: 'openai' }).length;
  for (const model of ['gpt-unpriced', 'constructor', '__proto__', 'toString']) {
    const answer = await call(provider, { model, messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ error: 'invalid_params', reason: expect.stringMatching(/has no token price in the registry/) as unknown });
  }
  expect(fakes.requests({ provider: 'openai' })).toHaveLength(before);
});
