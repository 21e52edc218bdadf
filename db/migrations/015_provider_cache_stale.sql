-- Graceful degradation (docs/CALLS.md, step 7): a read whose operation declares
-- staleIfErrorSeconds keeps its cached value past expiry, until stale_until, to answer (marked
-- stale) while the provider is down or its circuit is open. Pruning goes by the later of the two.
-- Nullable: a worker of the previous release writes no stale_until while a new one starts.
ALTER TABLE provider_cache ADD COLUMN stale_until timestamptz;
CREATE INDEX provider_cache_kept_until_idx ON provider_cache ((COALESCE(stale_until, expires_at)));
