-- v7 (frozen): the merge log of `crm merge` (`db::merge`), as SQLite's v12 has it. The
-- number is crm's (one past the largest, counted in the merge's write transaction), not an
-- identity: a failed merge uses no number up. Grants are generated with the security.
-- Never edit a shipped step: add a new one.
CREATE TABLE crm.merge_log (
  id bigint PRIMARY KEY,
  at bigint NOT NULL,
  "user" text NOT NULL,
  entity text NOT NULL,
  keep_id bigint NOT NULL,
  dups text NOT NULL,
  plan text NOT NULL,
  reverted_at bigint,
  reverted_by text
);
UPDATE crm.schema_version SET version = 7;
