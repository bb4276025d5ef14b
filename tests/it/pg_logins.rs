//! crm users as `PostgreSQL` logins (`migrate::postgres::logins`): a crm admin, who holds
//! no cluster right, adds users as login roles of this database only; a user's role and
//! disabled flag in `crm.users` decide their group and whether they may log in.

use crm::auth::{Action, Role, allowed};
use crm::db::migrate::postgres::names;
use crm::schema::Entity;
use postgres::error::SqlState;

use crate::pg_harness::{self, PW};

#[test]
fn pg_admins_manage_logins_without_cluster_rights() {
    let Some(db) = pg_harness::fresh("pg_admins_manage_logins_without_cluster_rights") else {
        return;
    };
    db.init().unwrap();
    let admin_role = db.add_user("boss", Role::Admin);
    let mut boss = db.login(&admin_role).unwrap();
    let cluster_rights: bool = boss
        .query_one(
            "SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = session_user",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(!cluster_rights, "a crm admin holds no cluster right");
    // The admin adds carol (sales) as crm will: her row, then her login.
    let id: i64 = boss
        .query_one(
            "INSERT INTO crm.users (name, role, password_hash, created_at, updated_at) VALUES ('Carol', 'sales', '', 0, 0) RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    let carol = names::login_role(&db.name, "Carol");
    boss.execute("SELECT crm.add_login($1, $2, $3)", &[&id, &carol, &PW])
        .unwrap();
    let mut c = db.login(&carol).expect("carol logs in");
    let me: String = c.query_one("SELECT crm.me()", &[]).unwrap().get(0);
    assert_eq!(me, "Carol");
    c.execute(
        "INSERT INTO crm.customer (code, owner, created_at, updated_at) VALUES ('C-C', 'Carol', 0, 0)",
        &[],
    )
    .expect("sales adds its own customer");
    drop(c);
    // Names equal ignoring case are one login role: a second one cannot be made, even by
    // two admins racing past crm's own check (the transaction rolls back whole).
    let twin: i64 = boss
        .query_one(
            "INSERT INTO crm.users (name, role, password_hash, created_at, updated_at) VALUES ('CAROL', 'sales', '', 0, 0) RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    let e = boss
        .execute(
            "SELECT crm.add_login($1, $2, $3)",
            &[&twin, &names::login_role(&db.name, "CAROL"), &PW],
        )
        .expect_err("a second Carol");
    assert_eq!(e.code(), Some(&SqlState::DUPLICATE_OBJECT), "{e}");
    boss.execute("DELETE FROM crm.users WHERE id = $1", &[&twin])
        .expect_err("admins do not delete users (crm disables them)");
    // Only roles of this database, and only by admins.
    for bad in ["postgres", "x@elsewhere", "a@b@"] {
        let e = boss
            .execute("SELECT crm.add_login($1, $2, $3)", &[&id, &bad, &PW])
            .expect_err(bad);
        assert_eq!(
            e.code(),
            Some(&SqlState::INVALID_PARAMETER_VALUE),
            "{bad}: {e}"
        );
    }
    let sales = db.add_user("sam", Role::Sales);
    let e = db
        .login(&sales)
        .unwrap()
        .execute("SELECT crm.add_login($1, $2, $3)", &[&id, &"z@x", &PW])
        .expect_err("sales adds a login");
    assert_eq!(e.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE), "{e}");
    // A new role in crm.users is a new group: carol, now a viewer, adds nothing.
    boss.execute("UPDATE crm.users SET role = 'viewer' WHERE id = $1", &[&id])
        .unwrap();
    let customer = Entity::get("customer").unwrap();
    let mut c = db.login(&carol).unwrap();
    let added = c.execute(
        "INSERT INTO crm.customer (code, owner, created_at, updated_at) VALUES ('C-C2', 'Carol', 0, 0)",
        &[],
    );
    assert_eq!(
        added.is_ok(),
        allowed(Role::Viewer, Action::Create, Some(customer), Some(true))
    );
    drop(c);
    // A new password set by the admin; the old one no longer works.
    boss.execute(
        "SELECT crm.set_login_password($1, $2)",
        &[&id, &"another good password"],
    )
    .unwrap();
    assert!(db.login(&carol).is_err(), "the old password still works");
    boss.execute("SELECT crm.set_login_password($1, $2)", &[&id, &PW])
        .unwrap();
    // Disabled: no login at all.
    boss.execute("UPDATE crm.users SET disabled = 1 WHERE id = $1", &[&id])
        .unwrap();
    let Err(e) = db.login(&carol) else {
        panic!("a disabled user logs in")
    };
    assert_eq!(
        e.code(),
        Some(&SqlState::INVALID_AUTHORIZATION_SPECIFICATION),
        "{e}"
    );
    boss.execute("UPDATE crm.users SET disabled = 0 WHERE id = $1", &[&id])
        .unwrap();
    db.login(&carol).expect("enabled again");
}
