//! Tokens for automation as `PostgreSQL` login roles (the tables and `crm.actor()` are in
//! the frozen `v6.sql`): one login role per token, `token:LOOKUP@NS`
//! (`db::tokens::login_role`), whose password is the token's secret, valid until its
//! expiry by the server's clock, in the group of the token's role. So the server checks a
//! token and enforces its role as it does a user's, for crm and for `psql` alike.
//!
//! - `crm.add_token_login(token_id, role, password, ttl)`: makes the login (an admin's
//!   `crm token create`; the password a SCRAM verifier made by the client).
//! - `crm.sync_token_logins(user_id)`: a token may log in only while it is not revoked, its
//!   owner is enabled and the owner's role covers the token's (`roles::covers`, the pairs
//!   generated here); run by `crm token revoke` and by a trigger on the owner's row.
//! - row security on `crm.tokens`: user managers see and revoke every token; a token's
//!   session sees its own row and notes its use (`last_used_at`), nothing else.

use std::fmt::Write;

use super::names::{group_role, namespace, quote_ident, quote_literal};
use crate::roles::{Action, ROLES, Role, allowed, covers};

/// The crm roles (as `security::roles`, not used from there: `security` includes this).
fn roles() -> impl Iterator<Item = Role> + Clone {
    ROLES.iter().map(|r| Role::parse(r).expect("ROLES parse"))
}

/// The functions, trigger, grants and policies for the database named `database`.
pub fn sql(database: &str) -> String {
    let suffix = quote_literal(&format!("@{}", namespace(database)));
    let prefix = quote_literal(&format!("crm_{}_", namespace(database)));
    let pairs: Vec<String> = roles()
        .flat_map(|owner| {
            roles()
                .filter(move |&t| covers(owner, t))
                .map(move |t| quote_literal(&format!("{}:{}", owner.as_str(), t.as_str())))
        })
        .collect();
    let mut s = String::new();
    let _ = write!(
        s,
        r"CREATE OR REPLACE FUNCTION crm.sync_token_logins(p_user_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT tl.role::text AS login, t.revoked = 0 AND u.disabled = 0
        AND (u.role || ':' || t.role) = ANY (ARRAY[{pairs}]) AS live
      FROM crm.tokens t JOIN crm.token_login tl ON tl.token_id = t.id
      JOIN crm.users u ON u.id = t.user_id WHERE t.user_id = p_user_id LOOP
    EXECUTE format('ALTER ROLE %I %s', r.login, CASE WHEN r.live THEN 'LOGIN' ELSE 'NOLOGIN' END);
  END LOOP;
END $$;
CREATE OR REPLACE FUNCTION crm.users_tokens_sync() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm AS $$
BEGIN
  PERFORM crm.sync_token_logins(NEW.id);
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS users_tokens_sync ON crm.users;
CREATE TRIGGER users_tokens_sync AFTER UPDATE OF role, disabled ON crm.users
  FOR EACH ROW EXECUTE FUNCTION crm.users_tokens_sync();
CREATE OR REPLACE FUNCTION crm.add_token_login(p_token_id bigint, p_role text, p_password text,
    p_ttl bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm AS $$
DECLARE t record;
BEGIN
  SELECT * INTO t FROM crm.tokens WHERE id = p_token_id;
  IF t.id IS NULL THEN
    RAISE EXCEPTION 'no crm token with id %', p_token_id USING ERRCODE = 'no_data_found';
  END IF;
  IF p_role <> 'token:' || t.lookup || {suffix} THEN
    RAISE EXCEPTION 'not the login role of that crm token: %', p_role
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  EXECUTE format('CREATE ROLE %I NOLOGIN PASSWORD %L VALID UNTIL %L', p_role, p_password,
    (transaction_timestamp() + make_interval(secs => p_ttl))::text);
  EXECUTE format('GRANT %I TO %I', {prefix} || t.role, p_role);
  INSERT INTO crm.token_login (role, token_id) VALUES (p_role::name, p_token_id);
  PERFORM crm.sync_token_logins(t.user_id);
END $$;
REVOKE ALL ON FUNCTION crm.sync_token_logins(bigint), crm.users_tokens_sync(),
  crm.add_token_login(bigint, text, text, bigint) FROM PUBLIC;
ALTER TABLE crm.tokens ENABLE ROW LEVEL SECURITY;
",
        pairs = pairs.join(", ")
    );
    for role in roles() {
        tokens_rights(&mut s, role, &quote_ident(&group_role(database, role)));
    }
    s
}

/// What one group may do with the tokens table and functions.
fn tokens_rights(s: &mut String, role: Role, g: &str) {
    let r = role.as_str();
    let manage = allowed(role, Action::ManageUsers, None, None);
    let rows = if manage {
        "true"
    } else {
        "id = crm.my_token()"
    };
    let _ = writeln!(
        s,
        "GRANT EXECUTE ON FUNCTION crm.my_token() TO {g};\nGRANT SELECT, UPDATE (last_used_at) ON crm.tokens TO {g};\nCREATE POLICY tokens_{r}_read ON crm.tokens FOR SELECT TO {g} USING ({rows});\nCREATE POLICY tokens_{r}_use ON crm.tokens FOR UPDATE TO {g} USING ({rows}) WITH CHECK ({rows});"
    );
    if manage {
        let _ = writeln!(
            s,
            "GRANT INSERT, UPDATE (revoked) ON crm.tokens TO {g};\nCREATE POLICY tokens_{r}_create ON crm.tokens FOR INSERT TO {g} WITH CHECK (true);\nGRANT EXECUTE ON FUNCTION crm.add_token_login(bigint, text, text, bigint), crm.sync_token_logins(bigint) TO {g};"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::sql;

    #[test]
    fn tokens_cover_only_what_their_owner_may() {
        let s = sql("prod");
        assert!(s.contains("'admin:manager'") && s.contains("'sales:viewer'"));
        assert!(!s.contains("'sales:manager'") && !s.contains("'viewer:sales'"));
        // only user managers make tokens; every group reads at most its own token's row
        assert!(s.contains("GRANT EXECUTE ON FUNCTION crm.add_token_login(bigint, text, text, bigint), crm.sync_token_logins(bigint) TO \"crm_prod_admin\";"));
        assert!(!s.contains("crm.add_token_login(bigint, text, text, bigint), crm.sync_token_logins(bigint) TO \"crm_prod_manager\""));
        assert!(s.contains("CREATE POLICY tokens_viewer_read ON crm.tokens FOR SELECT TO \"crm_prod_viewer\" USING (id = crm.my_token());"));
    }
}
