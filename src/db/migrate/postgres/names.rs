//! `PostgreSQL` role names for one crm database. Roles are cluster-wide, so every name
//! carries the database's namespace: two crm databases on one cluster (staging and
//! production) never share a role. Pure functions of the database name and the crm name,
//! since crm must know the login role to connect before it can read any table.
//!
//! - group role per crm role: `crm_<ns>_<role>` (`crm_prod_sales`);
//! - login role per crm user: `<name folded to lower case>@<ns>` (`ann@prod`).
//!
//! A user name holds only letters, digits, `.`, `_` and `-` (`auth::names`), never `@`
//! nor `$`, so a login role never equals a group role nor another database's login; names
//! too long for `PostgreSQL`'s 63 bytes keep a readable prefix and a hash after a `$`.

use sha2::{Digest, Sha256};

use crate::db::audit::hex;
use crate::names::fold;
use crate::roles::Role;

/// `PostgreSQL`'s longest identifier, in bytes (NAMEDATALEN - 1).
pub const MAX_IDENT: usize = 63;
/// The longest namespace: room for the longest group suffix and a long user name.
const MAX_NS: usize = 24;

/// The database's namespace: its name when that is short plain lower-case ASCII
/// (`[a-z0-9_]`), else a short prefix of it, `$` and a hash of the whole name (`$` never
/// occurs in the plain form, so the two forms never meet).
pub fn namespace(database: &str) -> String {
    let plain = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    if !database.is_empty() && database.len() <= MAX_NS && database.chars().all(plain) {
        return database.to_string();
    }
    let prefix: String = database
        .to_lowercase()
        .chars()
        .filter(|&c| plain(c))
        .take(8)
        .collect();
    format!("{prefix}${}", short_hash(database))
}

/// The group role of a crm role in that database (`crm_prod_sales`).
pub fn group_role(database: &str, role: Role) -> String {
    format!("crm_{}_{}", namespace(database), role.as_str())
}

/// The login role of a crm user in that database (`ann@prod`): the same for every case of
/// the name, as crm finds users ignoring case.
pub fn login_role(database: &str, user: &str) -> String {
    let ns = namespace(database);
    let folded = fold(user);
    let budget = MAX_IDENT - 1 - ns.len();
    if folded.len() <= budget {
        return format!("{folded}@{ns}");
    }
    let mut head = String::new();
    for c in folded.chars() {
        if head.len() + c.len_utf8() > budget - 13 {
            break;
        }
        head.push(c);
    }
    format!("{head}${}@{ns}", short_hash(&folded))
}

/// 12 hex digits of SHA-256: 48 bits, enough to tell apart the names of one cluster.
fn short_hash(s: &str) -> String {
    hex(&Sha256::digest(s.as_bytes())[..6])
}

/// An identifier quoted for SQL.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A string literal for SQL (`standard_conforming_strings` is on since `PostgreSQL` 9.1).
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::{MAX_IDENT, group_role, login_role, namespace};
    use crate::roles::{ROLES, Role};

    #[test]
    fn names_stay_apart_across_databases() {
        assert_eq!(group_role("prod", Role::Sales), "crm_prod_sales");
        assert_eq!(login_role("prod", "Ann"), "ann@prod");
        assert_eq!(login_role("prod", "ANN"), login_role("prod", "ann"));
        assert_ne!(login_role("prod", "ann"), login_role("staging", "ann"));
        // a user named like a group role gets a role of another form
        assert_ne!(login_role("prod", "crm_prod_sales"), "crm_prod_sales");
        // plain and hashed namespaces never meet, and odd names are hashed
        assert!(namespace("Prod").contains('$'));
        assert_ne!(namespace("Prod"), namespace("prod"));
        assert!(namespace("my-db").contains('$'));
    }

    #[test]
    fn names_fit_postgres() {
        let long_db = "a".repeat(200);
        let long_user = "李".repeat(64);
        for db in ["prod", long_db.as_str(), "数据库", "x\"y"] {
            for r in ROLES {
                let g = group_role(db, Role::parse(r).unwrap());
                assert!(g.len() <= MAX_IDENT, "{g}");
            }
            for u in ["ann", long_user.as_str(), "a.b_c-d"] {
                let l = login_role(db, u);
                assert!(l.len() <= MAX_IDENT, "{l}");
                assert!(l.contains('@'));
            }
        }
        assert_ne!(
            login_role("prod", &"a".repeat(64)),
            login_role("prod", &format!("{}b", "a".repeat(63)))
        );
    }
}
