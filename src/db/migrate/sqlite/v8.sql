-- v8 (frozen).
-- The trail of imports on each record (`crm audit --entity E --id N`): an updated record's
-- new values beside its old ones (`after`: the changed fields only, as JSON; NULL for rows
-- written before this step, whose new values `crm audit` derives from later changes), and
-- an index to find the batch whose inserted ranges hold an id.
-- Safe to run again on a file whose version label was set back (as the upgrade tests do):
-- SQLite has no ADD COLUMN IF NOT EXISTS, so the runner adds the column only when missing.
ALTER TABLE import_change ADD COLUMN IF NOT EXISTS after TEXT;
CREATE INDEX IF NOT EXISTS import_insert_first ON import_insert(first_id);
