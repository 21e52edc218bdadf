/** The declared merge rule of Google Calendar updates after a 412 conflict (calendar-merge.ts). */
import { calendarMergeRule, mergeAttendees, mergeEventChanges } from '../../providers/google-calendar/calendar-merge';

const base = {
  summary: 'Check-in',
  description: 'room 4',
  start: '2030-05-01T10:00:00Z',
  end: '2030-05-01T11:00:00Z',
  attendees: ['ann@example.com', 'bob@example.com'],
};

test('the rule is declared per field: caller wins for scalar fields, attendees merge as a union', () => {
  expect(calendarMergeRule).toEqual({ summary: 'caller', description: 'caller', location: 'caller', start: 'caller', end: 'caller', attendees: 'union' });
});

test('fields the caller did not change are not sent (server wins); a concurrent change elsewhere survives', () => {
  const current = { ...base, description: 'room 7 (changed by someone else)' };
  const { patch, overwritten } = mergeEventChanges({ changes: { summary: 'Check-in (moved)' }, current, base });
  expect(patch).toEqual({ summary: 'Check-in (moved)' });
  expect(overwritten).toEqual([]);
});

test('a field both sides changed: the caller wins and the overwrite is reported', () => {
  const current = { ...base, summary: 'Renamed by someone else' };
  const { patch, overwritten } = mergeEventChanges({ changes: { summary: 'Mine' }, current, base });
  expect(patch).toEqual({ summary: 'Mine' });
  expect(overwritten).toEqual(['summary']);
});

test('no overwrite is reported when the concurrent change already equals the caller’s value, or when the base is unknown', () => {
  const same = mergeEventChanges({ changes: { start: '2030-05-01T12:00:00+02:00' }, current: { ...base, start: '2030-05-01T10:00:00.000Z' }, base: { ...base, start: '2030-05-01T09:00:00Z' } });
  expect(same.overwritten).toEqual([]);
  const unknownBase = mergeEventChanges({ changes: { summary: 'Mine' }, current: { ...base, summary: 'Theirs' }, base: null });
  expect(unknownBase).toEqual({ patch: { summary: 'Mine' }, overwritten: [] });
});

test('attendees: additions on both sides are kept, a removal on either side sticks (three-way, case-insensitive)', () => {
  // The caller adds carol and removes bob; someone else concurrently added dave and removed ann.
  const caller = ['ann@example.com', 'carol@example.com'];
  const current = ['BOB@example.com', 'dave@example.com'];
  expect(mergeAttendees(caller, current, base.attendees)).toEqual(['dave@example.com', 'carol@example.com']);
  const { patch } = mergeEventChanges({ changes: { attendees: caller }, current: { ...base, attendees: current }, base });
  expect(patch.attendees).toEqual(['dave@example.com', 'carol@example.com']);
});

test('attendees without a known base: a plain union, the server’s order first, no duplicates', () => {
  expect(mergeAttendees(['carol@example.com', 'Ann@example.com'], ['ann@example.com', 'bob@example.com'], null)).toEqual([
    'ann@example.com',
    'bob@example.com',
    'carol@example.com',
  ]);
});

test('without a conflict (current = base) the caller’s changes apply as given', () => {
  const changes = { summary: 'New', attendees: ['carol@example.com'] };
  expect(mergeEventChanges({ changes, current: base, base })).toEqual({ patch: changes, overwritten: [] });
});
