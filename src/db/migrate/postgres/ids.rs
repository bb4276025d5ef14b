//! The id a record added by crm gets on `PostgreSQL`: the one `SQLite` would give, one past
//! the largest id the table ever held (`AUTOINCREMENT`), counted in the transaction.
//!
//! An identity sequence alone cannot give it: a sequence is not transactional, so a
//! command that fails after its first row (a quote whose line its rule refuses, a row a
//! policy refuses) would use an id up for good, and every later id and generated key
//! (`C000123`, counted from ids) would differ from `SQLite`'s. `crm.next_record_id(entity)`
//! (`SECURITY DEFINER`: every record is counted, whatever the caller's row policies show)
//! reads the largest id the table holds and the largest a create or delete audit row names
//! (a deleted record's id is never handed out again: each delete is audited with it), both inside the
//! caller's transaction; the writer inserts with that id. It also moves the identity past
//! it, so rows added without crm's id (`psql`, a bulk load) never collide with crm's.

use std::fmt::Write;

use super::names::{quote_ident, quote_literal};
use crate::schema::ENTITIES;

/// The function and who may call it (`groups`: every crm group role, quoted or not).
pub fn sql(groups: &[String]) -> String {
    let names: Vec<String> = ENTITIES.iter().map(|e| quote_literal(e.name)).collect();
    let mut s = format!(
        "CREATE OR REPLACE FUNCTION crm.next_record_id(entity text) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, crm AS $$
DECLARE n bigint; seq text;
BEGIN
  IF entity NOT IN ({}) THEN RAISE EXCEPTION 'not a crm entity: %', entity; END IF;
  EXECUTE format('SELECT COALESCE(max(id), 0) FROM crm.%I', entity) INTO n;
  n := GREATEST(n, COALESCE((SELECT max(a.record_id) FROM crm.audit a WHERE a.entity = next_record_id.entity AND a.action IN ('create', 'delete')), 0)) + 1;
  seq := pg_get_serial_sequence(format('crm.%I', entity), 'id');
  IF n > COALESCE(pg_sequence_last_value(seq::regclass), 0) THEN
    PERFORM setval(seq, n, true);
  END IF;
  RETURN n;
END $$;
REVOKE ALL ON FUNCTION crm.next_record_id(text) FROM PUBLIC;
",
        names.join(", ")
    );
    for g in groups {
        let _ = writeln!(
            s,
            "GRANT EXECUTE ON FUNCTION crm.next_record_id(text) TO {};",
            quote_ident(g)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_group_may_count_and_only_registered_tables_are_read() {
        let s = super::sql(&["crm_prod_sales".into()]);
        assert!(
            s.contains("GRANT EXECUTE ON FUNCTION crm.next_record_id(text) TO \"crm_prod_sales\";")
        );
        assert!(s.contains("'customer'"));
        assert!(s.contains("SECURITY DEFINER"));
    }
}
