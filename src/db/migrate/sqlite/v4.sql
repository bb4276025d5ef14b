-- v4 (frozen).
-- What bulk import and revert need beyond v2: the audit row of each batch (so revert can
-- see later changes), its encoding, key and rows read, and the ids a batch inserted kept
-- as ranges (one row per run of consecutive ids, not one per record).
ALTER TABLE import_batch ADD COLUMN audit_id INTEGER;
ALTER TABLE import_batch ADD COLUMN encoding TEXT;
ALTER TABLE import_batch ADD COLUMN key_field TEXT;
ALTER TABLE import_batch ADD COLUMN rows_read INTEGER;
CREATE TABLE import_insert (
            batch INTEGER NOT NULL REFERENCES import_batch(id),
            first_id INTEGER NOT NULL,
            last_id INTEGER NOT NULL,
            PRIMARY KEY (batch, first_id)
        ) STRICT, WITHOUT ROWID;
CREATE INDEX import_change_record ON import_change(record_id);
