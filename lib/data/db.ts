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
  return pool;
}

/** Does PostgreSQL answer? (The API's readiness check.) */
export async function pingDatabase(pool: Pick<Pool, 'query'>): Promise<void> {
  await pool.query('SELECT 1');
}
