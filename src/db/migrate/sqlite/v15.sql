-- v15 (frozen): custom fields (`crm field`, `db::fields`): one row per field a database adds
-- to an entity, in the order they were added. The field's values are a column of the
-- entity's table that `crm field add` adds (and `crm field drop` drops), indexed.
CREATE TABLE IF NOT EXISTS custom_field (
  entity TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  choices TEXT NOT NULL,
  label_en TEXT NOT NULL,
  label_zh TEXT NOT NULL,
  required INTEGER NOT NULL DEFAULT 0,
  "unique" INTEGER NOT NULL DEFAULT 0,
  default_value TEXT,
  position INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  PRIMARY KEY (entity, name)
);
