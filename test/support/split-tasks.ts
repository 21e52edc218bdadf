/**
 * The history a workflow task heartbeat would have written: the same events, with the task that
 * recorded a local-activity marker ending right after that marker and the commands that followed
 * it completed by a new task. The SDK completes a task so whenever local activities outlast 80 % of
 * the task timeout, which on a loaded machine can fall between a local activity's result and the
 * code that runs on it. Whether it happened in a test run is timing; this makes every such split
 * of a real history, so a replay test can check that the code's commands do not depend on where
 * its tasks ended (a `patched()` read after a local activity does).
 */
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';

export type History = temporal.api.history.v1.IHistory;
type JsonEvent = Record<string, unknown> & { eventId: string; eventType: string };

const LOCAL_ACTIVITY_MARKER = 'core_local_activity';
const TASK_EVENTS = new Set(['EVENT_TYPE_WORKFLOW_TASK_SCHEDULED', 'EVENT_TYPE_WORKFLOW_TASK_STARTED', 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED']);

function attributes(event: JsonEvent, name: string): Record<string, unknown> {
  return (event[name] ?? {}) as Record<string, unknown>;
}

/** Rewrites every `…EventId` field (they all point backwards) through `ids`. */
function renumber(value: unknown, ids: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => renumber(v, ids));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key, /EventId$/.test(key) && typeof v === 'string' && ids.has(v) ? ids.get(v) : renumber(v, ids)]),
  );
}

/**
 * The history split after every local-activity marker that is followed by more commands of the
 * same task, or undefined when it has none.
 */
export function splitAtLocalActivityMarkers(history: History): History | undefined {
  const { events } = JSON.parse(historyToJSON(history)) as { events: JsonEvent[] };
  const out: JsonEvent[] = [];
  const ids = new Map<string, string>();
  let lastScheduled: JsonEvent | undefined;
  let lastCompleted: JsonEvent | undefined;
  let splits = 0;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const newId = String(out.length + 1);
    ids.set(event.eventId, newId);
    out.push(renumber({ ...event, eventId: newId }, ids) as JsonEvent);
    if (event.eventType === 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED') lastScheduled = event;
    if (event.eventType === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED') lastCompleted = event;
    const next = events[i + 1];
    const isMarker = event.eventType === 'EVENT_TYPE_MARKER_RECORDED' && attributes(event, 'markerRecordedEventAttributes').markerName === LOCAL_ACTIVITY_MARKER;
    if (!isMarker || !next || TASK_EVENTS.has(next.eventType) || !lastScheduled || !lastCompleted) continue;
    // What a heartbeat writes: a new task scheduled, started and completed; later commands belong to it.
    const scheduledId = String(out.length + 1);
    const base = { eventTime: event.eventTime, taskId: event.taskId };
    const scheduledAttributes = attributes(lastScheduled, 'workflowTaskScheduledEventAttributes');
    out.push(
      {
        ...base,
        eventId: scheduledId,
        eventType: 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
        workflowTaskScheduledEventAttributes: { taskQueue: scheduledAttributes.taskQueue, startToCloseTimeout: scheduledAttributes.startToCloseTimeout, attempt: 1 },
      },
      {
        ...base,
        eventId: String(out.length + 2),
        eventType: 'EVENT_TYPE_WORKFLOW_TASK_STARTED',
        workflowTaskStartedEventAttributes: { scheduledEventId: scheduledId, identity: 'split-tasks', requestId: `split-${splits}` },
      },
      {
        ...base,
        eventId: String(out.length + 3),
        eventType: 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
        workflowTaskCompletedEventAttributes: { scheduledEventId: scheduledId, startedEventId: String(out.length + 2), identity: 'split-tasks' },
      },
    );
    // The commands after the marker were completed by the new task.
    ids.set(lastCompleted.eventId, String(out.length));
    splits++;
  }
  return splits === 0 ? undefined : historyFromJSON({ events: out });
}
