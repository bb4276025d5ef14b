//! The audit log on `PostgreSQL`: append-only for every crm role and for the schema's
//! owner, written by triggers in the name of the session's login (`session_user`), chained
//! exactly as crm chains it on `SQLite`, and written by one writer at a time.

use crm::auth::ROLES;
use crm::db::migrate::postgres::names;
use postgres::error::SqlState;

use crate::pg_harness::{add_customer, denied, login, setup};

#[test]
fn pg_audit_is_append_only_for_every_role() {
    let Some(db) = setup("pg_audit_is_append_only_for_every_role") else {
        return;
    };
    let mut admin_login = login(&db, "admin");
    add_customer(&mut admin_login, "C-1", "admin");
    for r in ROLES {
        let mut c = login(&db, r);
        denied(c.execute("UPDATE crm.audit SET \"user\" = 'x'", &[]), r);
        denied(c.execute("DELETE FROM crm.audit", &[]), r);
        denied(
            c.execute(
                "INSERT INTO crm.audit (at, action, hash) VALUES (0, 'forged', '')",
                &[],
            ),
            r,
        );
        assert!(
            c.batch_execute("TRUNCATE crm.audit").is_err(),
            "{r} truncated"
        );
    }
    // Not even the owner of the schema rewrites it.
    let mut owner = db.admin();
    let e = owner
        .execute("UPDATE crm.audit SET \"user\" = 'x'", &[])
        .expect_err("owner update");
    assert!(
        e.to_string().contains("append-only")
            || e.as_db_error()
                .is_some_and(|d| d.message().contains("append-only")),
        "{e}"
    );
    assert!(owner.execute("DELETE FROM crm.audit", &[]).is_err());
    let rows: i64 = owner
        .query_one("SELECT count(*) FROM crm.audit", &[])
        .unwrap()
        .get(0);
    assert!(rows > 0);
}

