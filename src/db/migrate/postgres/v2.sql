-- v2 (frozen): concurrent adds. The audit chain is appended at COMMIT, so its lock is held
-- only while the server chains a transaction's rows and commits (no client round trip
-- inside it), and adding records no longer takes the writers' lock of `crm.begin_write`.
-- Never edit a shipped step: add a new one.
--
-- Before: every write took the chain's lock first (`crm.begin_write`, SHARE ROW EXCLUSIVE
-- on crm.audit) and held it through all its statements, so concurrent `crm add`s ran one
-- after another, each with its client's round trips and a new server process's first
-- plans inside the lock. Now:
-- - Row triggers queue their audit rows in `crm.audit_pending` (`crm.audit_queue`: the
--   user, time and detail are taken there, as `crm.audit_append` took them), and a
--   deferred constraint trigger on that table chains and appends the transaction's queue
--   at COMMIT (`crm.audit_flush`) under the chain lock, an advisory lock that nothing
--   else takes; its holder waits for nothing else, so it cannot be part of a deadlock.
-- - `crm.audit_append` queues its row and flushes at once (it returns the row's id), so a
--   transaction's rows keep the order it made them in.
-- - `crm.begin_write()` is unchanged: the writers that read and change existing records
--   run one at a time. `crm.begin_add()` (ROW EXCLUSIVE on crm.audit) is for a
--   transaction that only adds new records: adders run side by side, and wait for (and
--   are waited for by) `begin_write` writers. `crm.next_record_id` no longer relies on
--   writers taking turns (see `migrate::postgres::ids`).

-- A transaction's audit rows until its COMMIT chains them. No crm role may read or write
-- it: only the SECURITY DEFINER functions below do. `payload` is the row's hashed parts
-- after the previous hash (see `crm.row_hash`), made before the lock is taken.
CREATE TABLE crm.audit_pending (
  xid xid8 NOT NULL,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  at bigint NOT NULL,
  "user" text,
  action text NOT NULL,
  entity text,
  record_id bigint,
  field text,
  old text,
  new text,
  detail text,
  payload bytea NOT NULL,
  PRIMARY KEY (xid, seq)
);
ALTER TABLE crm.audit_pending ENABLE ROW LEVEL SECURITY;

-- Queues one audit row of this transaction as the session's crm user (`pg:ROLE` for a
-- role that is no crm user), as `crm.audit_append` records it.
CREATE FUNCTION crm.audit_queue(p_action text, p_entity text, p_record_id bigint,
    p_field text, p_old text, p_new text, p_detail text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm AS $$
DECLARE
  who text := coalesce(crm.me(), 'pg:' || session_user);
  t bigint := crm.now();
BEGIN
  INSERT INTO crm.audit_pending (xid, at, "user", action, entity, record_id, field, old, new, detail, payload)
  VALUES (pg_current_xact_id(), t, who, p_action, p_entity, p_record_id, p_field, p_old, p_new, p_detail,
    crm.chain_part(t::text) || crm.chain_part(coalesce(who, '')) || crm.chain_part(p_action)
    || crm.chain_part(coalesce(p_entity, '')) || crm.chain_part(coalesce(p_record_id::text, ''))
    || crm.chain_part(coalesce(p_field, '')) || crm.chain_part(coalesce(p_old, ''))
    || crm.chain_part(coalesce(p_new, '')) || crm.chain_part(coalesce(p_detail, '')));
END $$;

-- Queues the audit rows of one change to one record, one per field (`fields`, in order)
-- whose `keep` is true (set, changed or held), as `crm.audit_queue` would one by one, the
-- user looked up once; a delete that keeps no field queues one row without a field.
CREATE FUNCTION crm.audit_queue_fields(p_action text, p_entity text, p_record_id bigint,
    fields text[], keep boolean[], olds text[], news text[], p_detail text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm AS $$
DECLARE
  who text := coalesce(crm.me(), 'pg:' || session_user);
  t bigint := crm.now();
  head bytea := crm.chain_part(t::text) || crm.chain_part(coalesce(who, '')) || crm.chain_part(p_action)
    || crm.chain_part(coalesce(p_entity, '')) || crm.chain_part(coalesce(p_record_id::text, ''));
  tail bytea := crm.chain_part(coalesce(p_detail, ''));
BEGIN
  INSERT INTO crm.audit_pending (xid, at, "user", action, entity, record_id, field, old, new, detail, payload)
  SELECT pg_current_xact_id(), t, who, p_action, p_entity, p_record_id, u.f, u.o, u.n, p_detail,
    head || crm.chain_part(u.f) || crm.chain_part(coalesce(u.o, '')) || crm.chain_part(coalesce(u.n, '')) || tail
  FROM unnest(fields, keep, olds, news) WITH ORDINALITY AS u(f, k, o, n, i)
  WHERE u.k ORDER BY u.i;
  IF NOT FOUND AND p_action = 'delete' THEN
    PERFORM crm.audit_queue(p_action, p_entity, p_record_id, NULL, NULL, NULL, NULL);
  END IF;
END $$;

-- Chains and appends this transaction's queued rows, in the order they were queued, under
-- the chain lock (held to the end of the transaction); returns the last appended row's id
-- (NULL when nothing was queued). The hash is `crm.row_hash`'s: SHA-256 over the previous
-- hash's part and the row's own parts.
CREATE FUNCTION crm.audit_flush() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm AS $$
DECLARE
  x xid8 := pg_current_xact_id_if_assigned();
  r record;
  prev text;
  new_id bigint;
BEGIN
  IF x IS NULL OR NOT EXISTS (SELECT 1 FROM crm.audit_pending p WHERE p.xid = x) THEN
    RETURN NULL;
  END IF;
  -- One appender at a time, or two would chain to the same row. Taken after the last
  -- statement of a transaction's own work, its holder waits for no other lock.
  PERFORM pg_advisory_xact_lock(1668443904, 1);
  SELECT a.hash INTO prev FROM crm.audit a ORDER BY a.id DESC LIMIT 1;
  FOR r IN SELECT * FROM crm.audit_pending p WHERE p.xid = x ORDER BY p.seq LOOP
    prev := encode(sha256(crm.chain_part(coalesce(prev, '')) || r.payload), 'hex');
    INSERT INTO crm.audit (at, "user", action, entity, record_id, field, old, new, detail, hash)
      VALUES (r.at, r."user", r.action, r.entity, r.record_id, r.field, r.old, r.new, r.detail, prev)
      RETURNING id INTO new_id;
  END LOOP;
  DELETE FROM crm.audit_pending p WHERE p.xid = x;
  RETURN new_id;
END $$;

CREATE FUNCTION crm.audit_flush_at_commit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm AS $$
BEGIN
  PERFORM crm.audit_flush();
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER audit_pending_flush AFTER INSERT ON crm.audit_pending
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION crm.audit_flush_at_commit();

-- Appends one row now, after this transaction's queued rows (their order kept), and
-- returns its id. The chain lock is then held to the end of the transaction.
CREATE OR REPLACE FUNCTION crm.audit_append(p_action text, p_entity text, p_record_id bigint,
    p_field text, p_old text, p_new text, p_detail text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm AS $$
BEGIN
  PERFORM crm.audit_queue(p_action, p_entity, p_record_id, p_field, p_old, p_new, p_detail);
  RETURN crm.audit_flush();
END $$;

-- Opens a transaction that only adds records: adders run side by side; `crm.begin_write`
-- writers (SHARE ROW EXCLUSIVE on the same table) wait for them and they for those. The
-- transaction-local `crm.adding` tells `crm.next_record_id` to claim the numbers it hands
-- out (set by the caller's own function: a SET clause, which SECURITY DEFINER needs,
-- would undo it at the function's end).
CREATE FUNCTION crm.lock_for_adding() RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, crm AS $$
BEGIN
  LOCK TABLE crm.audit IN ROW EXCLUSIVE MODE;
END $$;
CREATE FUNCTION crm.begin_add() RETURNS void LANGUAGE sql AS $$
  SELECT crm.lock_for_adding();
  SELECT pg_catalog.set_config('crm.adding', 'on', true);
$$;

REVOKE ALL ON TABLE crm.audit_pending FROM PUBLIC;
REVOKE ALL ON FUNCTION crm.audit_queue(text, text, bigint, text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION crm.audit_flush() FROM PUBLIC;
REVOKE ALL ON FUNCTION crm.audit_flush_at_commit() FROM PUBLIC;
REVOKE ALL ON FUNCTION crm.audit_queue_fields(text, text, bigint, text[], boolean[], text[], text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION crm.lock_for_adding() FROM PUBLIC;
REVOKE ALL ON FUNCTION crm.begin_add() FROM PUBLIC;

UPDATE crm.schema_version SET version = 2;
