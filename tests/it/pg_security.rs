//! The role matrix enforced by `PostgreSQL` itself (`migrate::postgres::security`): logins
//! of each crm group, connected directly as `psql` would, can do no more than crm lets
//! them: no other owner's records changed, no password hash read, no audit row rewritten;
//! their changes are audited in their own name; two crm databases share no role.

use crm::auth::{Action, ROLES, Role, allowed};
use crm::db::migrate::postgres::names;
use crm::schema::Entity;
use postgres::Client;
use postgres::error::SqlState;

use crate::pg_harness::{self, PgDb};

/// A database set up with a user of every role (named after it) plus a second sales user.
fn setup(test: &str) -> Option<PgDb> {
    let db = pg_harness::fresh(test)?;
    db.init().unwrap();
    for r in ROLES {
        db.add_user(r, Role::parse(r).unwrap());
    }
    db.add_user("bob", Role::Sales);
    Some(db)
}

fn login(db: &PgDb, user: &str) -> Client {
    db.login(&names::login_role(&db.name, user))
        .unwrap_or_else(|e| panic!("login as {user}: {e}"))
}

#[track_caller]
fn denied(r: Result<u64, postgres::Error>, what: &str) {
    let e = r.expect_err(what);
    assert_eq!(
        e.code(),
        Some(&SqlState::INSUFFICIENT_PRIVILEGE),
        "{what}: {e}"
    );
}

fn add_customer(c: &mut Client, code: &str, owner: &str) -> i64 {
    c.query_one(
        "INSERT INTO crm.customer (code, name, owner, created_at, updated_at) VALUES ($1, $1, $2, 0, 0) RETURNING id",
        &[&code, &owner],
    )
    .unwrap()
    .get(0)
}

#[test]
fn pg_sales_changes_only_its_own_records() {
    let Some(db) = setup("pg_sales_changes_only_its_own_records") else {
        return;
    };
    let mut bob = login(&db, "bob");
    let theirs = add_customer(&mut bob, "C-BOB", "bob");
    let mut sales = login(&db, "sales");
    let mine = add_customer(&mut sales, "C-MINE", "sales");
    // Reading another's customer: exactly what the matrix says (SPEC: sales read all).
    let seen = sales
        .query("SELECT id FROM crm.customer WHERE id = $1", &[&theirs])
        .unwrap()
        .len();
    let customer = Entity::get("customer").unwrap();
    assert_eq!(
        seen == 1,
        allowed(Role::Sales, Action::Read, Some(customer), Some(false))
    );
    // Changing it: the row is out of reach, nothing changes.
    let n = sales
        .execute(
            "UPDATE crm.customer SET name = 'mine now' WHERE id = $1",
            &[&theirs],
        )
        .unwrap();
    assert_eq!(n, 0, "sales updated another owner's customer");
    let n = sales
        .execute("DELETE FROM crm.customer WHERE id = $1", &[&theirs])
        .unwrap();
    assert_eq!(n, 0, "sales deleted another owner's customer");
    let name: String = db
        .admin()
        .query_one("SELECT name FROM crm.customer WHERE id = $1", &[&theirs])
        .unwrap()
        .get(0);
    assert_eq!(name, "C-BOB");
    // Nor giving away its own, nor adding one in another's name, nor filing under theirs
    // (through a record owned directly or one owned through its customer).
    denied(
        sales.execute(
            "UPDATE crm.customer SET owner = 'bob' WHERE id = $1",
            &[&mine],
        ),
        "give a customer away",
    );
    denied(
        sales.execute(
            "INSERT INTO crm.customer (code, owner, created_at, updated_at) VALUES ('C-X', 'bob', 0, 0)",
            &[],
        ),
        "add a customer for bob",
    );
    denied(
        sales.execute(
            "INSERT INTO crm.contact (customer, name, created_at, updated_at) VALUES ($1, 'x', 0, 0)",
            &[&theirs],
        ),
        "add a contact under bob's customer",
    );
    denied(
        sales.execute(
            "INSERT INTO crm.opportunity (customer, name, owner, created_at, updated_at) VALUES ($1, 'x', 'sales', 0, 0)",
            &[&theirs],
        ),
        "file an own opportunity under bob's customer",
    );
    // Its own: all of it works.
    sales
        .execute(
            "INSERT INTO crm.contact (customer, name, created_at, updated_at) VALUES ($1, 'x', 0, 0)",
            &[&mine],
        )
        .unwrap();
    assert_eq!(
        sales
            .execute(
                "UPDATE crm.customer SET name = 'renamed' WHERE id = $1",
                &[&mine]
            )
            .unwrap(),
        1
    );
    // A viewer changes nothing; a service user adds no customer.
    let mut viewer = login(&db, "viewer");
    denied(
        viewer.execute("UPDATE crm.customer SET name = 'v' WHERE id = $1", &[&mine]),
        "viewer update",
    );
    let mut service = login(&db, "service");
    denied(
        service.execute(
            "INSERT INTO crm.customer (code, owner, created_at, updated_at) VALUES ('C-S', 'service', 0, 0)",
            &[],
        ),
        "service adds a customer",
    );
}