#[test]
fn pg_changes_are_audited_in_the_session_users_name() {
    let Some(db) = setup("pg_changes_are_audited_in_the_session_users_name") else {
        return;
    };
    // A test build follows its fixed clock by replacing crm.now() as the schema's owner.
    db.admin()
        .batch_execute("CREATE OR REPLACE FUNCTION crm.now() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT 1764547200::bigint'")
        .unwrap();
    let mut sales = login(&db, "sales");
    // What a user may SET does not change who they are.
    assert!(
        sales
            .batch_execute(&format!(
                "SET ROLE {}",
                names::quote_ident(&names::login_role(&db.name, "bob"))
            ))
            .is_err()
    );
    // Date-times are shown in the session's zone, as crm shows them in the local one.
    sales
        .batch_execute("SET TimeZone = 'Asia/Shanghai'")
        .unwrap();
    let id = add_customer(&mut sales, "C-AUD", "sales");
    sales
        .execute(
            "INSERT INTO crm.opportunity (customer, name, amount, owner, closed_at, created_at, updated_at) VALUES ($1, 'deal', -123456, 'sales', 0, 0, 0)",
            &[&id],
        )
        .unwrap();
    sales
        .execute(
            "UPDATE crm.customer SET name = 'C-AUD2' WHERE id = $1",
            &[&id],
        )
        .unwrap();
    let mut admin = db.admin();
    let rows = admin
        .query(
            "SELECT \"user\", action, entity, record_id, field, old, new FROM crm.audit ORDER BY id",
            &[],
        )
        .unwrap();
    let got: Vec<String> = rows
        .iter()
        .map(|r| {
            let s = |i| r.get::<_, Option<String>>(i).unwrap_or_default();
            format!("{}|{}|{}|{}|{}|{}", s(0), s(1), s(2), s(4), s(5), s(6))
        })
        .collect();
    let want = [
        "sales|create|customer|code||C-AUD",
        "sales|create|customer|name||C-AUD",
        "sales|create|customer|owner||sales",
        "sales|create|opportunity|customer||",
        "sales|create|opportunity|name||deal",
        "sales|create|opportunity|amount||-1234.56",
        "sales|create|opportunity|owner||sales",
        "sales|create|opportunity|closed_at||1970-01-01T08:00:00+08:00",
        "sales|update|customer|name|C-AUD|C-AUD2",
    ];
    let mut want: Vec<String> = want.iter().map(|s| (*s).to_string()).collect();
    want[3] = format!("sales|create|opportunity|customer||{id}");
    assert_eq!(got, want);
    let at: Vec<i64> = admin
        .query("SELECT DISTINCT at FROM crm.audit", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(at, [1_764_547_200], "every row at crm.now()");
    // The chain is crm's own: copied into a SQLite crm database, crm verifies it.
    let lite = rusqlite::Connection::open_in_memory().unwrap();
    crm::db::migrate::run(&lite).unwrap();
    for r in admin
        .query(
            "SELECT id, at, \"user\", action, entity, record_id, field, old, new, detail, hash FROM crm.audit ORDER BY id",
            &[],
        )
        .unwrap()
    {
        lite.execute(
            "INSERT INTO audit (id, at, user, action, entity, record_id, field, old, new, detail, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            rusqlite::params![
                r.get::<_, i64>(0),
                r.get::<_, i64>(1),
                r.get::<_, Option<String>>(2),
                r.get::<_, String>(3),
                r.get::<_, Option<String>>(4),
                r.get::<_, Option<i64>>(5),
                r.get::<_, Option<String>>(6),
                r.get::<_, Option<String>>(7),
                r.get::<_, Option<String>>(8),
                r.get::<_, Option<String>>(9),
                r.get::<_, String>(10),
            ],
        )
        .unwrap();
    }
    let lite = crm::db::Store::Sqlite(lite);
    assert_eq!(
        crm::db::audit::verify(&lite).unwrap(),
        None,
        "the chain verifies"
    );
    // On the server too, for those who may check the database without reading the log;
    // and a rewritten row (only the owner can, with the guard off) is found.
    for r in ["admin", "manager"] {
        let broken: Option<i64> = login(&db, r)
            .query_one("SELECT crm.audit_chain_break()", &[])
            .unwrap()
            .get(0);
        assert_eq!(broken, None, "{r}");
    }
    assert!(
        login(&db, "sales")
            .query_one("SELECT crm.audit_chain_break()", &[])
            .is_err()
    );
    admin
        .batch_execute(
            "ALTER TABLE crm.audit DISABLE TRIGGER audit_no_update; UPDATE crm.audit SET new = 'forged' WHERE id = 3; ALTER TABLE crm.audit ENABLE TRIGGER audit_no_update;",
        )
        .unwrap();
    let broken: Option<i64> = login(&db, "manager")
        .query_one("SELECT crm.audit_chain_break()", &[])
        .unwrap()
        .get(0);
    assert_eq!(broken, Some(3));
}

#[test]
fn pg_writers_queue_on_one_write_lock() {
    let Some(db) = setup("pg_writers_queue_on_one_write_lock") else {
        return;
    };
    let mut first = login(&db, "sales");
    let mut second = login(&db, "bob");
    let mut tx = first.transaction().unwrap();
    tx.execute("SELECT crm.begin_write()", &[]).unwrap();
    // While one writer holds it, another waits (here: gives up at once) ...
    let e = second
        .batch_execute("SET lock_timeout = 1; BEGIN; SELECT crm.begin_write();")
        .expect_err("the lock is held");
    assert_eq!(e.code(), Some(&SqlState::LOCK_NOT_AVAILABLE), "{e}");
    second.batch_execute("ROLLBACK").unwrap();
    // ... and gets it once the first commits.
    tx.commit().unwrap();
    second
        .batch_execute("BEGIN; SELECT crm.begin_write(); COMMIT;")
        .unwrap();
}
