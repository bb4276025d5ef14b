//! The `SQLite` edge of errors: rusqlite's error classified as an engine-neutral [`Fault`],
//! kept as the source of the crm error it becomes.

use std::sync::Arc;

use rusqlite::ErrorCode as C;

use crate::db::error::Fault;
use crate::error::Error;

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        let rusqlite::Error::SqliteFailure(f, msg) = &e else {
            let detail = e.to_string();
            return Fault::Other.error(None, &detail, Arc::new(e));
        };
        // A commit refused because the file was deleted or replaced under us.
        if f.code == C::ConstraintViolation && crate::db::unlinked::is_refused(f) {
            return crate::db::unlinked::error();
        }
        let detail = msg.clone().unwrap_or_else(|| f.to_string());
        let (fault, code) = match f.code {
            C::DatabaseBusy | C::DatabaseLocked => (Fault::Busy, None),
            C::DiskFull => (Fault::DiskFull, Some("SQLITE_FULL")),
            C::ReadOnly => (Fault::ReadOnly, None),
            C::NotADatabase => (Fault::NotADatabase, Some("SQLITE_NOTADB")),
            C::DatabaseCorrupt => (Fault::Corrupt, Some("SQLITE_CORRUPT")),
            C::CannotOpen => (Fault::CannotOpen, None),
            C::SystemIoFailure => (Fault::Io, Some("SQLITE_IOERR")),
            C::ConstraintViolation if detail.contains("UNIQUE") => {
                // "UNIQUE constraint failed: customer.code": name the field, as PostgreSQL's does.
                let field = detail.rsplit(": ").next().unwrap_or(&detail).to_string();
                return Fault::Unique.error(None, &field, Arc::new(e));
            }
            C::ConstraintViolation if detail.contains("FOREIGN KEY") => (Fault::ForeignKey, None),
            _ => (Fault::Other, None),
        };
        fault.error(code, &detail, Arc::new(e))
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use crate::error::{Error, ErrorKind};

    #[test]
    fn a_unique_violation_is_a_conflict_that_keeps_the_engine_error() {
        let c = rusqlite::Connection::open_in_memory().expect("memory db");
        c.execute_batch("CREATE TABLE t (x UNIQUE); INSERT INTO t VALUES (1);")
            .expect("setup");
        let e = Error::from(
            c.execute("INSERT INTO t VALUES (1)", [])
                .expect_err("duplicate"),
        );
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert_eq!(e.message, "a unique value is already taken (t.x)");
        let source = e.source().expect("the rusqlite error is kept");
        assert!(
            source.downcast_ref::<rusqlite::Error>().is_some(),
            "{source:?}"
        );
    }

    #[test]
    fn an_error_outside_the_engine_is_internal() {
        let e = Error::from(rusqlite::Error::QueryReturnedNoRows);
        assert_eq!(e.kind, ErrorKind::Internal);
        assert!(e.message.starts_with("database error: "), "{}", e.message);
        assert!(e.source().is_some());
    }
}
