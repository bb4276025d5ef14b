//! `find ENTITY TEXT` in SQL: the search index narrows (`db::search`, `search::Plan`), the
//! values confirm (the substring semantics, when the index alone cannot), and without
//! `--sort` the best matches come first.

use super::{Query, like_pattern, owns_sql};
use crate::db::dialect::Dialect;
use crate::schema::{Entity, Field, Kind, Value, ident};
use crate::search::Plan;
use crate::search::tokens::PHONE_SEPARATORS;

/// The record's index row when the FROM joins it (`PostgreSQL`, [`narrowed`], [`Paged`]):
/// its tsvector answers the index queries, which are then not asked of the whole index.
#[derive(Clone, Copy)]
pub struct Row<'a> {
    pub alias: &'a str,
    /// The index query the FROM found its rows by.
    pub query: &'a str,
}

/// The WHERE term of a text search; binds its values in order into `args`.
pub fn condition(
    d: Dialect,
    q: &Query,
    text: &str,
    row: Option<Row>,
    args: &mut Vec<Value>,
) -> String {
    let e = q.entity;
    if e.search_fields().next().is_none() {
        return d.never().to_string();
    }
    let plan = Plan::new(text);
    let ix = Index::of(d, e);
    let mut alts = Vec::new();
    match ix.text(&plan) {
        // The index is the answer.
        Some(m) if plan.exact && !hiding(q) => {
            args.push(Value::Text(m));
            alts.push(ix.candidates(row));
        }
        // The FROM found its rows by this very query: the values alone confirm. Asked
        // again, PostgreSQL would push it into the index scan and look it up twice.
        Some(m) if row.is_some_and(|r| r.query == m) => {
            alts.push(format!("({})", values_contain(d, q, text, &plan, args)));
        }
        // The index narrows, the values confirm.
        Some(m) => {
            args.push(Value::Text(m));
            let cand = ix.candidates(row);
            let check = values_contain(d, q, text, &plan, args);
            alts.push(format!("({cand} AND ({check}))"));
        }
        // Nothing to narrow by (punctuation only): a scan.
        None => alts.push(format!("({})", values_contain(d, q, text, &plan, args))),
    }
    if let Some(p) = ix.pinyin(&plan) {
        args.push(Value::Text(p));
        alts.push(ix.candidates(row));
    }
    format!("({})", alts.join(" OR "))
}

/// Whether a searchable field is hidden from the search: then the index (which holds every
/// searchable field) only narrows.
fn hiding(q: &Query) -> bool {
    q.hide
        .as_ref()
        .is_some_and(|h| q.entity.search_fields().any(|f| h.fields.contains(&f.name)))
}

/// A count of the records a text matches read from the index alone, when its candidates
/// are its matches (an exact plan, no pinyin alternative): counting through the table
/// seeks every matching record (科技 in the 1,000,000-customer benchmark on `SQLite`:
/// 240 ms, the index alone 3 ms). On `PostgreSQL` the index table's row security is the
/// record's read scope, so its rows count what the role may read. The caller has no other
/// condition.
pub fn index_count(d: Dialect, e: &Entity, text: &str, args: &mut Vec<Value>) -> Option<String> {
    let plan = Plan::new(text);
    if !plan.exact || plan.pinyin.is_some() {
        return None;
    }
    e.search_fields().next()?;
    let ix = Index::of(d, e);
    args.push(Value::Text(ix.text(&plan)?));
    Some(format!("SELECT COUNT(*) FROM {}", ix.matching("x")))
}

