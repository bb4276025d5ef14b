//! The id a record added by crm gets on `PostgreSQL`: the one `SQLite` would give, one past
//! the largest id the table ever held (`AUTOINCREMENT`), counted in the transaction.
//!
//! An identity sequence alone cannot give it: a sequence is not transactional, so a
//! command that fails after its first row (a quote whose line its rule refuses, a row a
//! policy refuses) would use an id up for good, and every later id and generated key
//! (`C000123`, counted from ids) would differ from `SQLite`'s. `crm.next_record_id(entity)`
//! (`SECURITY DEFINER`: every record is counted, whatever the caller's row policies show)
//! reads the largest id the table holds and the largest a create or delete audit row names
//! (a deleted record's id is never handed out again: each delete is audited with it,
//! queued or appended), both inside the caller's transaction; the writer inserts with that
//! id. It also moves the identity past it, so rows added without crm's id (`psql`, a bulk
//! load) never collide with crm's.
//!
//! Adders run side by side (`crm.begin_add`, v2), so in their transactions a number is
//! claimed before it is handed out (elsewhere no other crm writer runs alongside): a transaction-level advisory lock on (entity, id), tried without waiting. A
//! number another transaction in progress claimed is skipped (its row is not visible yet);
//! a claim is given back when its transaction ends, so a failed command leaves no gap when
//! it ran alone. After the claim the largest ids are read again, in a new snapshot: a
//! claimer that committed in between has released its claim only after its rows became
//! visible, so they are seen then. Asking again in the same transaction before a record
//! holds the number gives the same number (noted in the transaction-local setting
//! `crm.claimed_ENTITY` by `crm.next_record_id`, which runs with the caller's rights so the
//! setting outlives it; the counting is `crm.claim_record_id`'s, `SECURITY DEFINER`; a
//! noted number is handed out again only while its claim is this transaction's, or when no
//! adder runs beside it: a writer that runs alone claims nothing, so a long import holds no
//! lock per record), so
//! a generated key counted from it (`C000123`) matches the id the record gets.

use std::fmt::Write;

use super::names::{quote_ident, quote_literal};
use crate::schema::ENTITIES;

/// The function and who may call it (`groups`: every crm group role, quoted or not).
pub fn sql(groups: &[String]) -> String {
    let names: Vec<String> = ENTITIES.iter().map(|e| quote_literal(e.name)).collect();
    let mut s = format!(
        "CREATE OR REPLACE FUNCTION crm.claim_record_id(entity text, last text) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, crm AS $$
DECLARE n bigint := 0; seen bigint; seq text; k integer := hashtext('crm.' || entity);
  mine bigint := nullif(last, '')::bigint;
  used boolean;
  -- Only adders (`crm.begin_add`) run side by side; a writer of `crm.begin_write` runs
  -- alone, and outside a write transaction (a preview) a claim would only make a
  -- concurrent adder skip a number for nothing.
  claiming boolean := coalesce(current_setting('crm.adding', true), '') = 'on';
BEGIN
  IF entity NOT IN ({names}) THEN RAISE EXCEPTION 'not a crm entity: %', entity; END IF;
  -- The number this transaction was handed last, while no record holds it yet: the same
  -- again (a generated key counted from it must match the id the record then gets).
  -- A writer that runs alone takes no lock here: one per record, held to the end of a
  -- long import's transaction, would fill the server's lock table (out of shared memory).
  IF mine IS NOT NULL AND (NOT claiming OR pg_try_advisory_xact_lock(k, (mine % 2147483647)::integer)) THEN
{used}
    IF NOT used AND NOT EXISTS (SELECT 1 FROM crm.audit a WHERE a.entity = claim_record_id.entity AND a.record_id = mine AND a.action IN ('create', 'delete'))
       AND NOT EXISTS (SELECT 1 FROM crm.audit_pending p WHERE p.xid = pg_current_xact_id_if_assigned() AND p.entity = claim_record_id.entity AND p.record_id = mine) THEN
      RETURN mine;
    END IF;
  END IF;
  LOOP
{largest}
    seen := GREATEST(seen,
      COALESCE((SELECT max(a.record_id) FROM crm.audit a WHERE a.entity = claim_record_id.entity AND a.action IN ('create', 'delete')), 0),
      COALESCE((SELECT max(p.record_id) FROM crm.audit_pending p WHERE p.xid = pg_current_xact_id_if_assigned() AND p.entity = claim_record_id.entity AND p.action IN ('create', 'delete')), 0)) + 1;
    EXIT WHEN seen <= n OR (n > 0 AND NOT claiming);
    n := GREATEST(n, seen);
    WHILE claiming AND NOT pg_try_advisory_xact_lock(k, (n % 2147483647)::integer) LOOP
      n := n + 1;
    END LOOP;
  END LOOP;
  seq := pg_get_serial_sequence(format('crm.%I', entity), 'id');
  IF n > COALESCE(pg_sequence_last_value(seq::regclass), 0) THEN
    PERFORM setval(seq, n, true);
  END IF;
  RETURN n;
END $$;
REVOKE ALL ON FUNCTION crm.claim_record_id(text, text) FROM PUBLIC;
-- The caller's own rights: the transaction-local setting must outlive the call (a SET
-- clause, which SECURITY DEFINER needs, would undo it at the function's end).
CREATE OR REPLACE FUNCTION crm.next_record_id(entity text) RETURNS bigint LANGUAGE sql AS $$
  SELECT pg_catalog.set_config('crm.claimed_' OPERATOR(pg_catalog.||) entity,
    crm.claim_record_id(entity, pg_catalog.current_setting('crm.claimed_' OPERATOR(pg_catalog.||) entity, true))::pg_catalog.text,
    true)::pg_catalog.int8
$$;
REVOKE ALL ON FUNCTION crm.next_record_id(text) FROM PUBLIC;
",
        names = names.join(", "),
        used = per_entity("EXISTS (SELECT 1 FROM crm.{t} WHERE id = mine)", "used"),
        largest = per_entity("COALESCE(max(id), 0) FROM crm.{t}", "seen"),
    );
    for g in groups {
        let _ = writeln!(
            s,
            "GRANT EXECUTE ON FUNCTION crm.next_record_id(text), crm.claim_record_id(text, text) TO {};",
            quote_ident(g)
        );
    }
    s
}

/// A statement per entity, `SELECT what INTO into` with the entity's table for `{t}`:
/// static SQL, planned once a session, where `format` and EXECUTE would plan it each call.
fn per_entity(what: &str, into: &str) -> String {
    let mut s = String::new();
    for (i, e) in ENTITIES.iter().enumerate() {
        let _ = writeln!(
            s,
            "    {} entity = {} THEN SELECT {} INTO {into};",
            if i == 0 { "IF" } else { "ELSIF" },
            quote_literal(e.name),
            what.replace("{t}", &e.table())
        );
    }
    s.push_str("    END IF;");
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_group_may_count_and_only_registered_tables_are_read() {
        let s = super::sql(&["crm_prod_sales".into()]);
        assert!(
            s.contains("GRANT EXECUTE ON FUNCTION crm.next_record_id(text), crm.claim_record_id(text, text) TO \"crm_prod_sales\";")
        );
        assert!(s.contains("'customer'"));
        assert!(s.contains("SECURITY DEFINER"));
    }
}
