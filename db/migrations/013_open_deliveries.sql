-- The API's /metrics counts the deliveries still open (pending, or dead-lettered and waiting for a
-- replay) at every scrape: this index keeps that count to the open rows, not the whole table.
CREATE INDEX deliveries_open_idx ON deliveries (status) WHERE status IN ('pending', 'dead_lettered');
