//! The few spellings where the engines' SQL differs in the statements crm writes once for
//! all of them (`find`/`export` queries). Everything else in those statements is SQL both
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
    /// ASCII case. `SQLite`'s LIKE ignores ASCII case; `PostgreSQL` would need ILIKE.
    pub fn contains(self, col: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{col} LIKE ? ESCAPE '\\'"),
            Dialect::Postgres => format!("{col} ILIKE ? ESCAPE '\\'"),
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
    }
}
