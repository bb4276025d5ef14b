//! A first load into an empty table skips what an expert loading by hand skips: the
//! table's plain indexes are set aside and made again at the end (one sort per index
//! instead of a million scattered inserts), and for a user whose every row policy on the
//! table is unconditional, row-level security is turned off for the load so the rows can
//! be sent with `COPY` straight into the table (`PostgreSQL` refuses `COPY FROM` under row
//! security) instead of through a staging table. crm's roles do not own the tables, so
//! `SECURITY DEFINER` functions do it for them, only within an import:
//! - `crm.import_defer_indexes(entity)` and `crm.import_direct(entity)` refuse unless this
//!   user's import batch of that entity is open in this transaction
//!   (`crm.import_batch_now`) and, once they hold the table's exclusive lock, the table is
//!   empty; then they note each plain index (not unique, no constraint's) of the table
//!   and of its search index table (`crm.<entity>_search`, its GIN index) in a temporary
//!   table of their own and drop it; `import_direct` also turns row security off, and
//!   only for a user whose policies on the table all say `true` (who may read, add, change
//!   and delete every record of it: nothing a policy would refuse can get in), answering
//!   false for any other. Unique indexes and keys stay: a duplicate is refused as it is
//!   inserted. The lock is not waited for: while another transaction reads the table,
//!   nothing is set aside (0, false); once taken, readers of the table wait for the
//!   import's end (seconds for a million rows).
//! - `crm.import_restore_indexes(entity)` makes the noted indexes again and turns row
//!   security back on, in the same transaction (a rollback or a killed import brings the
//!   old state back with the rest).
//! - A deferred constraint trigger on the note refuses to commit while a noted index is
//!   missing or row security is off: no transaction can keep either away.
//!
//! Generated with the security SQL (functions hold no data; `security` explains why).

use std::fmt::Write;

use super::names::{quote_ident, quote_literal};
use crate::roles::{Action, Role, allowed};
use crate::schema::ENTITIES;

/// The functions and who may call them (`groups`: every crm role's group role).
#[must_use]
#[allow(clippy::too_many_lines)] // one SQL text
pub fn sql(groups: &[(Role, String)]) -> String {
    let names: Vec<String> = ENTITIES.iter().map(|e| quote_literal(e.name)).collect();
    // Per entity, the groups whose policies on it all say `true`: allowed every command on
    // records they do not own (`security::scope` says All).
    let unbound: Vec<String> = ENTITIES
        .iter()
        .map(|e| {
            let members: Vec<String> = groups
                .iter()
                .filter(|(r, _)| {
                    [Action::Read, Action::Create, Action::Update, Action::Delete]
                        .iter()
                        .all(|a| allowed(*r, *a, Some(e), Some(false)))
                })
                .map(|(_, g)| format!("pg_has_role(session_user, {}, 'MEMBER')", quote_literal(g)))
                .collect();
            let test = if members.is_empty() {
                "false".to_string()
            } else {
                members.join(" OR ")
            };
            format!("WHEN {} THEN {test}", quote_literal(e.name))
        })
        .collect();
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
  IF NEW.kind = 'rls' THEN
    IF NOT (SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = format('crm.%I', NEW.entity)::regclass) THEN
      RAISE EXCEPTION 'row security of crm.% was turned off by an import and not on again', NEW.entity
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
  ELSIF to_regclass(format('crm.%I', NEW.name)) IS NULL THEN
    RAISE EXCEPTION 'index crm.% was set aside by an import and not made again', NEW.name
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION crm.import_indexes_restored() FROM PUBLIC;
CREATE OR REPLACE FUNCTION crm.import_set_aside(p_entity text, p_rls boolean) RETURNS integer {head} AS $$
DECLARE t regclass; st regclass; empty boolean; r record; n integer := 0;
BEGIN
  IF p_entity NOT IN ({names}) THEN RAISE EXCEPTION 'not a crm entity: %', p_entity; END IF;
  {open}
  t := format('crm.%I', p_entity)::regclass;
  -- The entity's search index table (`db::search`), empty with it: its GIN index too.
  st := to_regclass(format('crm.%I', p_entity || '_search'));
  BEGIN
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE NOWAIT', t);
    IF st IS NOT NULL THEN
      EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE NOWAIT', st);
    END IF;
  EXCEPTION WHEN lock_not_available THEN
    RETURN -1;
  END;
  EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM %s)', t) INTO empty;
  IF NOT empty THEN
    RAISE EXCEPTION 'crm.% is not empty: its indexes stay', p_entity
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  IF to_regclass('pg_temp.crm_import_deferred') IS NULL THEN
    CREATE TEMPORARY TABLE crm_import_deferred (entity text NOT NULL, kind text NOT NULL, name text NOT NULL, def text NOT NULL, PRIMARY KEY (entity, kind, name)) ON COMMIT DROP;
    CREATE CONSTRAINT TRIGGER crm_import_restored AFTER INSERT ON pg_temp.crm_import_deferred
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION crm.import_indexes_restored();
  END IF;
  {own}
  IF p_rls THEN
    INSERT INTO pg_temp.crm_import_deferred (entity, kind, name, def) VALUES (p_entity, 'rls', '', '');
    EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', t);
  END IF;
  FOR r IN SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE (i.indrelid = t OR i.indrelid = st) AND NOT i.indisunique AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
            ORDER BY c.relname LOOP
    INSERT INTO pg_temp.crm_import_deferred (entity, kind, name, def) VALUES (p_entity, 'index', r.name, r.def);
    EXECUTE format('DROP INDEX crm.%I', r.name);
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;
REVOKE ALL ON FUNCTION crm.import_set_aside(text, boolean) FROM PUBLIC;
CREATE OR REPLACE FUNCTION crm.import_defer_indexes(p_entity text) RETURNS integer {head} AS $$
BEGIN
  RETURN GREATEST(crm.import_set_aside(p_entity, false), 0);
