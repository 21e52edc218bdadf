/**
 * The provider read cache stays bounded, on the real PostgreSQL: expired entries are pruned, and
 * past the size cap the entries expiring soonest are evicted, a bounded batch at a time, every
 * `pruneEvery`-th write. Runs against a session-local copy of the table (a temporary table of the
 * same shape shadows it on one connection), so the cap never touches other suites' entries.
 */
import type { PoolClient } from 'pg';
import type { Pool } from 'pg';
import { createProviderCache, pruneProviderCache } from '../../lib/data/provider-cache';
import { testPool } from '../support/harness';

let pool: Pool;
let db: PoolClient;

beforeAll(async () => {
  pool = testPool();
  db = await pool.connect();
  await db.query('CREATE TEMPORARY TABLE provider_cache (LIKE public.provider_cache INCLUDING ALL)');
});

afterAll(async () => {
  db?.release(true);
  await pool?.end();
});

beforeEach(() => db.query('DELETE FROM provider_cache'));

const keys = async (): Promise<string[]> => (await db.query<{ key: string }>('SELECT key FROM provider_cache ORDER BY key')).rows.map((r) => r.key);

test('a prune deletes the expired entries, then the ones past the cap that expire soonest', async () => {
  for (let i = 0; i < 3; i++) await db.query(`INSERT INTO provider_cache (key, value, expires_at) VALUES ($1, '{}', now() - interval '1 minute')`, [`old-${i}`]);
  for (let i = 0; i < 6; i++) await db.query(`INSERT INTO provider_cache (key, value, expires_at) VALUES ($1, '{}', now() + make_interval(mins => $2))`, [`live-${i}`, i + 1]);
  expect(await pruneProviderCache(db, { maxEntries: 4, pruneBatch: 1000 })).toEqual({ expired: 3, evicted: 2 });
  // live-0 and live-1 expire first: they go.
  expect(await keys()).toEqual(['live-2', 'live-3', 'live-4', 'live-5']);
  expect(await pruneProviderCache(db, { maxEntries: 4, pruneBatch: 1000 })).toEqual({ expired: 0, evicted: 0 });
});

test('each prune deletes at most a batch; writes prune every pruneEvery-th time, so the cache settles at its cap', async () => {
  for (let i = 0; i < 5; i++) await db.query(`INSERT INTO provider_cache (key, value, expires_at) VALUES ($1, '{}', now() - interval '1 minute')`, [`old-${i}`]);
  expect(await pruneProviderCache(db, { maxEntries: 100, pruneBatch: 2 })).toEqual({ expired: 2, evicted: 0 });
  expect(await keys()).toHaveLength(3);

  const cache = createProviderCache(db, { maxEntries: 10, pruneEvery: 5, pruneBatch: 1000 });
  for (let i = 0; i < 4; i++) await cache.set(`t:p:op:${i}`, { i }, 60);
  expect(await keys()).toHaveLength(7); // no prune yet: 3 expired + 4 live
  await cache.set('t:p:op:4', { i: 4 }, 60); // the 5th write prunes the expired
  expect((await keys()).filter((k) => k.startsWith('old-'))).toEqual([]);
  for (let i = 5; i < 20; i++) await cache.set(`t:p:op:${i}`, { i }, 60 + i);
  expect(await keys()).toHaveLength(10);
  expect(await cache.get('t:p:op:19', 'p', 'op')).toEqual({ i: 19 });
});
