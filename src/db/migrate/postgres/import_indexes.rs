//! A first load into an empty table sets the table's plain indexes aside and makes them
//! again at its end, as the expert loading by hand does (one sort per index instead of a
//! million scattered inserts); crm's roles do not own the tables, so two `SECURITY
//! DEFINER` functions do it for them, only within an import:
//! - `crm.import_defer_indexes(entity)` refuses unless this user's import batch of that
//!   entity is open in this transaction (`crm.import_batch_now`) and, once it holds the
//!   table's exclusive lock, the table is empty; then it notes each plain index (not
//!   unique, no constraint's) in a temporary table of its own and drops it. Unique indexes
//!   and keys stay: the database still refuses a duplicate as it is inserted. The lock is
//!   not waited for: while another transaction reads the table, the indexes stay (0 set
//!   aside); once taken, readers of that table wait for the import's end (its last write
//!   and the index builds, seconds for a million rows).
//! - `crm.import_restore_indexes(entity)` makes the noted indexes again, in the same
//!   transaction (a rollback or a killed import brings the old ones back with the rest).
//! - A deferred constraint trigger on the note refuses to commit while a noted index is
//!   missing: no transaction can keep an index away, whatever it calls.
//!
//! Generated with the security SQL (functions hold no data; `security` explains why).

use std::fmt::Write;

use super::names::{quote_ident, quote_literal};
use crate::schema::ENTITIES;

/// The functions and who may call them (`groups`: every crm group role).
pub fn sql(groups: &[String]) -> String {
    let names: Vec<String> = ENTITIES.iter().map(|e| quote_literal(e.name)).collect();
    // `pg_temp` last in the path: a caller's temporary table cannot stand in for a catalog.
    let head = "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm, pg_temp";
    let open = "IF crm.import_batch_now(p_entity) IS NULL THEN
    RAISE EXCEPTION 'no import of % is open in this transaction', p_entity USING ERRCODE = 'insufficient_privilege';
  END IF;";
    // The note must be the functions' own: a caller could have made one of that name.
    let own = "IF (SELECT pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.oid = 'pg_temp.crm_import_deferred'::regclass)
     IS DISTINCT FROM current_user THEN
    RAISE EXCEPTION 'pg_temp.crm_import_deferred is not crm''s' USING ERRCODE = 'insufficient_privilege';
  END IF;";
    let mut s = format!(
        "CREATE OR REPLACE FUNCTION crm.import_indexes_restored() RETURNS trigger {head} AS $$
BEGIN
  IF to_regclass(format('crm.%I', NEW.name)) IS NULL THEN
    RAISE EXCEPTION 'index crm.% was set aside by an import and not made again', NEW.name
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION crm.import_indexes_restored() FROM PUBLIC;
CREATE OR REPLACE FUNCTION crm.import_defer_indexes(p_entity text) RETURNS integer {head} AS $$
DECLARE t regclass; empty boolean; r record; n integer := 0;
BEGIN
  IF p_entity NOT IN ({names}) THEN RAISE EXCEPTION 'not a crm entity: %', p_entity; END IF;
  {open}
  t := format('crm.%I', p_entity)::regclass;
  -- A reader in the table keeps its indexes: the load goes on with them, no waiting.
  BEGIN
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE NOWAIT', t);
  EXCEPTION WHEN lock_not_available THEN
    RETURN 0;
  END;
  EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM %s)', t) INTO empty;
  IF NOT empty THEN
    RAISE EXCEPTION 'crm.% is not empty: its indexes stay', p_entity
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  IF to_regclass('pg_temp.crm_import_deferred') IS NULL THEN
    CREATE TEMPORARY TABLE crm_import_deferred (entity text NOT NULL, name text PRIMARY KEY, def text NOT NULL) ON COMMIT DROP;
    CREATE CONSTRAINT TRIGGER crm_import_restored AFTER INSERT ON pg_temp.crm_import_deferred
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION crm.import_indexes_restored();
  END IF;
  {own}
  FOR r IN SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = t AND NOT i.indisunique AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
            ORDER BY c.relname LOOP
    INSERT INTO pg_temp.crm_import_deferred (entity, name, def) VALUES (p_entity, r.name, r.def);
    EXECUTE format('DROP INDEX crm.%I', r.name);
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;
REVOKE ALL ON FUNCTION crm.import_defer_indexes(text) FROM PUBLIC;
CREATE OR REPLACE FUNCTION crm.import_restore_indexes(p_entity text) RETURNS integer {head}
SET maintenance_work_mem = '256MB' AS $$
DECLARE r record; n integer := 0;
BEGIN
  {open}
  IF to_regclass('pg_temp.crm_import_deferred') IS NULL THEN RETURN 0; END IF;
  {own}
  FOR r IN SELECT d.name, d.def FROM pg_temp.crm_import_deferred d WHERE d.entity = p_entity ORDER BY d.name LOOP
    IF to_regclass(format('crm.%I', r.name)) IS NULL THEN
      EXECUTE r.def;
      n := n + 1;
    END IF;
  END LOOP;
  RETURN n;
END $$;
REVOKE ALL ON FUNCTION crm.import_restore_indexes(text) FROM PUBLIC;
",
        names = names.join(", ")
    );
    for g in groups {
        for f in ["import_defer_indexes(text)", "import_restore_indexes(text)"] {
            let _ = writeln!(s, "GRANT EXECUTE ON FUNCTION crm.{f} TO {};", quote_ident(g));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_group_may_call_both_and_only_registered_tables_are_touched() {
        let s = super::sql(&["crm_prod_sales".into()]);
        for f in ["import_defer_indexes", "import_restore_indexes"] {
            assert!(
                s.contains(&format!(
                    "GRANT EXECUTE ON FUNCTION crm.{f}(text) TO \"crm_prod_sales\";"
                )),
                "{f}"
            );
        }
        assert!(s.contains("'customer'"));
        assert!(s.contains("crm.import_batch_now(p_entity) IS NULL"));
        assert!(s.contains("DEFERRABLE INITIALLY DEFERRED"));
    }
}