#[test]
fn pg_no_role_reads_password_hashes() {
    let Some(db) = setup("pg_no_role_reads_password_hashes") else {
        return;
    };
    for r in ROLES {
        let mut c = login(&db, r);
        let e = c
            .query("SELECT password_hash FROM crm.users", &[])
            .expect_err(r);
        assert_eq!(
            e.code(),
            Some(&SqlState::INSUFFICIENT_PRIVILEGE),
            "{r}: {e}"
        );
        let e = c.query("SELECT * FROM crm.users", &[]).expect_err(r);
        assert_eq!(
            e.code(),
            Some(&SqlState::INSUFFICIENT_PRIVILEGE),
            "{r}: {e}"
        );
        let names = c.query("SELECT name FROM crm.users", &[]).unwrap();
        assert_eq!(names.len(), ROLES.len() + 1, "{r} sees who the users are");
        // The sessions and the login mapping are out of reach too.
        assert!(c.query("SELECT * FROM crm.sessions", &[]).is_err(), "{r}");
        assert!(c.query("SELECT * FROM crm.login", &[]).is_err(), "{r}");
    }
}

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
fn pg_two_databases_share_no_role() {
    let (Some(prod), Some(staging)) = (
        pg_harness::fresh("pg_two_databases_share_no_role"),
        pg_harness::fresh("pg_two_databases_share_no_role"),
    ) else {
        return;
    };
    prod.init().unwrap();
    staging.init().unwrap();
    let groups = |db: &PgDb| -> Vec<String> {
        ROLES
            .iter()
            .map(|r| names::group_role(&db.name, Role::parse(r).unwrap()))
            .collect()
    };
    let all: Vec<String> = groups(&prod).into_iter().chain(groups(&staging)).collect();
    let found: i64 = prod
        .admin()
        .query_one(
            "SELECT count(DISTINCT rolname) FROM pg_roles WHERE rolname::text = ANY($1)",
            &[&all],
        )
        .unwrap()
        .get(0);
    assert_eq!(found, 10, "five group roles per database, none shared");
    // The same crm user name is two roles, and one database's user reaches nothing in the other.
    let p = prod.add_user("ann", Role::Admin);
    let s = staging.add_user("ann", Role::Admin);
    assert_ne!(p, s);
    // (PostgreSQL grants CONNECT to PUBLIC unless the database's owner revoked it: crm
    // does not, as the database may serve others too.)
    if let Ok(mut c) = staging.login(&p) {
        let e = c
            .query("SELECT count(*) FROM crm.customer", &[])
            .expect_err("prod's admin reads staging");
        assert_eq!(e.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE), "{e}");
    }
}

#[test]
fn pg_reads_of_the_audit_and_stage_history_follow_the_matrix() {
    let Some(db) = setup("pg_reads_of_the_audit_and_stage_history_follow_the_matrix") else {
        return;
    };
    let mut bob = login(&db, "bob");
    bob.execute(
        "INSERT INTO crm.customer (code, status, owner, created_at, updated_at) VALUES ('C-B', 'active', 'bob', 0, 0)",
        &[],
    )
    .unwrap();
    let opp: i64 = bob
        .query_one(
            "INSERT INTO crm.opportunity (customer, name, owner, created_at, updated_at) SELECT id, 'o', 'bob', 0, 0 FROM crm.customer RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    // A change made outside crm's users is audited under its PostgreSQL role.
    db.admin()
        .execute("UPDATE crm.customer SET notes = 'by the DBA'", &[])
        .unwrap();
    let count = |c: &mut Client| -> i64 {
        c.query_one("SELECT count(*) FROM crm.audit", &[])
            .unwrap()
            .get(0)
    };
    let mut admin = login(&db, "admin");
    let all = count(&mut admin);
    let dba: i64 = admin
        .query_one(
            "SELECT count(*) FROM crm.audit WHERE \"user\" = 'pg:postgres'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(dba, 1);
    // Other roles read only what reports need: customer status changes.
    let mut sales = login(&db, "sales");
    assert_eq!(
        count(&mut sales),
        1,
        "sales reads the customer status row only"
    );
    assert!(all > 1);
    let mut manager = login(&db, "manager");
    assert_eq!(
        count(&mut manager),
        1,
        "no audit for managers (auth::allowed)"
    );
    // Stage history: a stage for another's opportunity is refused, for bob's own taken.
    denied(
        sales.execute(
            "INSERT INTO crm.opportunity_stage (opportunity, stage, entered_at) VALUES ($1, 'won', 0)",
            &[&opp],
        ),
        "a stage for another's opportunity",
    );
    bob.execute(
        "INSERT INTO crm.opportunity_stage (opportunity, stage, entered_at) VALUES ($1, 'won', 0)",
        &[&opp],
    )
    .unwrap();
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
