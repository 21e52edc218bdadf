/**
 * Google Calendar updates under concurrency: the fake keeps an ETag per event and answers a stale
 * `If-Match` with 412 `conditionNotMet`, like Google. First the adapter alone (If-Match sent, a
 * stale base version merged and retried, the retry loop bounded), then two `providerCall`
 * workflows on the real Temporal dev server updating one event at once: different fields both
 * land, the same field resolves by the declared rule (caller wins, the later writer), attendees
 * merge as a union.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { closeProviderConnections } from '../../providers/prepare-provider-call';
import { maxUpdateConflicts } from '../../providers/google-calendar/adapter';
import type { ProviderCallContext } from '../../providers/core/adapter-types';
import { OutboundPolicy } from '../../lib/security/outbound-policy';
import type { ProviderRegistry } from '../../lib/config/registry';
import type { FakeProviders } from '../fakes/provider-server';
import { startStack, type RunningApi, type TestStack } from '../support/harness';
import { sendProviderCall } from '../support/provider-calls';

const TOKEN = 'ya29.fake-google-token';
const CALENDAR = 'primary';

let stack: TestStack;
let fakes: FakeProviders;
let registry: ProviderRegistry;
let api: RunningApi;

beforeAll(async () => {
  ({ fakes, registry, api } = stack = await startStack({ config: { CALL_WAIT_MS: 45_000 } }));
});

afterAll(async () => {
  await stack?.close();
  await closeProviderConnections();
});

beforeEach(() => fakes.clearFaults());

interface WireEvent {
  etag: string;
  summary?: string;
  description?: string;
  location?: string;
  attendees?: { email: string; responseStatus?: string }[];
  start: { dateTime: string };
  end: { dateTime: string };
}

const eventUrl = (eventId: string) => `${fakes.url}/calendar/v3/calendars/${CALENDAR}/events/${eventId}`;
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

/** Creates an event straight at the fake (as another Google client would). */
async function createEvent(extra: Record<string, unknown> = {}): Promise<{ id: string; event: WireEvent }> {
  const id = randomUUID().replace(/-/g, '').slice(0, 20); // hex digits are base32hex, as Google requires
  const res = await fetch(`${fakes.url}/calendar/v3/calendars/${CALENDAR}/events`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ id, summary: 'Check-in', start: { dateTime: '2030-05-01T10:00:00Z' }, end: { dateTime: '2030-05-01T11:00:00Z' }, ...extra }),
  });
  expect(res.status).toBe(200);
  return { id, event: (await res.json()) as WireEvent };
}

async function readEvent(id: string): Promise<WireEvent> {
  const res = await fetch(eventUrl(id), { headers: auth });
  expect(res.status).toBe(200);
  return (await res.json()) as WireEvent;
}

async function patchEvent(id: string, body: unknown, ifMatch?: string): Promise<Response> {
  return fetch(eventUrl(id), { method: 'PATCH', headers: { ...auth, ...(ifMatch ? { 'if-match': ifMatch } : {}) }, body: JSON.stringify(body) });
}

const emails = (event: WireEvent) => (event.attendees ?? []).map((a) => a.email).sort();

/** The fake's Google Calendar requests from here on (reset() would also drop the events). */
function calendarRequestsFrom(): (operation?: string) => ReturnType<FakeProviders['requests']> {
  const seen = fakes.requests().length;
  return (operation) => fakes.requests().slice(seen).filter((r) => r.provider === 'google-calendar' && (operation === undefined || r.operation === operation));
}