END $$;
REVOKE ALL ON FUNCTION crm.import_defer_indexes(text) FROM PUBLIC;
CREATE OR REPLACE FUNCTION crm.import_direct(p_entity text) RETURNS boolean {head} AS $$
BEGIN
  {open}
  IF NOT (CASE p_entity {cases} ELSE false END) THEN RETURN false; END IF;
  RETURN crm.import_set_aside(p_entity, true) >= 0;
END $$;
REVOKE ALL ON FUNCTION crm.import_direct(text) FROM PUBLIC;
CREATE OR REPLACE FUNCTION crm.import_restore_indexes(p_entity text) RETURNS integer {head}
SET maintenance_work_mem = '256MB' AS $$
DECLARE r record; n integer := 0;
BEGIN
  {open}
  IF to_regclass('pg_temp.crm_import_deferred') IS NULL THEN RETURN 0; END IF;
  {own}
  FOR r IN SELECT d.kind, d.name, d.def FROM pg_temp.crm_import_deferred d WHERE d.entity = p_entity ORDER BY d.kind, d.name LOOP
    IF r.kind = 'rls' THEN
      EXECUTE format('ALTER TABLE crm.%I ENABLE ROW LEVEL SECURITY', p_entity);
    ELSIF to_regclass(format('crm.%I', r.name)) IS NULL THEN
      EXECUTE r.def;
      n := n + 1;
    END IF;
  END LOOP;
  RETURN n;
END $$;
REVOKE ALL ON FUNCTION crm.import_restore_indexes(text) FROM PUBLIC;
",
        names = names.join(", "),
        cases = unbound.join(" ")
    );
    for (_, g) in groups {
        for f in [
            "import_defer_indexes(text)",
            "import_direct(text)",
            "import_restore_indexes(text)",
        ] {
            let _ = writeln!(
                s,
                "GRANT EXECUTE ON FUNCTION crm.{f} TO {};",
                quote_ident(g)
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use crate::roles::Role;

    #[test]
    fn every_group_may_call_them_and_only_unbound_groups_load_directly() {
        let groups: Vec<(Role, String)> = ["admin", "sales"]
            .iter()
            .map(|r| (Role::parse(r).expect("role"), format!("crm_prod_{r}")))
            .collect();
        let s = super::sql(&groups);
        for f in [
            "import_defer_indexes",
            "import_direct",
            "import_restore_indexes",
        ] {
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
        // Admin may do anything to customers; a sales user only to their own.
        assert!(s.contains(
            "WHEN 'customer' THEN pg_has_role(session_user, 'crm_prod_admin', 'MEMBER') "
        ));
        assert!(!s.contains("'crm_prod_sales', 'MEMBER'"));
    }
}
