//! The store's users, sessions, stage history and audit log on `PostgreSQL`, through crm's
//! own functions on a `Store::Postgres`: the same checks run on a `SQLite` store too, so
//! the two engines are held to one behaviour where they share it. Where they differ (who a
//! `PostgreSQL` audit row names, the triggers that write a record's changes) the test says so.

use crm::auth::Role;
use crm::db::postgres::{ConnInfo, Pg, setup};
use crm::db::{Store, audit, sessions, stages, users};

use crate::pg_harness::{PW, PgDb, fresh};

/// A crm store on the test's database (as the cluster's superuser, or as `login`).
fn store(db: &PgDb, login: Option<&str>) -> Store {
    let url = std::env::var("CRM_TEST_PG").expect("fresh() checked CRM_TEST_PG");
    let mut info = ConnInfo::parse(&url).expect("CRM_TEST_PG parses");
    info.config.dbname(&db.name);
    if let Some(role) = login {
        info.config.user(role).password(PW);
    }
    Store::Postgres(Pg::connect(&info).expect("connect a store"))
}

/// A fresh database set up by crm, and a store on it; None when there is no cluster.
fn pg_store(test: &str) -> Option<(PgDb, Store)> {
    let db = fresh(test)?;
    let s = store(&db, None);
    setup::create(&s).expect("setup::create");
    Some((db, s))
}

/// A migrated in-memory `SQLite` store: the reference the engines are held to.
fn sqlite_store() -> Store {
    let c = rusqlite::Connection::open_in_memory().unwrap();
    crm::db::migrate::run(&c).unwrap();
    Store::Sqlite(c)
}

