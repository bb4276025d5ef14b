//! `find` and `export` queries: typed `--where` filters, text search, sorting and paging,
//! built from registry names with every value bound.

mod text;

use crate::db::Store;
use crate::db::dialect::Dialect;
use crate::error::{Error, Result};
use crate::schema::Value;
use crate::schema::{Entity, Field, Kind, ident};

/// A comparison of `--where`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Contains,
}

/// One parsed `--where` term.
#[derive(Debug, Clone)]
pub struct Filter {
    pub field: &'static Field,
    pub op: Op,
    pub value: Value,
}

/// What to find.
#[derive(Debug, Clone)]
pub struct Query {
    pub entity: &'static Entity,
    pub text: Option<String>,
    pub filters: Vec<Filter>,
    pub sort: Vec<(&'static Field, bool)>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// The user whose ownership the `OWNED` column and `Hide::unless_owned` test.
    pub me: Option<String>,
    /// Fields the text search must not match in (masked for the user's role).
    pub hide: Option<Hide>,
}

/// The fields a text search skips, per SPEC "Masking": a masked value cannot be guessed
/// digit by digit through `find TEXT` or `crm search`.
#[derive(Debug, Clone)]
pub struct Hide {
    pub fields: Vec<&'static str>,
    /// Skipped only on records `Query::me` does not own (sales).
    pub unless_owned: bool,
}

/// A pseudo-column: 1 where `Query::me` owns the row (its owner, or through `owner_via`),
/// else 0; what the mask needs of a row besides the columns shown.
pub static OWNED: Field = Field {
    name: "owned",
    kind: Kind::Bool,
    en: "Owned",
    zh: "本人负责",
    required: false,
    unique: false,
    default: crate::schema::Default::None,
    read_only: true,
    wide: true,
    search: false,
    custom: false,
};

/// The condition that `me` owns the row `row` of entity `e` (no ownership: false); binds
/// `me` into `args` as often as it appears.
pub fn owns_sql(e: &Entity, row: &str, depth: usize, me: &str, args: &mut Vec<Value>) -> String {
    if let Some(owner) = e.owner {
        args.push(Value::Text(me.to_string()));
        return format!("{row}.{} = ?", ident(owner));
    }
    let target = e.owner_via.and_then(|via| {
        e.fields.iter().find_map(|f| match f.kind {
            Kind::Ref(t) if f.name == via => Entity::lookup(t).map(|t| (via, t)),
            _ => None,
        })
    });
    let Some((via, target)) = target else {
        return "1 = 0".into();
    };
    let alias = format!("o{depth}");
    format!(
        "EXISTS (SELECT 1 FROM {} {alias} WHERE {alias}.\"id\" = {row}.{} AND {})",
        target.table(),
        ident(via),
        owns_sql(target, &alias, depth + 1, me, args)
    )
}

impl Query {
    pub fn new(entity: &'static Entity) -> Query {
        Query {
            entity,
            text: None,
            filters: Vec::new(),
            sort: Vec::new(),
            limit: None,
            offset: None,
            me: None,
            hide: None,
        }
    }
}

/// Escapes LIKE wildcards so user text matches literally (`ESCAPE '\'`).
pub fn like_pattern(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Parses `field=v`, `field!=v`, `field>v`, `>=`, `<`, `<=`, `field~substring`.
pub fn parse_where(conn: &Store, e: &'static Entity, expr: &str) -> Result<Filter> {
    let name_end = expr
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(expr.len());
    let (name, rest) = expr.split_at(name_end);
    let ops = [
        ("!=", Op::Ne),
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("=", Op::Eq),
        (">", Op::Gt),
        ("<", Op::Lt),
        ("~", Op::Contains),
    ];
    let (op, text) = ops
        .iter()
        .find_map(|(s, op)| rest.strip_prefix(s).map(|t| (*op, t)))
        .ok_or_else(|| {
            Error::usage(format!("cannot read --where '{expr}'"))
                .hint("write FIELD=VALUE, FIELD!=VALUE, FIELD>VALUE, >=, <, <= or FIELD~TEXT")
        })?;
    let field = e.field(name)?;
    // Operands are trimmed as stored values are (`Kind::parse`), so `name=X` finds `  X  `.
    let text = crate::schema::kinds::trim(text);
    if text.is_empty() && !matches!(op, Op::Eq | Op::Ne) {
        return Err(
            Error::usage(format!("--where '{expr}' has no value to compare with")).hint(
                "FIELD= and FIELD!= test for an empty field; the other comparisons need a value",
            ),
        );
    }
    let value = if op == Op::Contains || text.is_empty() {
        if text.is_empty() {
            Value::Null
        } else {
            Value::Text(text.to_string())
        }
    } else {
        match crate::db::records::parse_value(conn, field, text) {
            Ok(v) => v,
            // A reference to a record that does not exist matches nothing.
            Err(_) if matches!(field.kind, Kind::Ref(_)) => Value::Integer(-1),
            Err(why) => return Err(Error::usage(format!("--where {expr}: {why}"))),
        }
    };
    Ok(Filter { field, op, value })
}

/// A column that readers see through an expression instead of its stored value, with the
/// one parameter that expression binds (pushed onto `args` in place).
///
/// A contract's `status` reads `expired` once its `end_date` has passed while it is stored as
/// `active`: derived at query time, never by a job, so `find --where status=expired`, `show`,
/// JSON and export all agree and nothing goes stale (the rules refuse to store `expired`).
fn shown_column(q: &Query, f: &Field, args: &mut Vec<Value>) -> Option<String> {
    let e = q.entity;
    if std::ptr::eq(f, std::ptr::addr_of!(OWNED)) {
        let me = q.me.as_deref().unwrap_or("");
        return Some(format!(
            "(CASE WHEN {} THEN 1 ELSE 0 END)",
            owns_sql(e, "t", 0, me, args)
        ));
    }
    if e.name == "contract" && f.name == "status" {
        args.push(Value::Text(
            crate::clock::today().format("%Y-%m-%d").to_string(),
        ));
        return Some(
            "(CASE WHEN t.\"status\" = 'active' AND t.\"end_date\" < ? THEN 'expired' ELSE t.\"status\" END)"
                .to_string(),
        );
    }
    None
}

/// The SQL expression that shows a column: references as the referenced record's key (a
/// dangling one as its id, as text on `PostgreSQL`, where a column has one type).
fn column_expr(d: Dialect, f: &Field) -> String {
    if let Kind::Ref(target) = f.kind
        && let Ok(t) = Entity::get(target)
        && let Some(key) = t.key
    {
        return format!(
            "COALESCE((SELECT k.{} FROM {} k WHERE k.\"id\" = t.{}), {})",
            ident(key),
            t.table(),
            ident(f.name),
            d.as_text(&format!("t.{}", ident(f.name)))
        );
    }
    format!("t.{}", ident(f.name))
}

fn where_sql(d: Dialect, q: &Query, args: &mut Vec<Value>) -> String {
    where_but(d, q, &Source::table(q), args)
}

/// Where a query's records come from: the entity's table, or the search index's matches
/// joined to their records.
struct Source {
    /// The FROM (records aliased `t`).
    from: String,
    /// The FROM holds only records that match the text: no text condition.
    answered: bool,
    /// The records' index rows in the FROM, on `PostgreSQL`: their alias and the index
    /// query that found them (`text::condition`'s `row`).
    row: Option<(&'static str, String)>,
}

impl Source {
    fn table(q: &Query) -> Source {
        Source {
            from: format!("{} t", q.entity.table()),
            answered: false,
            row: None,
        }
    }

    /// `part`'s FROM, or on `PostgreSQL` the index rows of a text it narrows
    /// (`text::narrowed`), or the table; binds the FROM's value into `args`.
    fn of(d: Dialect, q: &Query, part: Option<&Part>, args: &mut Vec<Value>) -> Source {
        let pg_row = |query: &str| (d == Dialect::Postgres).then(|| ("c", query.to_string()));
        if let Some(p) = part {
            args.push(Value::Text(p.index.to_string()));
            return Source {
                from: p.from.to_string(),
                answered: p.exact,
                row: pg_row(p.index),
            };
        }
        let narrowed = q
            .text
            .as_deref()
            .filter(|t| !t.is_empty())
            .and_then(|t| text::narrowed(d, q, t));
        match narrowed {
            Some(n) => {
                args.push(Value::Text(n.query.clone()));
                Source {
                    from: n.from,
                    answered: n.exact,
                    row: pg_row(&n.query),
                }
            }
            None => Source::table(q),
        }
    }
}

/// The WHERE clause of records from `src`, without the text condition when it answered it.
fn where_but(d: Dialect, q: &Query, src: &Source, args: &mut Vec<Value>) -> String {
    let mut terms: Vec<String> = Vec::new();
    if let Some(text) = q.text.as_deref().filter(|t| !t.is_empty() && !src.answered) {
        let row = src
            .row
            .as_ref()
            .map(|(alias, query)| text::Row { alias, query });
        terms.push(text::condition(d, q, text, row, args));
    }
    for f in &q.filters {
        let col =
            shown_column(q, f.field, args).unwrap_or_else(|| format!("t.{}", ident(f.field.name)));
        let term = match (f.op, &f.value) {
            (Op::Eq, Value::Null) => format!("{col} IS NULL"),
            (Op::Ne, Value::Null) => format!("{col} IS NOT NULL"),
            (_, Value::Null) => d.never().to_string(),
            (Op::Contains, v) => {
                args.push(Value::Text(like_pattern(&f.field.kind.format(v))));
                d.contains(&col)
            }
            (Op::Eq, Value::Text(t)) if f.field.kind == Kind::Tags => {
                args.push(Value::Text(format!(";{t};")));
                d.has_tag(&col)
            }
            (Op::Ne, Value::Text(t)) if f.field.kind == Kind::Tags => {
                args.push(Value::Text(format!(";{t};")));
                format!("({col} IS NULL OR NOT ({}))", d.has_tag(&col))
            }
            (op, v) => {
                args.push(v.clone());
                let sym = match op {
                    Op::Eq => "=",
                    Op::Ne => d.distinct(),
                    Op::Gt => ">",
                    Op::Ge => ">=",
                    Op::Lt => "<",
                    _ => "<=",
                };
                format!("{col} {sym} ?")
            }
        };
        terms.push(term);
    }
    if terms.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", terms.join(" AND "))
    }
}

/// Builds the SELECT for the given columns.
pub fn select_sql(
    d: Dialect,
    q: &Query,
    columns: &[&'static Field],
    args: &mut Vec<Value>,
) -> String {
    let page = (q.limit.is_some() || q.offset.is_some()).then_some((q.limit, q.offset));
    select_from(d, q, columns, args, None, page, |d, args| {
        let mut order: Vec<String> = q
            .sort
            .iter()
            .map(|(f, desc)| {
                d.order(
                    &format!("t.{}", ident(f.name)),
                    *desc,
                    f.kind.sql_type() == "TEXT",
                )
            })
            .collect();
        if let Some(text) = ranked_text(q) {
            order.push(text::rank(d, q.entity, text, args));
        }
        order.push("t.\"id\"".into());
        order.join(", ")
    })
}

/// The text a search without `--sort` ranks by.
fn ranked_text(q: &Query) -> Option<&str> {
    q.text
        .as_deref()
        .filter(|t| !t.is_empty() && q.sort.is_empty())
}

/// One of the two queries of a paged, ranked text search (`text::Paged`): FROM the index's
/// matches of `index` joined to the records, where `extra` holds too, in `order`.
struct Part<'a> {
    from: &'a str,
    index: &'a str,
    extra: &'a str,
    /// Whether `index` finds just the text's matches (`text::Paged::exact`).
    exact: bool,
}

/// A SELECT of `q`'s records (FROM the entity's table, or `part`'s), with the ORDER BY
/// `order` writes and LIMIT/OFFSET `page`; binds its values in order into `args`.
fn select_from(
    d: Dialect,
    q: &Query,
    columns: &[&'static Field],
    args: &mut Vec<Value>,
    part: Option<&Part>,
    page: Option<(Option<i64>, Option<i64>)>,
    order: impl FnOnce(Dialect, &mut Vec<Value>) -> String,
) -> String {
    let cols: Vec<String> = columns
        .iter()
        .map(|f| shown_column(q, f, args).unwrap_or_else(|| column_expr(d, f)))
        .collect();
    let src = Source::of(d, q, part, args);
    let cols = if cols.is_empty() {
        "1".to_string()
    } else {
        cols.join(", ")
    };
    let mut sql = format!("SELECT {cols} FROM {}", src.from);
    let filter = where_but(d, q, &src, args);
    sql.push_str(&filter);
    if let Some(p) = part {
        let rank = text::rank(d, q.entity, q.text.as_deref().unwrap_or(""), args);
        let glue = if filter.is_empty() { "WHERE" } else { "AND" };
        sql.push_str(&format!(" {glue} {rank} {}", p.extra));
    }
    sql.push_str(&format!(" ORDER BY {}", order(d, args)));
    if let Some((limit, offset)) = page {
        sql.push_str(&format!(
            " LIMIT {} OFFSET {}",
            limit.map_or_else(|| d.no_limit().to_string(), |n| n.to_string()),
            offset.unwrap_or(0)
        ));
    }
    sql
}

/// Streams matching rows (values aligned with `columns`) to a callback, which must not use
/// the store meanwhile (on `PostgreSQL` the rows are still arriving).
pub fn for_each(
    conn: &Store,
    q: &Query,
    columns: &[&'static Field],
    mut f: impl FnMut(&[Value]) -> Result<()>,
) -> Result<()> {
    let d = conn.dialect();
    if let Some(text) = ranked_text(q)
        && let Some(limit) = q.limit.filter(|n| *n >= 0)
        && q.offset.is_none_or(|n| n >= 0)
        && let Some(p) = text::paged(d, q, text)
    {
        return paged(conn, q, columns, limit, &p, f);
    }
    let mut args = Vec::new();
    let sql = select_sql(d, q, columns, &mut args);
    conn.each(&sql, &args, |r| f(&r.0))
}

/// [`for_each`] of a ranked text search with a limit, in the two queries of `text::Paged`:
/// the records ranked above the rest (by rank, then id), then the rest in id order. The
/// same rows in the same order as the one query of [`select_sql`].
fn paged(
    conn: &Store,
    q: &Query,
    columns: &[&'static Field],
    limit: i64,
    p: &text::Paged,
    mut f: impl FnMut(&[Value]) -> Result<()>,
) -> Result<()> {
    let d = conn.dialect();
    let offset = q.offset.unwrap_or(0);
    let text = q.text.as_deref().unwrap_or("");
    let top = Part {
        from: &p.from,
        index: &p.own,
        extra: "< 3",
        exact: p.exact,
    };
    let mut args = Vec::new();
    let sql = select_from(
        d,
        q,
        columns,
        &mut args,
        Some(&top),
        Some((Some(limit), Some(offset))),
        |d, args| format!("{}, t.\"id\"", text::rank(d, q.entity, text, args)),
    );
    let mut shown = 0;
    conn.each(&sql, &args, |r| {
        shown += 1;
        f(&r.0)
    })?;
    if shown >= limit {
        return Ok(());
    }
    // Where the rest starts: right after the first query's rows, or (when the offset went
    // past them all) the offset less how many there are.
    let skip = if shown > 0 || offset == 0 {
        0
    } else {
        let mut args = Vec::new();
        let sql = select_from(d, q, &[], &mut args, Some(&top), None, |_, _| "1".into());
        let sql = format!("SELECT COUNT(*) FROM ({sql}) n");
        offset - conn.value::<i64>(&sql, &args)?
    };
    let rest = Part {
        from: &p.from,
        index: &p.all,
        extra: "= 3",
        exact: p.exact,
    };
    let mut args = Vec::new();
    let sql = select_from(
        d,
        q,
        columns,
        &mut args,
        Some(&rest),
        Some((Some(limit - shown), Some(skip))),
        |_, _| "c.\"id\"".into(),
    );
    conn.each(&sql, &args, |r| f(&r.0))
}

/// Collects matching rows.
pub fn rows(conn: &Store, q: &Query, columns: &[&'static Field]) -> Result<Vec<Vec<Value>>> {
    let mut out = Vec::new();
    for_each(conn, q, columns, |r| {
        out.push(r.to_vec());
        Ok(())
    })?;
    Ok(out)
}

/// Counts matching rows.
pub fn count(conn: &Store, q: &Query) -> Result<i64> {
    let mut args = Vec::new();
    if let Some(text) = q.text.as_deref().filter(|t| !t.is_empty())
        && q.filters.is_empty()
        && q.hide.is_none()
        && let Some(sql) = text::index_count(conn.dialect(), q.entity, text, &mut args)
    {
        return conn.value(&sql, &args);
    }
    let d = conn.dialect();
    let src = Source::of(d, q, None, &mut args);
    let sql = format!(
        "SELECT COUNT(*) FROM {}{}",
        src.from,
        where_but(d, q, &src, &mut args)
    );
    conn.value(&sql, &args)
}

/// Reads every matching record whole, in id order (a bulk edit's records).
pub fn stored(conn: &Store, q: &Query) -> Result<Vec<crate::db::records::Stored>> {
    let e = q.entity;
    let mut args = Vec::new();
    let cols: Vec<String> = e
        .fields
        .iter()
        .map(|f| format!("t.{}", ident(f.name)))
        .collect();
    let sql = format!(
        "SELECT t.\"id\", {}, t.\"created_at\", t.\"updated_at\" FROM {} t{} ORDER BY t.\"id\"",
        cols.join(", "),
        e.table(),
        where_sql(conn.dialect(), q, &mut args)
    );
    let n = e.fields.len();
    let mut out = Vec::new();
    conn.each(&sql, &args, |r| {
        let v = &r.0;
        let int = |x: &Value| match x {
            Value::Integer(i) => *i,
            _ => 0,
        };
        out.push(crate::db::records::Stored {
            id: int(&v[0]),
            draft: crate::db::records::Draft {
                entity: e,
                values: v[1..=n].to_vec(),
            },
            created_at: int(&v[n + 1]),
            updated_at: int(&v[n + 2]),
        });
        Ok(())
    })?;
    Ok(out)
}

/// Sets the same values on the records `ids` with one statement, only where one differs;
/// returns how many changed. For `PostgreSQL` bulk edits of fields no rule, uniqueness or
/// generated key involves: its row triggers audit each record as the writer's statements
/// would, without a round trip per record.
pub fn set_all(conn: &Store, e: &Entity, ids: &[i64], sets: &[(&Field, Value)]) -> Result<usize> {
    if ids.is_empty() || sets.is_empty() {
        return Ok(0);
    }
    let assign: Vec<String> = sets
        .iter()
        .map(|(f, _)| format!("{} = ?", ident(f.name)))
        .collect();
    let differ: Vec<String> = sets
        .iter()
        .map(|(f, _)| format!("{} IS DISTINCT FROM ?", ident(f.name)))
        .collect();
    let sql = format!(
        "UPDATE {t} SET {}, \"updated_at\" = GREATEST(?, \"updated_at\") \
         WHERE \"id\" IN (SELECT (jsonb_array_elements_text((?::text)::jsonb))::bigint) AND ({})",
        assign.join(", "),
        differ.join(" OR "),
        t = e.table()
    );
    let mut args: Vec<Value> = sets.iter().map(|(_, v)| v.clone()).collect();
    args.push(Value::Integer(crate::clock::now()));
    args.push(Value::Text(
        serde_json::Value::from(ids.to_vec()).to_string(),
    ));
    args.extend(sets.iter().map(|(_, v)| v.clone()));
    let n = conn.execute(&sql, &args)?;
    Ok(usize::try_from(n).unwrap_or(0))
}