/// Some searchable value contains the text (LIKE's case-insensitivity), or a phone's
/// digits hold the text's digits.
/// A field hidden by the mask is not searched, or (sales) only on the records the user owns.
fn values_contain(d: Dialect, q: &Query, text: &str, plan: &Plan, args: &mut Vec<Value>) -> String {
    let e = q.entity;
    let mut terms = Vec::new();
    let mut term = |f: &Field, pattern: String, expr: String, args: &mut Vec<Value>| {
        let hidden = q.hide.as_ref().filter(|h| h.fields.contains(&f.name));
        match hidden {
            Some(h) if h.unless_owned => {
                let owns = owns_sql(e, "t", 0, q.me.as_deref().unwrap_or(""), args);
                args.push(Value::Text(pattern));
                terms.push(format!("({owns} AND {})", d.contains(&expr)));
            }
            Some(_) => {}
            None => {
                args.push(Value::Text(pattern));
                terms.push(d.contains(&expr));
            }
        }
    };
    for f in e.search_fields() {
        term(f, like_pattern(text), format!("t.{}", ident(f.name)), args);
    }
    if let Some(digits) = &plan.phone {
        for f in e.search_fields().filter(|f| f.kind == Kind::Phone) {
            let expr = phone_norm_sql(&format!("t.{}", ident(f.name)));
            term(f, like_pattern(digits), expr, args);
        }
    }
    if terms.is_empty() {
        return d.never().to_string();
    }
    terms.join(" OR ")
}

/// A phone column without its separators, as `search::tokens::phone_norm` has it.
fn phone_norm_sql(col: &str) -> String {
    PHONE_SEPARATORS.iter().fold(col.to_string(), |acc, c| {
        format!("replace({acc}, '{c}', '')")
    })
}

/// Where an engine keeps the index of an entity, and how it is asked: FTS5's MATCH on
/// `SQLite`, a `tsquery` on the GIN-indexed tsvector on `PostgreSQL` (v5).
struct Index {
    d: Dialect,
    table: String,
}

impl Index {
    fn of(d: Dialect, e: &Entity) -> Index {
        Index {
            d,
            table: e.search_table(),
        }
    }

    /// The index query of the text's own tokens (and phone digits).
    fn text(&self, plan: &Plan) -> Option<String> {
        match self.d {
            Dialect::Sqlite => plan.fts5_text(),
            Dialect::Postgres => plan.tsquery_text(),
        }
    }

    /// The index query of the text as a pinyin key.
    fn pinyin(&self, plan: &Plan) -> Option<String> {
        match self.d {
            Dialect::Sqlite => plan.fts5_pinyin(),
            Dialect::Postgres => plan.tsquery_pinyin(),
        }
    }

    /// The records the bound index query finds: by their index row `row` when the FROM
    /// joins it (`PostgreSQL`), else by id among the index's matches.
    fn candidates(&self, row: Option<Row>) -> String {
        if let (Dialect::Postgres, Some(r)) = (self.d, row) {
            return format!("{}.\"t\" @@ {TSQUERY}", r.alias);
        }
        let id = match self.d {
            Dialect::Sqlite => "rowid",
            Dialect::Postgres => "x.\"id\"",
        };
        format!("t.\"id\" IN (SELECT {id} FROM {})", self.matching("x"))
    }

    /// The index's rows (aliased `alias`) that the bound index query finds: a FROM and WHERE.
    fn matching(&self, alias: &str) -> String {
        match self.d {
            Dialect::Sqlite => format!("{0} WHERE {0} MATCH ?", self.table),
            Dialect::Postgres => format!("{} {alias} WHERE {alias}.\"t\" @@ {TSQUERY}", self.table),
        }
    }
}

/// A bound tsquery's text as a tsquery (bound as text: it is crm's own query syntax).
const TSQUERY: &str = "CAST(CAST(? AS text) AS tsquery)";

/// The FROM of a text search on `PostgreSQL` that the index narrows: the index rows of
/// every match (the text's own tokens, or its pinyin: [`Narrowed::query`]) as `c`, with
/// their tsvector, joined to their records as `t`. Asked beside each record instead
/// (`t."id" IN (…)`), the text's alternatives lead the planner to read the whole table:
/// `find customer zhangwei --limit 20` on 1,000,000 customers took 0.2-1 s that way and
/// 5 ms from the index rows. None on `SQLite` (FTS5's own plan reads the index first) and
/// where the index cannot narrow the text.
pub struct Narrowed {
    pub from: String,
    /// The index query of every match (bound first).
    pub query: String,
    /// Whether the index's matches are the text's matches ([`Paged::exact`]).
    pub exact: bool,
}

pub fn narrowed(d: Dialect, q: &Query, text: &str) -> Option<Narrowed> {
    if d != Dialect::Postgres {
        return None;
    }
    let e = q.entity;
    let plan = Plan::new(text);
    let ix = Index::of(d, e);
    let own = ix.text(&plan)?;
    let query = match ix.pinyin(&plan) {
        Some(p) => format!("{own} | {p}"),
        None => own,
    };
    Some(Narrowed {
        from: pg_from(&ix.table, &e.table()),
        query,
        exact: plan.exact && !hiding(q),
    })
}