fn users_behave(s: &mut Store) {
    let tx = s.write().unwrap();
    assert_eq!(users::count(&tx).unwrap(), 0);
    let a = users::insert(&tx, "alice", "admin", "h-a", 100).unwrap();
    let b = users::insert(&tx, "bob", "sales", "h-b", 200).unwrap();
    tx.commit().unwrap();
    assert!(b > a, "ids grow: {a} then {b}");
    let s: &Store = s;
    assert_eq!(users::count(s).unwrap(), 2);
    assert_eq!(
        users::names(s).unwrap(),
        [(a, "alice".to_string()), (b, "bob".to_string())]
    );
    assert_eq!(users::by_name(s, "bob").unwrap(), Some((b, "bob".into())));
    assert_eq!(
        users::by_name(s, "Bob").unwrap(),
        None,
        "names match exactly"
    );
    assert_eq!(
        users::hash_by_name(s, "alice").unwrap().as_deref(),
        Some("h-a")
    );
    assert_eq!(users::hash_by_name(s, "nobody").unwrap(), None);
    assert_eq!(users::hash_by_id(s, b).unwrap(), "h-b");
    assert_eq!(users::role_of(s, "bob").unwrap().as_deref(), Some("sales"));
    assert_eq!(users::role_of(s, "nobody").unwrap(), None);
    assert_eq!(users::enabled_admins(s).unwrap(), 1);

    users::set_failures(s, b, 3, 999).unwrap();
    let l = users::login_state(s, "bob").unwrap().expect("bob logs in");
    assert_eq!(
        (l.id, l.role.as_str(), l.password_hash.as_str()),
        (b, "sales", "h-b")
    );
    assert_eq!(
        (l.disabled, l.failed_logins, l.locked_until),
        (false, 3, 999)
    );
    assert!(users::login_state(s, "nobody").unwrap().is_none());
    users::clear_failure_count(s, b).unwrap();
    assert_eq!(users::lock_state(s, b).unwrap(), ("h-b".into(), 0, 999));

    // Disabling keeps a lock; enabling lifts it; either clears the failures.
    users::set_failures(s, b, 2, 999).unwrap();
    users::set_disabled(s, b, true, 300).unwrap();
    assert_eq!(users::lock_state(s, b).unwrap(), ("h-b".into(), 0, 999));
    assert_eq!(
        users::role_and_disabled(s, b).unwrap(),
        ("sales".into(), true)
    );
    users::set_disabled(s, b, false, 301).unwrap();
    assert_eq!(users::lock_state(s, b).unwrap(), ("h-b".into(), 0, 0));
    assert_eq!(
        users::role_and_disabled(s, b).unwrap(),
        ("sales".into(), false)
    );

    users::set_role(s, b, "admin", 302).unwrap();
    assert_eq!(users::enabled_admins(s).unwrap(), 2);
    users::set_disabled(s, a, true, 303).unwrap();
    assert_eq!(users::enabled_admins(s).unwrap(), 1);
    users::set_failures(s, b, 4, 777).unwrap();
    users::set_password(s, b, "h-new", 304).unwrap();
    assert_eq!(users::lock_state(s, b).unwrap(), ("h-new".into(), 0, 0));

    let list = users::list(s).unwrap();
    let got: Vec<_> = list
        .iter()
        .map(|u| {
            (
                u.id,
                u.name.as_str(),
                u.role.as_str(),
                u.disabled,
                u.locked_until,
                u.created_at,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (a, "alice", "admin", true, 0, 100),
            (b, "bob", "admin", false, 0, 200)
        ]
    );
    // A second user of one name is a conflict (exit 5) on both engines.
    let e = users::insert(s, "bob", "sales", "x", 400).expect_err("a taken name");
    assert_eq!(e.kind, crm::error::ErrorKind::Conflict, "{e:?}");
}

fn sessions_behave(s: &mut Store) {
    let u = users::insert(s, "carol", "sales", "h", 10).unwrap();
    for t in ["t1", "t2", "t3"] {
        sessions::create(s, t, u, 10, 1000).unwrap();
    }
    let f = sessions::find(s, "t1").unwrap().expect("a session");
    assert_eq!(
        (f.user_id, f.name.as_str(), f.role.as_str(), f.disabled),
        (u, "carol", "sales", false)
    );
    assert_eq!((f.created_at, f.expires_at, f.revoked), (10, 1000, false));
    assert!(sessions::find(s, "nope").unwrap().is_none());
    sessions::revoke(s, "t1").unwrap();
    assert!(sessions::find(s, "t1").unwrap().unwrap().revoked);
    sessions::revoke_others(s, u, Some("t2")).unwrap();
    assert!(!sessions::find(s, "t2").unwrap().unwrap().revoked);
    assert!(sessions::find(s, "t3").unwrap().unwrap().revoked);
    // Only live sessions count.
    assert_eq!(sessions::revoke_all(s, u).unwrap(), 1);
    assert_eq!(sessions::revoke_all(s, u).unwrap(), 0);
    sessions::create(s, "t4", u, 20, 1000).unwrap();
    sessions::revoke_others(s, u, None).unwrap();
    assert!(sessions::find(s, "t4").unwrap().unwrap().revoked);
}

fn stages_behave(s: &mut Store, opportunity: i64) {
    assert_eq!(stages::last(s, opportunity).unwrap(), None);
    assert!(stages::history(s, opportunity).unwrap().is_empty());
    stages::enter(s, opportunity, "qualify", 50).unwrap();
    stages::enter(s, opportunity, "propose", 40).unwrap();
    stages::enter(s, opportunity, "won", 60).unwrap();
    let h: Vec<(String, i64)> = stages::history(s, opportunity)
        .unwrap()
        .into_iter()
        .map(|st| (st.stage, st.entered_at))
        .collect();
    // In the order entered by time; the last is the one entered last.
    assert_eq!(
        h,
        [
            ("propose".to_string(), 40),
            ("qualify".to_string(), 50),
            ("won".to_string(), 60)
        ]
    );
    assert_eq!(
        stages::last(s, opportunity).unwrap().as_deref(),
        Some("won")
    );
}

/// The init row first, then a login and a change to a record, in one write transaction.
fn audit_some(s: &mut Store) {
    let tx = s.write().unwrap();
    audit::log(
        &tx,
        &[
            audit::Entry {
                user: Some("alice"),
                action: "user_add",
                entity: Some("user"),
                record_id: Some(1),
                detail: Some("init: first admin alice".into()),
                ..audit::Entry::default()
            },
            audit::Entry {
                user: Some("alice"),
                action: "login",
                detail: Some("fresh".into()),
                ..audit::Entry::default()
            },
        ],
    )
    .unwrap();
    tx.commit().unwrap();
}

fn audit_verifies(s: &Store, rows: i64) {
    assert_eq!(audit::count(s).unwrap(), rows);
    assert_eq!(audit::chain_break(s).unwrap(), None);
    assert_eq!(audit::verify(s).unwrap(), None);
    assert_eq!(audit::problems(s).unwrap(), Vec::<String>::new());
    let head = audit::head(s).unwrap().expect("a head");
    assert_eq!(head.id, rows);
    assert_eq!(audit::anchor_problem(s, &head).unwrap(), None);
    let wrong = audit::Head {
        id: head.id,
        hash: "0".repeat(64),
    };
    assert!(audit::anchor_problem(s, &wrong).unwrap().is_some());
}

#[test]
fn users_behave_alike_on_both_engines() {
    users_behave(&mut sqlite_store());
    let Some((_db, mut s)) = pg_store("users_behave_alike_on_both_engines") else {
        return;
    };
    users_behave(&mut s);
}

#[test]
fn sessions_behave_alike_on_both_engines() {
    sessions_behave(&mut sqlite_store());
    let Some((_db, mut s)) = pg_store("sessions_behave_alike_on_both_engines") else {
        return;
    };
    sessions_behave(&mut s);
}

#[test]
fn stage_history_behaves_alike_on_both_engines() {
    let mut lite = sqlite_store();
    let Store::Sqlite(c) = &lite else {
        unreachable!()
    };
    c.execute(
        "INSERT INTO opportunity (name, created_at, updated_at) VALUES ('deal', 0, 0)",
        [],
    )
    .unwrap();
    let id = c.last_insert_rowid();
    stages_behave(&mut lite, id);
    let Some((db, mut s)) = pg_store("stage_history_behaves_alike_on_both_engines") else {
        return;
    };
    let id: i64 = db
        .admin()
        .query_one(
            "INSERT INTO crm.opportunity (name, created_at, updated_at) VALUES ('deal', 0, 0) RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    stages_behave(&mut s, id);
}

#[test]
fn audit_rows_chain_and_verify_on_both_engines() {
    let mut lite = sqlite_store();
    audit_some(&mut lite);
    audit_verifies(&lite, 2);
    let Some((db, mut s)) = pg_store("audit_rows_chain_and_verify_on_both_engines") else {
        return;
    };
    audit_some(&mut s);
    audit_verifies(&s, 2);
    // Rows name the session's login, not what the caller says: the superuser is no crm user.
    let read = audit::read(&s, &audit::Filter::default()).unwrap();
    let got: Vec<(Option<&str>, &str, Option<&str>)> = read
        .iter()
        .map(|r| (r.user.as_deref(), r.action.as_str(), r.detail.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (
                Some("pg:postgres"),
                "user_add",
                Some("init: first admin alice")
            ),
            (Some("pg:postgres"), "login", Some("fresh"))
        ]
    );
    // A change to a record is audited by the table's trigger; the same entry passed to
    // `log` is not written twice.
    let mut admin = db.admin();
    let id: i64 = admin
        .query_one(
            "INSERT INTO crm.customer (code, name, created_at, updated_at) VALUES ('C-1', 'Acme', 0, 0) RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    let tx = s.write().unwrap();
    audit::log(
        &tx,
        &[audit::Entry {
            user: Some("alice"),
            action: "create",
            entity: Some("customer"),
            record_id: Some(id),
            field: Some("code"),
            new: Some("C-1".into()),
            ..audit::Entry::default()
        }],
    )
    .unwrap();
    tx.commit().unwrap();
    audit_verifies(&s, 4);
    let f = audit::Filter {
        entity: Some("customer".into()),
        id: Some(id),
        ..audit::Filter::default()
    };
    let fields: Vec<(String, Option<String>)> = audit::read(&s, &f)
        .unwrap()
        .into_iter()
        .map(|r| (r.action, r.field))
        .collect();
    assert_eq!(
        fields,
        [
            ("create".into(), Some("code".into())),
            ("create".into(), Some("name".into()))
        ]
    );
    let newest = audit::Filter {
        user: Some("pg:postgres".into()),
        limit: Some(1),
        ..audit::Filter::default()
    };
    let last = audit::read(&s, &newest).unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].id, Some(4));
}

#[test]
fn tampering_with_the_pg_audit_log_shows() {
    let Some((db, mut s)) = pg_store("tampering_with_the_pg_audit_log_shows") else {
        return;
    };
    audit_some(&mut s);
    audit_verifies(&s, 2);
    // The owner takes the protection away and rewrites a row: both show.
    db.admin()
        .batch_execute(
            "ALTER TABLE crm.audit DISABLE TRIGGER audit_no_update;
             ALTER TABLE crm.customer DISABLE TRIGGER audit_row;
             UPDATE crm.audit SET detail = 'stale' WHERE id = 2",
        )
        .unwrap();
    assert_eq!(
        audit::missing_triggers(&s).unwrap(),
        ["audit_no_update", "customer.audit_row"]
    );
    assert_eq!(audit::chain_break(&s).unwrap(), Some(2));
    let problems = audit::problems(&s).unwrap();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[1].contains("breaks at row 2"), "{problems:?}");
}

