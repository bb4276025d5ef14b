-- v13 (frozen): tokens for automation (`crm token`). A token is `crm_LOOKUP_SECRET`: the
-- lookup finds its row, the secret is kept only as its SHA-256 (`auth::automation`: a
-- 256-bit random secret needs no slow hash). A token acts as its owner (`user_id`) with
-- its own role, never more than the owner's; revoked or past `expires_at` it is refused.
CREATE TABLE IF NOT EXISTS tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  lookup TEXT NOT NULL UNIQUE,
  secret_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  user_id INTEGER NOT NULL REFERENCES users(id),
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked INTEGER NOT NULL DEFAULT 0
) STRICT;
