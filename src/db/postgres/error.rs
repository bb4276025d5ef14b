//! The `PostgreSQL` edge of crm's errors: each server error is classified by its SQLSTATE
//! into a [`Fault`], so exit statuses match `SQLite`'s: a lock or serialization failure is
//! busy (8), a unique or foreign-key violation a conflict (5), an unreachable server or a
//! full disk a storage error (9), a refused password an authentication error (6).

use std::sync::Arc;

use postgres::error::SqlState;

use crate::db::error::Fault;
use crate::error::{Error, ErrorKind};

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        let Some(db) = e.as_db_error() else {
            // No server answer: the connection failed or broke.
            let mut detail = e.to_string();
            if let Some(cause) = std::error::Error::source(&e) {
                detail = format!("{detail}: {cause}");
            }
            // The server asked for a password that neither a crm session, PGPASSWORD nor
            // ~/.pgpass gave: the user is not logged in, not the server unreachable.
            if detail.ends_with("password missing") {
                return Error::new(
                    ErrorKind::Auth,
                    "not logged in: the server asks for a password and none was given",
                )
                .hint("run `crm login --db URL` (or set PGPASSWORD or ~/.pgpass in scripts)")
                .with_source(Arc::new(e));
            }
            return if e.is_closed() || std::error::Error::source(&e).is_some() {
                Error::storage(format!("cannot reach the PostgreSQL server: {detail}"))
                    .hint("check --db (host, port, socket directory) and that the server runs")
                    .with_source(Arc::new(e))
            } else {
                Fault::Other.error(None, &detail, Arc::new(e))
            };
        };
        let code = db.code().clone();
        let detail = match db.detail() {
            Some(d) => format!("{}: {d}", db.message()),
            None => db.message().to_string(),
        };
        if code == SqlState::INVALID_PASSWORD
            || code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            return Error::new(ErrorKind::Auth, "wrong user name or password")
                .with_source(Arc::new(e));
        }
        if matches!(code.code(), "42710" | "42P06" | "42P07") {
            // duplicate_object (a role), duplicate_schema, duplicate_table: set up already,
            // or a role left on the cluster by a dropped database of the same name.
            return Error::conflict(format!("already exists: {}", db.message()))
                .hint("nothing was changed; a role of a dropped database of the same name can be dropped with DROP ROLE")
                .with_source(Arc::new(e));
        }
        if code == SqlState::INSUFFICIENT_PRIVILEGE {
            return Error::new(
                ErrorKind::Denied,
                format!("permission denied: {}", db.message()),
            )
            .with_source(Arc::new(e));
        }
        if code == SqlState::UNIQUE_VIOLATION
            && let Some(field) = unique_field(db.table(), db.constraint())
        {
            return Fault::Unique.error(None, &field, Arc::new(e));
        }
        let fault = fault_of(&code);
        fault.error(Some(code.code()), &detail, Arc::new(e))
    }
}

/// `table.field` of a unique constraint named as `PostgreSQL` names them (`customer_code_key`
/// for `UNIQUE` on `customer.code`), as `SQLite` names the field in its message.
fn unique_field(table: Option<&str>, constraint: Option<&str>) -> Option<String> {
    let (table, constraint) = (table?, constraint?);
    let field = constraint
        .strip_prefix(table)?
        .strip_prefix('_')?
        .strip_suffix("_key")?;
    Some(format!("{table}.{field}"))
}

/// The engine-neutral fault of a SQLSTATE.
pub fn fault_of(code: &SqlState) -> Fault {
    match code.code() {
        "40001" | "40P01" | "55P03" => Fault::Busy,
        "23505" => Fault::Unique,
        "23503" => Fault::ForeignKey,
        "25006" => Fault::ReadOnly,
        "53100" => Fault::DiskFull,
        "XX001" | "XX002" => Fault::Corrupt,
        c if c.starts_with("08") || c.starts_with("57P") || c == "3D000" => Fault::CannotOpen,
        c if c.starts_with("58") => Fault::Io,
        _ => Fault::Other,
    }
}

/// Whether an error is one a retry may cure (a serialization failure, a deadlock, a lock
/// not granted): crm retries the transaction until `--busy-timeout`.
pub fn is_retryable(e: &postgres::Error) -> bool {
    e.code().is_some_and(|c| fault_of(c) == Fault::Busy)
}

#[cfg(test)]
mod tests {
    use super::fault_of;
    use crate::db::error::Fault;
    use postgres::error::SqlState;

    #[test]
    fn unique_constraints_name_their_field() {
        assert_eq!(
            super::unique_field(Some("customer"), Some("customer_code_key")).as_deref(),
            Some("customer.code")
        );
        assert_eq!(
            super::unique_field(Some("users"), Some("users_name_key")).as_deref(),
            Some("users.name")
        );
        assert_eq!(super::unique_field(Some("t"), Some("other")), None);
    }

    #[test]
    fn sqlstates_map_to_faults() {
        assert_eq!(fault_of(&SqlState::T_R_SERIALIZATION_FAILURE), Fault::Busy);
        assert_eq!(fault_of(&SqlState::T_R_DEADLOCK_DETECTED), Fault::Busy);
        assert_eq!(fault_of(&SqlState::UNIQUE_VIOLATION), Fault::Unique);
        assert_eq!(
            fault_of(&SqlState::FOREIGN_KEY_VIOLATION),
            Fault::ForeignKey
        );
        assert_eq!(fault_of(&SqlState::DISK_FULL), Fault::DiskFull);
        assert_eq!(
            fault_of(&SqlState::READ_ONLY_SQL_TRANSACTION),
            Fault::ReadOnly
        );
        assert_eq!(fault_of(&SqlState::ADMIN_SHUTDOWN), Fault::CannotOpen);
        assert_eq!(fault_of(&SqlState::SYNTAX_ERROR), Fault::Other);
    }
}