describe('the fake speaks Calendar v3 updates with ETags', () => {
  test('PATCH changes the fields sent and the ETag; a stale If-Match is 412 conditionNotMet; PUT replaces; an empty time range is 400', async () => {
    const { id, event } = await createEvent({ description: 'room 4' });
    expect(event.etag).toMatch(/^"\d+"$/);
    const patched = await patchEvent(id, { summary: 'Renamed' }, event.etag);
    expect(patched.status).toBe(200);
    expect(patched.headers.get('etag')).not.toBe(event.etag);
    expect(await patched.json()).toMatchObject({ summary: 'Renamed', description: 'room 4', sequence: 1 });

    const stale = await patchEvent(id, { summary: 'Lost update' }, event.etag);
    expect(stale.status).toBe(412);
    expect(await stale.json()).toEqual({
      error: {
        code: 412,
        message: 'Precondition Failed',
        errors: [{ domain: 'global', reason: 'conditionNotMet', message: 'Precondition Failed', locationType: 'header', location: 'If-Match' }],
      },
    });
    expect((await readEvent(id)).summary).toBe('Renamed');

    const put = await fetch(eventUrl(id), {
      method: 'PUT',
      headers: { ...auth, 'if-match': '*' },
      body: JSON.stringify({ summary: 'Whole', start: { dateTime: '2030-05-02T10:00:00Z' }, end: { dateTime: '2030-05-02T10:30:00Z' } }),
    });
    expect(put.status).toBe(200);
    const replaced = await readEvent(id);
    expect(replaced).toMatchObject({ summary: 'Whole' });
    expect(replaced.description).toBeUndefined();

    const empty = await patchEvent(id, { end: { dateTime: '2030-05-01T00:00:00Z' } });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ error: { errors: [{ reason: 'timeRangeEmpty' }] } });
  });
});

describe('updateEvent (adapter)', () => {
  const outbound = new OutboundPolicy({ allow: ['127.0.0.1', '::1'], allowHttp: true });
  const ctx = (): ProviderCallContext => ({
    provider: registry['google-calendar']!,
    operation: 'updateEvent',
    credentials: { accessToken: TOKEN },
    idempotencyKey: randomUUID(),
    outbound,
  });

  test('reads the event, then PATCHes only the changed fields with If-Match = its ETag', async () => {
    const { id, event } = await createEvent({ description: 'room 4' });
    const since = calendarRequestsFrom();
    const result = await sendProviderCall(ctx(), { calendarId: CALENDAR, eventId: id, changes: { location: 'Lisbon' } });
    expect(result.data).toMatchObject({ id, status: 'confirmed', conflicts: 0, overwritten: [] });
    const requests = since();
    expect(requests.map((r) => `${r.method} ${r.operation} ${r.status}`)).toEqual(['GET getEvent 200', 'PATCH updateEvent 200']);
    expect(requests[1]?.headers['if-match']).toBe(event.etag);
    expect(requests[1]?.body).toEqual({ location: 'Lisbon' });
    const after = await readEvent(id);
    expect(after).toMatchObject({ location: 'Lisbon', description: 'room 4', summary: 'Check-in' });
    expect(result.data.etag).toBe(after.etag);
  });

  test('a stale baseEtag: 412, the event is re-read, the changes merged into it and sent again; the conflict is counted', async () => {
    const { id, event } = await createEvent({ attendees: [{ email: 'ann@example.com', responseStatus: 'accepted' }] });
    // Someone else changes the event after the caller saw it.
    expect((await patchEvent(id, { description: 'agenda v2', attendees: [{ email: 'ann@example.com', responseStatus: 'accepted' }, { email: 'bob@example.com' }] })).status).toBe(200);
    const since = calendarRequestsFrom();
    const result = await sendProviderCall(ctx(), {
      calendarId: CALENDAR,
      eventId: id,
      baseEtag: event.etag,
      changes: { summary: 'Check-in (room 9)', attendees: ['ann@example.com', 'carol@example.com'] },
    });
    expect(result.data).toMatchObject({ conflicts: 1 });
    expect(since().map((r) => `${r.method} ${r.status}`)).toEqual(['PATCH 412', 'GET 200', 'PATCH 200']);
    const after = await readEvent(id);
    expect(after).toMatchObject({ summary: 'Check-in (room 9)', description: 'agenda v2' });
    // Without the base's attendee list the merge is a plain union; ann keeps her response.
    expect(emails(after)).toEqual(['ann@example.com', 'bob@example.com', 'carol@example.com']);
    expect(after.attendees?.find((a) => a.email === 'ann@example.com')).toEqual({ email: 'ann@example.com', responseStatus: 'accepted' });
  });

  test(`the 412 → re-read → merge → retry loop is bounded (${maxUpdateConflicts} rounds), then fails retryably`, async () => {
    const { id } = await createEvent();
    fakes.addFault({ provider: 'google-calendar', operation: 'updateEvent', kind: 'status', status: 412, times: 2 });
    const recovered = await sendProviderCall(ctx(), { calendarId: CALENDAR, eventId: id, changes: { summary: 'After two conflicts' } });
    expect(recovered.data).toMatchObject({ conflicts: 2 });
    expect((await readEvent(id)).summary).toBe('After two conflicts');

    fakes.clearFaults();
    const since = calendarRequestsFrom();
    fakes.addFault({ provider: 'google-calendar', operation: 'updateEvent', kind: 'status', status: 412 });
    let failure: unknown;
    try {
      await sendProviderCall(ctx(), { calendarId: CALENDAR, eventId: id, changes: { summary: 'Never' } });
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'ProviderUnavailable', nonRetryable: false });
    expect((failure as Error).message).toBe(`google-calendar updateEvent: 412 badRequest: the event kept changing: ${maxUpdateConflicts + 1} conflicting updates in a row`);
    expect(since('updateEvent')).toHaveLength(maxUpdateConflicts + 1);
    fakes.clearFaults();
  });

  test('params are validated: something to change, real e-mails, end not before start', async () => {
    for (const changes of [{}, { attendees: ['not-an-email'] }, { start: '2030-05-01T10:00:00Z', end: '2030-05-01T09:00:00Z' }, { colour: 'red' }]) {
      await expect(sendProviderCall(ctx(), { calendarId: CALENDAR, eventId: 'abcde12345', changes })).rejects.toMatchObject({ type: 'InvalidCallParams' });
    }
  });
});

