/**
 * Heartbeats for activities that wait on someone else's server (a provider, a subscriber). While
 * the wait lasts the activity heartbeats at a fifth of its policy's `heartbeatTimeout`, so when its
 * worker dies (SIGKILL, lost host) the server notices after the heartbeat timeout and retries the
 * attempt on another worker, instead of only after the whole start-to-close timeout. The timeout
 * itself comes from the policy table (workflows/policies.ts); an activity without one sends
 * nothing. The first heartbeat goes out after one interval, so short calls cost no extra RPC.
 */
import { Context } from '@temporalio/activity';

/** Shortest interval between heartbeat calls (the worker further throttles what it sends). */
const MIN_INTERVAL_MS = 200;

export async function heartbeatWhile<T>(run: () => Promise<T>): Promise<T> {
  const context = Context.current();
  const timeoutMs = context.info.heartbeatTimeoutMs;
  if (!timeoutMs) return run();
  const timer = setInterval(() => context.heartbeat(), Math.max(MIN_INTERVAL_MS, Math.floor(timeoutMs / 5)));
  try {
    return await run();
  } finally {
    clearInterval(timer);
  }
}
