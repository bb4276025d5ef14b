-- v9 (frozen): settings and the customers' ownership events.
-- `crm config`'s values: a key absent here has its default (`settings::SETTINGS`).
CREATE TABLE IF NOT EXISTS settings (
  "key" TEXT PRIMARY KEY,
  "value" TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT
) STRICT;
-- Every change of a customer's owner (claim, release, assign, sweep, transfer, edit, …):
-- append-only; the pool's limits are counted from it. No foreign key: a deleted
-- customer's history stays, as its audit rows do.
CREATE TABLE IF NOT EXISTS ownership (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  customer_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  "user" TEXT,
  from_owner TEXT,
  to_owner TEXT,
  action TEXT NOT NULL,
  reason TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS ownership_customer ON ownership(customer_id, at);
CREATE INDEX IF NOT EXISTS ownership_user ON ownership("user", action, at);
CREATE INDEX IF NOT EXISTS ownership_from ON ownership(from_owner, customer_id, at);
