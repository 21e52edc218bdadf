/**
 * Google My Business (Business Profile API v4) on the real Temporal dev server and PostgreSQL,
 * through POST /calls/google-my-business/<operation> → providerCall → callProvider → the fake
 * (test/fakes/providers/google-my-business.ts): the token from the refresh grant at the fake
 * token endpoint, the reply as Google's PUT, the review list as a cached read, Google's error body
 * classified (404 NOT_FOUND fails at once, 503 is retried), hostile params refused with 400.
 */
import { randomUUID } from 'node:crypto';
import type { FakeProviders } from '../fakes/provider-server';
import { ISSUED_TOKEN_PREFIX } from '../fakes/providers/google-sheets';
import { startStack, type RunningApi, type TestStack } from '../support/harness';

let stack: TestStack;
let fakes: FakeProviders;
let api: RunningApi;

beforeAll(async () => {
  ({ fakes, api } = stack = await startStack({ config: { CALL_WAIT_MS: 30_000 } }));
});

afterAll(() => stack?.close());

beforeEach(() => fakes.clearFaults());

interface CallAnswer {
  status: number;
  json: {
    status?: string;
    result?: { servedBy: string; data: Record<string, unknown>; cached?: boolean };
    error?: { message: string; type: string | null };
  };
}

async function call(operation: string, params: unknown): Promise<CallAnswer> {
  const res = await api.fetch(`/calls/google-my-business/${operation}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ params }),
  });
  return { status: res.status, json: (await res.json()) as CallAnswer['json'] };
}

/** A location id of its own per test, so cached lists and replies never cross. */
const locationId = (): string => String(Date.now()) + String(Math.floor(Math.random() * 1000));
const accountId = '1234567890';

test('a reply is Google\'s PUT …/reviews/{id}/reply with {comment}, sent with a token from the refresh grant', async () => {
  const location = locationId();
  const answer = await call('replyToReview', { accountId, locationId: location, reviewId: `${location}-r2`, comment: 'Thank you for the feedback!' });
  expect(answer.status).toBe(200);
  expect(answer.json).toMatchObject({ status: 'completed', result: { servedBy: 'google-my-business', data: { reviewId: `${location}-r2`, comment: 'Thank you for the feedback!' } } });
  expect(answer.json.result!.data.updateTime).toEqual(expect.any(String));

  const [sent] = fakes.requests({ provider: 'google-my-business', operation: 'replyToReview' }).slice(-1);
  expect(sent).toMatchObject({ method: 'PUT', path: `/v4/accounts/${accountId}/locations/${location}/reviews/${location}-r2/reply`, body: { comment: 'Thank you for the feedback!' } });
  expect(sent!.headers.authorization).toMatch(new RegExp(`^Bearer ${ISSUED_TOKEN_PREFIX}`));
  expect(fakes.state().googleTokenRefreshes).toBeGreaterThanOrEqual(1);

  // The list shows the reply; a second identical read within the TTL is answered from the cache.
  const listed = await call('listReviews', { accountId, locationId: location });
  expect(listed.json).toMatchObject({ status: 'completed', result: { data: { totalReviewCount: 3, averageRating: 3.7, nextPageToken: null } } });
  const reviews = listed.json.result!.data.reviews as Array<{ reviewId: string; replied: boolean; starRating: string }>;
  expect(reviews.map((r) => [r.reviewId, r.starRating, r.replied])).toEqual([
    [`${location}-r1`, 'FIVE', false],
    [`${location}-r2`, 'FOUR', true],
    [`${location}-r3`, 'TWO', false],
  ]);
  const reads = fakes.requests({ provider: 'google-my-business', operation: 'listReviews' }).length;
  const again = await call('listReviews', { accountId, locationId: location });
  expect(again.json.result).toMatchObject({ cached: true, data: { totalReviewCount: 3 } });
  expect(fakes.requests({ provider: 'google-my-business', operation: 'listReviews' })).toHaveLength(reads);
});

test('the review list pages as Google does (pageSize, nextPageToken)', async () => {
  const location = locationId();
  const first = await call('listReviews', { accountId, locationId: location, pageSize: 2 });
  expect(first.json.result!.data).toMatchObject({ nextPageToken: '2' });
  expect(first.json.result!.data.reviews).toHaveLength(2);
  const second = await call('listReviews', { accountId, locationId: location, pageSize: 2, pageToken: '2' });
  expect(second.json.result!.data).toMatchObject({ nextPageToken: null });
  expect((second.json.result!.data.reviews as Array<{ reviewId: string }>).map((r) => r.reviewId)).toEqual([`${location}-r3`]);
});

test("Google's 404 NOT_FOUND fails the call at once (rejected, one request); a 503 is retried until Google takes the reply", async () => {
  const location = locationId();
  const before = fakes.requests({ provider: 'google-my-business', operation: 'replyToReview' }).length;
  const missing = await call('replyToReview', { accountId, locationId: location, reviewId: 'no-such-review', comment: 'Thanks' });
  expect(missing.json).toMatchObject({ status: 'failed', error: { type: 'ProviderRejected' } });
  expect(missing.json.error!.message).toMatch(/404 NOT_FOUND: Requested entity was not found/);
  expect(fakes.requests({ provider: 'google-my-business', operation: 'replyToReview' })).toHaveLength(before + 1);

  fakes.addFault({ provider: 'google-my-business', operation: 'replyToReview', kind: 'status', status: 503, times: 1 });
  const retried = await call('replyToReview', { accountId, locationId: location, reviewId: `${location}-r1`, comment: 'Thanks again' });
  expect(retried.json).toMatchObject({ status: 'completed', result: { data: { comment: 'Thanks again' } } });
  const attempts = fakes.requests({ provider: 'google-my-business', operation: 'replyToReview' }).slice(before + 1);
  expect(attempts.map((a) => a.status)).toEqual([503, 200]);
});

test('bad and hostile params are refused with 400 and a reason before anything starts', async () => {
  const before = fakes.requests({ provider: 'google-my-business' }).length;
  const cases: Array<[unknown, RegExp]> = [
    [{ accountId, locationId: '1', reviewId: 'r', comment: '   ' }, /comment/],
    [{ accountId: '__proto__', locationId: '1', reviewId: 'r', comment: 'hi' }, /accountId/],
    [{ accountId, locationId: 'constructor', reviewId: 'r', comment: 'hi' }, /locationId/],
    [{ accountId, locationId: '1', reviewId: '../../other', comment: 'hi' }, /reviewId/],
    [{ accountId, locationId: '1', reviewId: 'r', comment: 'x'.repeat(4097) }, /4096 bytes/],
  ];
  for (const [params, reason] of cases) {
    const answer = await call('replyToReview', params);
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.json)).toMatch(reason);
  }
  expect((await call('__proto__', { accountId, locationId: '1' })).status).toBe(404);
  expect(fakes.requests({ provider: 'google-my-business' })).toHaveLength(before);
});
