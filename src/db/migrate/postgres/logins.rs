//! crm users as `PostgreSQL` login roles, managed by crm's admins without any cluster
//! right of their own: `SECURITY DEFINER` functions, owned by the role that ran `crm init`
//! (which may create roles), do only what user administration needs, and only for this
//! database's roles.
//!
//! - `crm.add_login(user_id, role, password)`: the user's login role (named by
//!   `names::login_role`, checked here to carry this database's namespace), in its group.
//!   `password` should be a SCRAM verifier made by the client
//!   (`postgres_protocol::password::scram_sha_256`), so no password reaches the server's
//!   logs; a plain password is hashed by the server.
//! - `crm.set_login_password(user_id, password)`: an admin setting another's password (a
//!   user changes their own with `ALTER ROLE … PASSWORD`, which `PostgreSQL` allows).
//! - a trigger on `crm.users` keeps each login's group and `LOGIN`/`NOLOGIN` equal to the
//!   user's `role` and `disabled`, whoever changes them, so the table stays the one truth.

use std::fmt::Write;

use super::names::{group_role, namespace, quote_literal};
use super::security::roles;
use crate::roles::{Action, allowed};

/// The functions and trigger, for the database named `database`.
pub fn sql(database: &str) -> String {
    let suffix = quote_literal(&format!("@{}", namespace(database)));
    let groups: Vec<String> = roles()
        .map(|r| quote_literal(&group_role(database, r)))
        .collect();
    let prefix = quote_literal(&format!("crm_{}_", namespace(database)));
    let mut s = String::new();
    let _ = write!(
        s,
        r"CREATE OR REPLACE FUNCTION crm.sync_login(p_user_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm AS $$
DECLARE l text; r text; d bigint; g text;
BEGIN
  SELECT lg.role::text, u.role, u.disabled INTO l, r, d
    FROM crm.login lg JOIN crm.users u ON u.id = lg.user_id WHERE u.id = p_user_id;
  IF l IS NULL THEN RETURN; END IF;
  FOREACH g IN ARRAY ARRAY[{groups}] LOOP
    IF g = {prefix} || r THEN
      EXECUTE format('GRANT %I TO %I', g, l);
    ELSIF pg_has_role(l, g, 'MEMBER') THEN
      EXECUTE format('REVOKE %I FROM %I', g, l);
    END IF;
  END LOOP;
  EXECUTE format('ALTER ROLE %I %s', l, CASE WHEN d <> 0 THEN 'NOLOGIN' ELSE 'LOGIN' END);
END $$;
CREATE OR REPLACE FUNCTION crm.users_sync() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm AS $$
BEGIN
  PERFORM crm.sync_login(NEW.id);
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS users_sync ON crm.users;
CREATE TRIGGER users_sync AFTER UPDATE OF role, disabled ON crm.users
  FOR EACH ROW EXECUTE FUNCTION crm.users_sync();
CREATE OR REPLACE FUNCTION crm.add_login(p_user_id bigint, p_role text, p_password text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm AS $$
BEGIN
  IF right(p_role, length({suffix})) <> {suffix}
     OR strpos(left(p_role, -length({suffix})), '@') > 0 THEN
    RAISE EXCEPTION 'not a login role of this crm database: %', p_role
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NOT EXISTS (SELECT FROM crm.users WHERE id = p_user_id) THEN
    RAISE EXCEPTION 'no crm user with id %', p_user_id USING ERRCODE = 'no_data_found';
  END IF;
  EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', p_role, p_password);
  INSERT INTO crm.login (role, user_id) VALUES (p_role::name, p_user_id);
  PERFORM crm.sync_login(p_user_id);
END $$;
CREATE OR REPLACE FUNCTION crm.set_login_password(p_user_id bigint, p_password text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm AS $$
DECLARE l text;
BEGIN
  SELECT role::text INTO l FROM crm.login WHERE user_id = p_user_id;
  IF l IS NULL THEN
    RAISE EXCEPTION 'crm user % has no login role', p_user_id USING ERRCODE = 'no_data_found';
  END IF;
  EXECUTE format('ALTER ROLE %I PASSWORD %L', l, p_password);
END $$;
REVOKE ALL ON FUNCTION crm.sync_login(bigint), crm.users_sync(),
  crm.add_login(bigint, text, text), crm.set_login_password(bigint, text) FROM PUBLIC;
",
        groups = groups.join(", ")
    );
    for r in roles().filter(|&r| allowed(r, Action::ManageUsers, None, None)) {
        let _ = writeln!(
            s,
            "GRANT EXECUTE ON FUNCTION crm.add_login(bigint, text, text), crm.set_login_password(bigint, text) TO {};",
            super::names::quote_ident(&group_role(database, r))
        );
    }
    s
}
