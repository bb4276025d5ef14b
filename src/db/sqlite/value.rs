//! The `SQLite` edge of crm's [`Value`]: binding it as a parameter and reading it from a row.

use rusqlite::types::{
    FromSql, FromSqlResult, ToSql, ToSqlOutput, Value as Sql, ValueRef as SqlRef,
};

use crate::schema::{Value, ValueRef};

impl ToSql for Value {
    #[inline]
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        // Borrowed: binding a value copies nothing (the import hot path binds every cell).
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => SqlRef::Null,
            Value::Integer(i) => SqlRef::Integer(*i),
            Value::Real(r) => SqlRef::Real(*r),
            Value::Text(t) => SqlRef::Text(t.as_bytes()),
            Value::Blob(b) => SqlRef::Blob(b),
        }))
    }
}

impl FromSql for Value {
    #[inline]
    fn column_result(v: SqlRef<'_>) -> FromSqlResult<Self> {
        // Through rusqlite's own conversion, so reading behaves exactly as it always did.
        Ok(match Sql::from(v) {
            Sql::Null => Value::Null,
            Sql::Integer(i) => Value::Integer(i),
            Sql::Real(r) => Value::Real(r),
            Sql::Text(t) => Value::Text(t),
            Sql::Blob(b) => Value::Blob(b),
        })
    }
}

/// A borrowed cell as crm's [`ValueRef`].
#[inline]
pub fn value_ref(v: SqlRef<'_>) -> ValueRef<'_> {
    match v {
        SqlRef::Null => ValueRef::Null,
        SqlRef::Integer(i) => ValueRef::Integer(i),
        SqlRef::Real(r) => ValueRef::Real(r),
        SqlRef::Text(t) => ValueRef::Text(t),
        SqlRef::Blob(b) => ValueRef::Blob(b),
    }
}
