/**
 * The PostgreSQL pool gauges, on the API's and the worker's metrics registries alike: how full each
 * process's pool is, read at scrape time.
 */
import type { Pool } from 'pg';
import { Gauge, type Registry } from 'prom-client';

/**
 * The PostgreSQL pool of this process at scrape time: `database_connections{state}` (total, idle,
 * waiting: clients open, idle in the pool, requests queued for one) and the seeds'
 * `database_connections_active` (open and checked out: total - idle).
 */
export function exportPoolGauges(registry: Registry, pool: Pick<Pool, 'totalCount' | 'idleCount' | 'waitingCount'>): void {
  new Gauge({
    name: 'database_connections',
    help: 'PostgreSQL pool clients by state: total (open), idle (in the pool), waiting (requests queued for a client)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
  new Gauge({
    name: 'database_connections_active',
    help: 'PostgreSQL pool clients checked out and in use (total - idle)',
    registers: [registry],
    collect() {
      this.set(pool.totalCount - pool.idleCount);
    },
  });
}
