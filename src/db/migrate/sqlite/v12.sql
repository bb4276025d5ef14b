-- v12 (frozen): the merge log of `crm merge` (`db::merge`). One row per merge: the entity,
-- the record kept, the duplicates folded into it (a JSON array of ids), and the plan a
-- revert needs (a JSON object: the kept record's values before and after, each duplicate's
-- whole record, each re-pointed reference's old value). The number is crm's (one past the
-- largest), counted in the merge's write transaction. `reverted_at`/`reverted_by` are set
-- once, by `crm merge revert`.
CREATE TABLE IF NOT EXISTS merge_log (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  "user" TEXT NOT NULL,
  entity TEXT NOT NULL,
  keep_id INTEGER NOT NULL,
  dups TEXT NOT NULL,
  plan TEXT NOT NULL,
  reverted_at INTEGER,
  reverted_by TEXT
) STRICT;