describe('two providerCall workflows updating one event at once (Temporal dev server)', () => {
  interface CallAnswer {
    status: string;
    result?: { data: { conflicts: number; overwritten: string[]; etag: string } };
    error?: unknown;
  }

  async function update(eventId: string, changes: Record<string, unknown>): Promise<CallAnswer> {
    const res = await api.fetch('/calls/google-calendar/updateEvent', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({ params: { calendarId: CALENDAR, eventId, changes } }),
    });
    const answer = (await res.json()) as CallAnswer;
    expect(res.status).toBe(200);
    return answer;
  }

  /**
   * Both calls read the event before either writes: the two reads are answered together once both
   * have arrived (each is processed at once, so both see the same ETag), which makes the second
   * PATCH stale for sure. Not a fixed delay: with no sticky cache the second call's read can come
   * seconds after the first.
   */
  function holdBothReads(): void {
    fakes.addFault({ provider: 'google-calendar', operation: 'getEvent', kind: 'hold', times: 2 });
  }

  test('different fields: both succeed, one after a conflict, and the event has both changes (attendees merged as a union)', async () => {
    const { id } = await createEvent({ attendees: [{ email: 'ann@example.com' }] });
    const since = calendarRequestsFrom();
    holdBothReads();
    const [a, b] = await Promise.all([
      update(id, { summary: 'Check-in (renamed by A)', attendees: ['ann@example.com', 'carol@example.com'] }),
      update(id, { location: 'Room 9 (set by B)', attendees: ['ann@example.com', 'dave@example.com'] }),
    ]);
    expect([a.status, b.status]).toEqual(['completed', 'completed']);
    expect([a.result!.data.conflicts, b.result!.data.conflicts].sort()).toEqual([0, 1]);
    const final = await readEvent(id);
    expect(final).toMatchObject({ summary: 'Check-in (renamed by A)', location: 'Room 9 (set by B)' });
    expect(emails(final)).toEqual(['ann@example.com', 'carol@example.com', 'dave@example.com']);
    expect(since('updateEvent').map((r) => r.status).sort()).toEqual([200, 200, 412]);
  });

  test('the same field: caller wins, so the call that resolved the conflict wrote last and reports the overwrite', async () => {
    const { id } = await createEvent();
    holdBothReads();
    const [a, b] = await Promise.all([update(id, { summary: 'Title from A' }), update(id, { summary: 'Title from B' })]);
    expect([a.status, b.status]).toEqual(['completed', 'completed']);
    const [winner, loser] = a.result!.data.conflicts === 1 ? [a, b] : [b, a];
    expect(winner.result!.data).toMatchObject({ conflicts: 1, overwritten: ['summary'] });
    expect(loser.result!.data).toMatchObject({ conflicts: 0, overwritten: [] });
    const final = await readEvent(id);
    expect(final.summary).toBe(winner === a ? 'Title from A' : 'Title from B');
    expect(final.etag).toBe(winner.result!.data.etag);
  });
});