#[test]
fn a_manager_checks_the_whole_pg_chain_through_the_server() {
    let Some((db, mut s)) = pg_store("a_manager_checks_the_whole_pg_chain_through_the_server")
    else {
        return;
    };
    audit_some(&mut s);
    let login = db.add_user("mona", Role::Manager);
    let mgr = store(&db, Some(&login));
    // A manager sees none of these rows (row-level security), yet the chain is checked whole.
    assert_eq!(audit::count(&mgr).unwrap(), 0);
    assert_eq!(audit::chain_break(&mgr).unwrap(), None);
    // What it cannot see is not taken for deleted rows.
    assert_eq!(audit::truncation(&mgr).unwrap(), None);
    assert_eq!(audit::import_history(&mgr).unwrap(), None);
    db.admin()
        .batch_execute(
            "ALTER TABLE crm.audit DISABLE TRIGGER audit_no_update;
             UPDATE crm.audit SET detail = 'stale' WHERE id = 1",
        )
        .unwrap();
    assert_eq!(audit::chain_break(&mgr).unwrap(), Some(1));
}

#[test]
fn a_crm_admin_login_appends_in_its_own_name_and_verifies() {
    let Some((db, mut s)) = pg_store("a_crm_admin_login_appends_in_its_own_name_and_verifies")
    else {
        return;
    };
    audit_some(&mut s);
    let login = db.add_user("ann", Role::Admin);
    let mut ann = store(&db, Some(&login));
    let tx = ann.write().unwrap();
    audit::log(
        &tx,
        &[audit::Entry {
            user: Some("somebody else"),
            action: "export",
            entity: Some("customer"),
            detail: Some("1 row".into()),
            ..audit::Entry::default()
        }],
    )
    .unwrap();
    tx.commit().unwrap();
    // An admin reads the whole log, so the chain is checked here, row by row.
    audit_verifies(&ann, 3);
    let last = audit::read(
        &ann,
        &audit::Filter {
            limit: Some(1),
            ..audit::Filter::default()
        },
    )
    .unwrap();
    assert_eq!(last[0].user.as_deref(), Some("ann"));
    assert_eq!(last[0].action, "export");
    db.admin()
        .batch_execute(
            "ALTER TABLE crm.audit DISABLE TRIGGER audit_no_update;
             UPDATE crm.audit SET detail = '2 rows' WHERE id = 3",
        )
        .unwrap();
    assert_eq!(audit::chain_break(&ann).unwrap(), Some(3));
}
