-- v2 (frozen).
-- Import batches: what `crm import history` lists and `crm import revert` needs.
CREATE TABLE import_batch (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            user TEXT NOT NULL,
            entity TEXT NOT NULL,
            file TEXT NOT NULL,
            mode TEXT NOT NULL,
            inserted INTEGER NOT NULL,
            updated INTEGER NOT NULL,
            unchanged INTEGER NOT NULL,
            rejected INTEGER NOT NULL,
            reverted_at INTEGER
        ) STRICT;
CREATE TABLE import_change (
            batch INTEGER NOT NULL REFERENCES import_batch(id),
            record_id INTEGER NOT NULL,
            before TEXT,
            after_updated_at INTEGER NOT NULL,
            PRIMARY KEY (batch, record_id)
        ) STRICT, WITHOUT ROWID;
