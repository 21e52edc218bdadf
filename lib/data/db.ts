/**
 * PostgreSQL access: one pool per process, created lazily so that importing a module never opens
 * a connection.
 */
import { Pool, type PoolConfig } from 'pg';
import type { Logger } from '../logger';

export function createPool(connectionString: string, options: PoolConfig = {}, logger?: Logger): Pool {
  const pool = new Pool({ connectionString, max: 10, idleTimeoutMillis: 30_000, ...options });
  // An idle client losing its connection (e.g. PostgreSQL restart) must not crash the process;
  // the next query gets a fresh connection.
  pool.on('error', (err) => logger?.warn({ err: err.message }, 'idle PostgreSQL connection lost'));
  // A checked-out client has no pool listener: losing its connection between two queries (e.g. the
  // inbox drainer's batch while its Temporal starts are in flight) emitted an unhandled 'error' and
  // killed the process. Its next query fails instead, and the client is discarded on release.
  pool.on('connect', (client) => client.on('error', (err) => logger?.debug({ err: err.message }, 'PostgreSQL connection lost while checked out')));
  return pool;
}

/** Does PostgreSQL answer? (The API's readiness check.) */
export async function pingDatabase(pool: Pick<Pool, 'query'>): Promise<void> {
  await pool.query('SELECT 1');
}
