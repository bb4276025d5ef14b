//! The few spellings where the engines' SQL differs in the statements crm writes once for
//! all of them (`find`/`export` queries, reports). Everything else in those statements is SQL both
//! `SQLite` and `PostgreSQL` read alike; what differs wholesale (bulk load, indexes, health
//! checks) stays in per-engine code instead.

use crate::db::Store;

/// An engine's SQL spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Store {
    /// How this store's engine spells the SQL that differs.
    pub fn dialect(&self) -> Dialect {
        match self {
            Store::Sqlite(_) => Dialect::Sqlite,
            Store::Postgres(_) => Dialect::Postgres,
        }
    }
}

impl Dialect {
    /// `col` contains the bound pattern (from [`crate::db::query::like_pattern`]), ignoring
    /// ASCII case. `SQLite`'s LIKE ignores ASCII case and reads a number as its digits;
    /// `PostgreSQL` needs ILIKE, and text to match (`amount~12` on a bigint column).
    pub fn contains(self, col: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{col} LIKE ? ESCAPE '\\'"),
            Dialect::Postgres => format!("CAST({col} AS text) ILIKE ? ESCAPE '\\'"),
        }
    }

    /// The `;`-joined tags in `col` include the bound `;tag;`, as a whole tag.
    pub fn has_tag(self, col: &str) -> String {
        match self {
            Dialect::Sqlite => format!("instr(';' || {col} || ';', ?) > 0"),
            Dialect::Postgres => format!("strpos(';' || {col} || ';', ?) > 0"),
        }
    }

    /// The LIMIT that means none, for an OFFSET without a limit (`PostgreSQL`: `ALL`).
    pub fn no_limit(self) -> &'static str {
        match self {
            Dialect::Sqlite => "-1",
            Dialect::Postgres => "ALL",
        }
    }

    /// The null-safe "differs from" operator (`IS DISTINCT FROM` in `PostgreSQL`).
    pub fn distinct(self) -> &'static str {
        match self {
            Dialect::Sqlite => "IS NOT",
            Dialect::Postgres => "IS DISTINCT FROM",
        }
    }

    /// `a` equals `b`, NULL equal to NULL, as an index can serve it: `PostgreSQL` uses no
    /// index for `IS NOT DISTINCT FROM`, so there it is spelled as an equality or both null
    /// (a correlated count per owner then reads the owner's index instead of every row).
    /// The OR still makes `PostgreSQL` read the table behind the index (a bitmap of two
    /// scans): where a count could come off the index alone, test the NULL case apart
    /// (`CASE WHEN b IS NULL THEN (… a IS NULL …) ELSE (… a = b …) END`, as the
    /// activities report does).
    pub fn same_as(self, a: &str, b: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{a} IS {b}"),
            Dialect::Postgres => format!("({a} = {b} OR ({a} IS NULL AND {b} IS NULL))"),
        }
    }

    /// The null-safe "equals" operator (`IS NOT DISTINCT FROM` in `PostgreSQL`).
    pub fn same(self) -> &'static str {
        match self {
            Dialect::Sqlite => "IS",
            Dialect::Postgres => "IS NOT DISTINCT FROM",
        }
    }

    /// A condition that is never true (`PostgreSQL`'s WHERE takes only a boolean).
    /// Text equal to the bound value, ignoring case (ASCII on `SQLite`, as its LIKE).
    pub fn same_text(self, col: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{col} = ? COLLATE NOCASE"),
            Dialect::Postgres => format!("lower(CAST({col} AS text)) = lower(?)"),
        }
    }

    pub fn never(self) -> &'static str {
        match self {
            Dialect::Sqlite => "0",
            Dialect::Postgres => "FALSE",
        }
    }

    /// `expr` where text is needed beside text (`COALESCE(key, ref)`): `SQLite` mixes
    /// types in one column, `PostgreSQL` needs one.
    pub fn as_text(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => expr.to_string(),
            Dialect::Postgres => format!("CAST({expr} AS text)"),
        }
    }

    /// ` INDEXED BY index`, after a table: `SQLite`'s planner hint for the big report
    /// scans. `PostgreSQL` has no hints (its planner reads statistics): nothing.
    pub fn indexed_by(self, index: &str) -> String {
        match self {
            Dialect::Sqlite => format!(" INDEXED BY {index}"),
            Dialect::Postgres => String::new(),
        }
    }

    /// ` NOT INDEXED`, after a table: `SQLite`'s hint for a straight scan; nothing on
    /// `PostgreSQL`.
    pub fn not_indexed(self) -> &'static str {
        match self {
            Dialect::Sqlite => " NOT INDEXED",
            Dialect::Postgres => "",
        }
    }

    /// A floating-point sum that is 0 over no values and never overflows, for ranking
    /// (`SQLite`'s `total()`).
    pub fn total(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => format!("total({expr})"),
            Dialect::Postgres => format!("COALESCE(sum(CAST({expr} AS double precision)), 0)"),
        }
    }

    /// An ORDER BY term that sorts as `SQLite` does: NULL before any value (so first
    /// ascending, last descending) and text by its bytes (`PostgreSQL`'s "C" collation,
    /// whatever the database's own is).
    pub fn order(self, expr: &str, desc: bool, text: bool) -> String {
        match self {
            Dialect::Sqlite => format!("{expr}{}", if desc { " DESC" } else { "" }),
            Dialect::Postgres => format!(
                "{expr}{}{}",
                if text { " COLLATE \"C\"" } else { "" },
                if desc {
                    " DESC NULLS LAST"
                } else {
                    " NULLS FIRST"
                }
            ),
        }
    }

    /// The schema of the connection's temporary tables.
    pub fn temp_schema(self) -> &'static str {
        match self {
            Dialect::Sqlite => "temp",
            Dialect::Postgres => "pg_temp",
        }
    }

    /// A bound parameter `p` holding `v`, typed by it. `SQLite` types values, not
    /// parameters; `PostgreSQL` infers a parameter's type from where it stands and cannot in
    /// `? IS NULL` or `VALUES (?)`, so there it is cast to the type of what it holds (a
    /// NULL parameter is the owner filter's: text).
    pub fn typed(self, p: &str, v: &crate::schema::Value) -> String {
        use crate::schema::Value;
        match self {
            Dialect::Sqlite => p.to_string(),
            Dialect::Postgres => {
                let ty = match v {
                    Value::Integer(_) => "bigint",
                    Value::Real(_) => "double precision",
                    Value::Blob(_) => "bytea",
                    Value::Text(_) | Value::Null => "text",
                };
                format!("CAST({p} AS {ty})")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Dialect;

    #[test]
    fn sqlite_spellings() {
        let d = Dialect::Sqlite;
        assert_eq!(d.contains("t.\"name\""), "t.\"name\" LIKE ? ESCAPE '\\'");
        assert_eq!(d.has_tag("c"), "instr(';' || c || ';', ?) > 0");
        assert_eq!(d.no_limit(), "-1");
        assert_eq!(d.distinct(), "IS NOT");
        assert_eq!(d.same(), "IS");
        assert_eq!(d.never(), "0");
        assert_eq!(d.as_text("t.x"), "t.x");
        assert_eq!(d.indexed_by("i"), " INDEXED BY i");
        assert_eq!(d.total("a"), "total(a)");
        assert_eq!(d.order("t.a", true, true), "t.a DESC");
        assert_eq!(d.order("t.a", false, true), "t.a");
        assert_eq!(d.typed("?1", &crate::schema::Value::Null), "?1");
    }

    #[test]
    fn postgres_spellings() {
        use crate::schema::Value;
        let d = Dialect::Postgres;
        assert_eq!(d.contains("c"), "CAST(c AS text) ILIKE ? ESCAPE '\\'");
        assert_eq!(d.has_tag("c"), "strpos(';' || c || ';', ?) > 0");
        assert_eq!(d.no_limit(), "ALL");
        assert_eq!(d.same(), "IS NOT DISTINCT FROM");
        assert_eq!(d.never(), "FALSE");
        assert_eq!(d.order("a", true, true), "a COLLATE \"C\" DESC NULLS LAST");
        assert_eq!(d.order("a", false, false), "a NULLS FIRST");
        assert_eq!(d.indexed_by("i"), "");
        assert_eq!(d.not_indexed(), "");
        assert_eq!(d.typed("?1", &Value::Integer(3)), "CAST(?1 AS bigint)");
        assert_eq!(d.typed("?2", &Value::Null), "CAST(?2 AS text)");
    }
}
