-- A token-priced provider call finds its workflow's open reservation (to raise it to the estimate
-- of its params, then settle it at the answer's token usage): by workflow id, among the few rows
-- still reserved.
CREATE INDEX cost_ledger_open_workflow_idx ON cost_ledger (workflow_id) WHERE status = 'reserved';
