//! The role matrix enforced by `PostgreSQL` itself (`migrate::postgres::security`): logins
//! of each crm group, connected directly as `psql` would, can do no more than crm lets
//! them: no other owner's records changed, no password hash read, no more of the audit log
//! and stage history than their role reads; two crm databases share no role.

use crm::auth::{Action, ROLES, Role, allowed};
use crm::db::migrate::postgres::names;
use crm::schema::Entity;
use postgres::Client;
use postgres::error::SqlState;

use crate::pg_harness::{self, PgDb, add_customer, denied, login, setup};

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
    // …but an own record cannot be moved under another's customer afterwards either.
    let opp: i64 = sales
        .query_one(
            "INSERT INTO crm.opportunity (customer, name, owner, created_at, updated_at) VALUES ($1, 'o', 'sales', 0, 0) RETURNING id",
            &[&mine],
        )
        .unwrap()
        .get(0);
    denied(
        sales.execute(
            "UPDATE crm.opportunity SET customer = $1 WHERE id = $2",
            &[&theirs, &opp],
        ),
        "move an own opportunity under bob's customer",
    );
    denied(
        sales.execute(
            "UPDATE crm.contact SET customer = $1 WHERE customer = $2",
            &[&theirs, &mine],
        ),
        "move a contact under bob's customer",
    );
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

/// The pool's policies let sales claim and release only while `crm.pool_move` names the
/// move, and then only the owner changes, in that direction: setting it by hand in `psql`
/// opens no edit of an own or a pool customer.
#[test]
fn pg_a_pool_move_set_by_hand_changes_only_the_owner() {
    let Some(db) = setup("pg_a_pool_move_set_by_hand_changes_only_the_owner") else {
        return;
    };
    let mut bob = login(&db, "bob");
    let theirs = add_customer(&mut bob, "C-BOB", "bob");
    let mut sales = login(&db, "sales");
    let mine = add_customer(&mut sales, "C-MINE", "sales");
    let pooled: i64 = db
        .admin()
        .query_one(
            "INSERT INTO crm.customer (code, name, created_at, updated_at) VALUES ('C-POOL', 'pool', 0, 0) RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    let update = |c: &mut Client, sql: &str, id: i64| c.execute(sql, &[&id]);
    // Without the setting the pool is out of reach.
    assert_eq!(
        update(
            &mut sales,
            "UPDATE crm.customer SET owner = 'sales' WHERE id = $1",
            pooled
        )
        .unwrap(),
        0
    );
    sales.batch_execute("SET crm.pool_move = 'claim'").unwrap();
    denied(
        update(
            &mut sales,
            "UPDATE crm.customer SET name = 'x' WHERE id = $1",
            pooled,
        ),
        "edit a pool customer during a claim",
    );
    denied(
        update(
            &mut sales,
            "UPDATE crm.customer SET owner = 'sales', name = 'x' WHERE id = $1",
            pooled,
        ),
        "claim and edit at once",
    );
    denied(
        update(
            &mut sales,
            "UPDATE crm.customer SET name = 'x' WHERE id = $1",
            mine,
        ),
        "edit an own customer while claiming",
    );
    assert_eq!(
        update(
            &mut sales,
            "UPDATE crm.customer SET owner = 'sales' WHERE id = $1",
            pooled
        )
        .unwrap(),
        1
    );
    sales
        .batch_execute("SET crm.pool_move = 'release'")
        .unwrap();
    assert_eq!(
        update(
            &mut sales,
            "UPDATE crm.customer SET owner = NULL WHERE id = $1",
            theirs
        )
        .unwrap(),
        0,
        "released bob's customer"
    );
    denied(
        update(
            &mut sales,
            "UPDATE crm.customer SET owner = 'bob' WHERE id = $1",
            mine,
        ),
        "give a customer away during a release",
    );
    assert_eq!(
        update(
            &mut sales,
            "UPDATE crm.customer SET owner = NULL WHERE id = $1",
            mine
        )
        .unwrap(),
        1
    );
    let names: Vec<(String, Option<String>)> = db
        .admin()
        .query("SELECT name, owner FROM crm.customer ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        names,
        [
            ("C-BOB".to_string(), Some("bob".to_string())),
            ("C-MINE".to_string(), None),
            ("pool".to_string(), Some("sales".to_string())),
        ]
    );
}

#[test]
fn pg_no_role_reads_password_hashes() {
    let Some(db) = setup("pg_no_role_reads_password_hashes") else {
        return;
    };
    // One session per user, as crm login makes them.
    db.admin()
        .batch_execute(
            "INSERT INTO crm.sessions (token_hash, user_id, created_at, expires_at) SELECT 'h' || id, id, 0, 1 FROM crm.users",
        )
        .unwrap();
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
        // Sessions: one's own (admins: all, to end a disabled account's); the login
        // mapping is out of reach.
        let seen = c.query("SELECT user_id FROM crm.sessions", &[]).unwrap();
        let want = if r == "admin" { ROLES.len() + 1 } else { 1 };
        assert_eq!(seen.len(), want, "{r} sees its own sessions only");
        let others = c
            .execute(
                "UPDATE crm.sessions SET revoked = 1 WHERE user_id <> (SELECT id FROM crm.users WHERE name = crm.me())",
                &[],
            )
            .unwrap();
        assert_eq!(
            others,
            if r == "admin" { ROLES.len() as u64 } else { 0 },
            "{r}"
        );
        let forged = c.execute(
            "INSERT INTO crm.sessions (token_hash, user_id, created_at, expires_at) SELECT 'x', id, 0, 1 FROM crm.users WHERE name <> crm.me() LIMIT 1",
            &[],
        );
        assert!(forged.is_err(), "{r} opened a session for another user");
        assert!(c.query("SELECT * FROM crm.login", &[]).is_err(), "{r}");
    }
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
