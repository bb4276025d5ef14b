-- v4 (frozen): historical imports (`crm import … --keep-times`). The batch records that
-- its rows gave their own `created_at` and history times (1) or were stamped with the
-- import's time (0), as SQLite's v10 does. Never edit a shipped step: add a new one.
ALTER TABLE crm.import_batch ADD COLUMN IF NOT EXISTS keep_times bigint NOT NULL DEFAULT 0;
UPDATE crm.schema_version SET version = 4;