/// The index rows of the bound tsquery (`c`, id and tsvector) joined to the records (`t`).
fn pg_from(index: &str, table: &str) -> String {
    format!(
        "(SELECT x.\"id\", x.\"t\" FROM {index} x WHERE x.\"t\" @@ {TSQUERY}) c JOIN {table} t ON t.\"id\" = c.\"id\""
    )
}

/// The order of a text search without `--sort`: exact key, exact name, name prefix, the
/// rest (then by id, as every list).
pub fn rank(d: Dialect, e: &Entity, text: &str, args: &mut Vec<Value>) -> String {
    let mut cases = Vec::new();
    if let Some(key) = e.key {
        args.push(Value::Text(text.to_string()));
        cases.push(format!(
            "WHEN {} THEN 0",
            d.same_text(&format!("t.{}", ident(key)))
        ));
    }
    let title = format!("t.{}", ident(e.title));
    args.push(Value::Text(text.to_string()));
    cases.push(format!("WHEN {} THEN 1", d.same_text(&title)));
    let mut prefix = like_pattern(text);
    prefix.remove(0);
    args.push(Value::Text(prefix));
    cases.push(format!("WHEN {} THEN 2", d.contains(&title)));
    format!("CASE {} ELSE 3 END", cases.join(" "))
}

/// A ranked text search paged by `--limit`, in two queries that give the one query's order
/// (`rank`, then id) without ranking every match: only records whose key or name holds the
/// text can rank above "the rest", and those are all among the matches of the text's own
/// tokens (the index holds every searchable field; a pinyin-only match never ranks above
/// the rest) — few, where a 2-letter pinyin query has tens of thousands of matches. So the
/// first query ranks the text's own matches that rank above the rest, and the second takes
/// the rest in id order straight from the index (`SQLite`'s FTS5 hands its matches in rowid
/// order), the limit applied in SQL: 30,000 matches of `zw` are not all read to show 20.
pub struct Paged {
    /// The FROM of both queries: the index's matches of the bound query (`c`), joined to
    /// their records (`t`), in id order on `SQLite`.
    pub from: String,
    /// The index query of the text's own tokens (the first query's records).
    pub own: String,
    /// The index query of every match (the second query's records).
    pub all: String,
    /// Whether the index's matches are the text's matches (an exact plan, no searchable
    /// field hidden): then the queries need not ask the text condition again (on `SQLite`
    /// that would collect all 30,000 pinyin matches of `zw` once more).
    pub exact: bool,
}

/// The two queries' index parts, when the entity's key and name are searchable (so the
/// index holds them), the index can narrow the text and the text can be pinyin; else None
/// (one query).
pub fn paged(d: Dialect, q: &Query, text: &str) -> Option<Paged> {
    let e = q.entity;
    let searchable = |name: &str| e.search_fields().any(|f| f.name == name);
    if !searchable(e.title) || e.key.is_some_and(|k| !searchable(k)) {
        return None;
    }
    let plan = Plan::new(text);
    let ix = Index::of(d, e);
    let own = ix.text(&plan)?;
    // Without a pinyin alternative the text's own matches are all the matches: the first
    // query would read them all as the one query does, and the index be asked twice more.
    let p = ix.pinyin(&plan)?;
    let all = match d {
        Dialect::Sqlite => format!("{own} OR {p}"),
        Dialect::Postgres => format!("{own} | {p}"),
    };
    let from = match d {
        // CROSS JOIN keeps the index as the outer loop, so its rowid order is the order.
        Dialect::Sqlite => format!(
            "(SELECT rowid AS \"id\" FROM {0} WHERE {0} MATCH ?) c CROSS JOIN {1} t ON t.\"id\" = c.\"id\"",
            ix.table,
            e.table()
        ),
        Dialect::Postgres => pg_from(&ix.table, &e.table()),
    };
    let exact = plan.exact && !hiding(q);
    Some(Paged {
        from,
        own,
        all,
        exact,
    })
}
