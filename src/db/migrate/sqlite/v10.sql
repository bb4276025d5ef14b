-- v10 (frozen).
-- Historical imports (`crm import … --keep-times`): the batch records that its rows gave
-- their own `created_at` and history times (1) or were stamped with the import's time (0).
ALTER TABLE import_batch ADD COLUMN IF NOT EXISTS keep_times INTEGER NOT NULL DEFAULT 0;
