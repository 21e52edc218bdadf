-- Why each item's flush went (size, cost threshold, observed-rate size, wait); null for rows from before it was recorded.
ALTER TABLE batch_items ADD COLUMN flush_reason text CHECK (flush_reason IN ('size', 'cost', 'rate', 'wait'));
