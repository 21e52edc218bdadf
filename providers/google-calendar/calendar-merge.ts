/**
 * How a Google Calendar `updateEvent` merges the caller's changes into an event that someone else
 * changed concurrently (the update's `If-Match` ETag was stale: 412 `conditionNotMet`). Pure, so
 * the rule is stated once, here, and unit-tested apart from any HTTP.
 *
 * The rule (`calendarMergeRule`), per field:
 * - a field the caller did not change: **server wins** (it is not sent; whatever the event has stays);
 * - `summary`, `description`, `location`, `start`, `end` the caller changed: **caller wins** (the
 *   caller's value is written even over a concurrent change to the same field, which is reported
 *   as `overwritten` when it can be told, i.e. when the version the caller started from is known);
 * - `attendees` (the full list the caller wants, by e-mail, case-insensitive): **union**, a
 *   three-way set merge against the version the caller started from: an attendee added on either
 *   side is kept, one removed on either side stays removed. Without that version (the caller sent
 *   only a stale `baseEtag`) removals cannot be told apart from additions and the merge is a
 *   plain union of the server's list and the caller's.
 */

export type MergeStrategy = 'caller' | 'union';

/** The fields updateEvent can change, and how each merges (fields not changed: server wins). */
export const calendarMergeRule = {
  summary: 'caller',
  description: 'caller',
  location: 'caller',
  start: 'caller',
  end: 'caller',
  attendees: 'union',
} as const satisfies Record<string, MergeStrategy>;

export type EventField = keyof typeof calendarMergeRule;
export const eventFields = Object.keys(calendarMergeRule) as EventField[];

/** Event fields in the caller's terms: times as ISO date-times, attendees as e-mail addresses. */
export interface EventFields {
  summary?: string;
  description?: string;
  location?: string;
  start?: string;
  end?: string;
  attendees?: string[];
}

export interface MergeInput {
  /** What the caller wants changed. */
  changes: EventFields;
  /** The event now (after the conflict: re-read). */
  current: EventFields;
  /** The version the caller's changes were made against; null when unknown. */
  base: EventFields | null;
}

export interface MergeResult {
  /** What to send (PATCH): only the fields the caller changed, merged. */
  patch: EventFields;
  /** Fields whose concurrent change was replaced by the caller's value (known only with a base). */
  overwritten: EventField[];
}

const emailKey = (email: string): string => email.trim().toLowerCase();

/** Attendee lists: three-way when the base is known, a plain union otherwise; server's order first. */
export function mergeAttendees(caller: readonly string[], current: readonly string[], base: readonly string[] | null): string[] {
  const inCaller = new Set(caller.map(emailKey));
  const inCurrent = new Set(current.map(emailKey));
  const inBase = base === null ? null : new Set(base.map(emailKey));
  const merged: string[] = [];
  const seen = new Set<string>();
  for (const email of [...current, ...caller]) {
    const key = emailKey(email);
    if (seen.has(key)) continue;
    seen.add(key);
    // Someone removed an attendee the base had: the removal sticks.
    if (inBase?.has(key) && !(inCaller.has(key) && inCurrent.has(key))) continue;
    merged.push(email);
  }
  return merged;
}

function sameAttendees(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const left = new Set((a ?? []).map(emailKey));
  const right = new Set((b ?? []).map(emailKey));
  return left.size === right.size && [...left].every((email) => right.has(email));
}

function sameValue(field: EventField, a: EventFields, b: EventFields): boolean {
  if (field === 'attendees') return sameAttendees(a.attendees, b.attendees);
  const left = a[field];
  const right = b[field];
  if (field === 'start' || field === 'end') {
    // The same instant in another offset is the same time.
    return left === right || (left !== undefined && right !== undefined && Date.parse(left) === Date.parse(right));
  }
  return left === right;
}

/** Applies `calendarMergeRule` to the caller's changes against the current event. */
export function mergeEventChanges({ changes, current, base }: MergeInput): MergeResult {
  const patch: EventFields = {};
  const overwritten: EventField[] = [];
  for (const field of eventFields) {
    if (changes[field] === undefined) continue; // server wins: not sent
    const strategy: MergeStrategy = calendarMergeRule[field];
    if (strategy === 'union') {
      patch.attendees = mergeAttendees(changes.attendees ?? [], current.attendees ?? [], base ? (base.attendees ?? []) : null);
      continue;
    }
    if (field === 'attendees') continue;
    patch[field] = changes[field];
    if (base && !sameValue(field, current, base) && !sameValue(field, current, changes)) overwritten.push(field);
  }
  return { patch, overwritten };
}
