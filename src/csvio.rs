//! CSV and TSV in and out of crm: decoding (BOM, strict UTF-8, GB18030), header → field
//! mapping done once per file, cell cleaning and typed parsing, and on the way out formula
//! neutralisation, encodings and files that are never left half-written.

pub mod decode;
pub mod header;
pub mod json;
pub mod write;

use crate::schema::Value;

use crate::error::{Error, Result};
use crate::schema::kinds::DateOrder;
use crate::schema::kinds::phones::Region;
use crate::schema::{Field, Kind};

/// The largest cell import accepts; bigger is a row error, not an allocation blow-up.
pub const MAX_FIELD: usize = 1 << 20;

/// Characters that make a spreadsheet run a cell as a formula (OWASP CSV injection), plus
/// the apostrophe itself so that a value really starting with one survives the round trip.
const TRIGGERS: [char; 8] = ['=', '+', '-', '@', '\t', '\r', '\n', '\''];

/// Whether export prefixes an apostrophe: text that a spreadsheet would run as a formula.
/// Numbers, money, dates and booleans are never touched (`-5` stays `-5`).
pub fn needs_guard(kind: Kind, s: &str) -> bool {
    guarded_kind(kind) && s.starts_with(TRIGGERS)
}

/// The kinds whose text export guards.
pub fn guarded_kind(kind: Kind) -> bool {
    !matches!(
        kind,
        Kind::Integer { .. } | Kind::Money { .. } | Kind::Date | Kind::DateTime | Kind::Bool
    )
}

/// The one neutralisation every CSV/TSV writer uses: an apostrophe before text of a guarded
/// kind that a spreadsheet would run as a formula; anything else unchanged.
pub fn guard(kind: Kind, s: &str) -> std::borrow::Cow<'_, str> {
    if needs_guard(kind, s) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// `guard` for output that holds JSON values rather than fields (find, reports, lists).
/// Numbers and booleans are never formulas. A string that is a plain decimal number
/// (`-5.00`) is how money travels as JSON: a spreadsheet reads it as that number, never as a
/// formula, so it is written as is (a text field holding exactly `-5` is the one value
/// `export`, which knows the field's kind, guards and this does not; neither runs).
/// Every other string is text: tags, names, notes, the joined lists of `cell_text`.
pub fn guard_cell(v: &serde_json::Value) -> String {
    let text = crate::output::cell_text(v);
    match v {
        serde_json::Value::Number(_) | serde_json::Value::Bool(_) | serde_json::Value::Null => text,
        serde_json::Value::String(s) if plain_number(s) => text,
        _ => guard(Kind::Text, &text).into_owned(),
    }
}

/// `-5`, `-0.05`, `12.30`: digits with an optional leading minus and decimal part.
fn plain_number(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// A raw cell of an input file as the rejects file writes it: what import read from it
/// (`unguard`) guarded again, so the rejects file is as safe to open as an export and reads
/// back to the same values. Works on bytes: the trigger characters are ASCII.
pub fn guard_raw(kind: Kind, cell: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let starts = |b: &[u8]| {
        b.first()
            .is_some_and(|c| TRIGGERS.contains(&char::from(*c)))
    };
    let read = match cell.strip_prefix(b"'") {
        Some(rest) if starts(rest) => rest,
        _ => cell,
    };
    if guarded_kind(kind) && starts(read) {
        let mut out = Vec::with_capacity(read.len() + 1);
        out.push(b'\'');
        out.extend_from_slice(read);
        out.into()
    } else {
        read.into()
    }
}

/// Removes the apostrophe export put in front of a formula-like value (import side).
pub fn unguard(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(TRIGGERS) => rest,
        _ => s,
    }
}

/// How to read dates where day and month could be swapped (`08/07/2023`).
#[derive(Debug, Clone)]
pub enum DateFormat {
    Dmy,
    Mdy,
    /// A chrono/strftime pattern such as `%d.%m.%Y`.
    Pattern(String),
}

impl DateFormat {
    pub fn parse(s: &str) -> Result<DateFormat> {
        match s.to_lowercase().as_str() {
            "dmy" | "d/m/y" | "dd/mm/yyyy" => Ok(DateFormat::Dmy),
            "mdy" | "m/d/y" | "mm/dd/yyyy" => Ok(DateFormat::Mdy),
            "ymd" | "iso" => Ok(DateFormat::Pattern("%Y-%m-%d".into())),
            _ if s.contains('%') => Ok(DateFormat::Pattern(s.to_string())),
            _ => Err(Error::usage(format!("unknown --date-format '{s}'"))
                .hint("use dmy, mdy, or a pattern such as %d.%m.%Y")),
        }
    }

    /// The order the field kinds read ambiguous dates in.
    pub fn order(&self) -> DateOrder {
        match self {
            DateFormat::Dmy => DateOrder::Dmy,
            DateFormat::Mdy => DateOrder::Mdy,
            DateFormat::Pattern(p) => DateOrder::Pattern(p.clone()),
        }
    }
}

/// Parses one cell for a field: apostrophe guard removed, size and NUL checked, the kind's
/// parser applied. References and users come back as text for the database layer.
pub fn parse_cell(
    f: &Field,
    cell: &str,
    dates: Option<&DateFormat>,
    region: Region,
) -> Result<Value, String> {
    if cell.len() > MAX_FIELD {
        return Err(format!(
            "the value is {} bytes, over the 1 MiB limit",
            cell.len()
        ));
    }
    // NUL bytes are refused by `Kind::parse` itself.
    // Dates and date-times alike follow --date-format (`Kind::parse_in`).
    let order = dates.map(DateFormat::order).unwrap_or_default();
    f.kind.parse_with(unguard(cell), &order, region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_round_trip() {
        for s in [
            "=1+2", "+86", "-x", "@SUM(A1)", "\tx", "\rx", "'quoted", "''", "plain",
        ] {
            let out = if needs_guard(Kind::Text, s) {
                format!("'{s}")
            } else {
                s.to_string()
            };
            assert_eq!(unguard(&out), s, "{s:?}");
            if s != "plain" {
                assert!(out.starts_with('\''));
            }
        }
        assert!(!needs_guard(Kind::Money { min_zero: false }, "-5.00"));
        assert_eq!(unguard("'hello"), "'hello");
    }

    #[test]
    fn one_guard_for_every_writer() {
        use serde_json::json;
        assert_eq!(
            guard_cell(&json!("=HYPERLINK(\"x\")")),
            "'=HYPERLINK(\"x\")"
        );
        assert_eq!(guard_cell(&json!("-5.00")), "-5.00");
        assert_eq!(guard_cell(&json!("-1+2")), "'-1+2");
        assert_eq!(guard_cell(&json!(-5)), "-5");
        assert_eq!(guard_cell(&json!(["@x", "y"])), "'@x;y");
        assert_eq!(guard_cell(&json!("+86 138")), "'+86 138");
        assert_eq!(guard_cell(&json!("plain")), "plain");
        assert_eq!(&*guard_raw(Kind::Text, b"=x"), b"'=x");
        assert_eq!(&*guard_raw(Kind::Text, b"'=x"), b"'=x");
        assert_eq!(&*guard_raw(Kind::Text, b"''x"), b"''x");
        assert_eq!(&*guard_raw(Kind::Money { min_zero: false }, b"-5"), b"-5");
        assert_eq!(&*guard(Kind::Text, "@x"), "'@x");
    }

    #[test]
    fn dates_never_guessed() {
        let f = crate::schema::Entity::get("campaign")
            .and_then(|e| e.field("start_date"))
            .expect("field");
        assert!(parse_cell(f, "08/07/2023", None, Region::DEFAULT).is_err());
        let dmy = DateFormat::parse("dmy").expect("dmy");
        assert_eq!(
            parse_cell(f, "08/07/2023", Some(&dmy), Region::DEFAULT),
            Ok(Value::Text("2023-07-08".into()))
        );
        let mdy = DateFormat::parse("mdy").expect("mdy");
        assert_eq!(
            parse_cell(f, "08/07/2023", Some(&mdy), Region::DEFAULT),
            Ok(Value::Text("2023-08-07".into()))
        );
        assert_eq!(
            parse_cell(f, "2023年7月8日", None, Region::DEFAULT),
            Ok(Value::Text("2023-07-08".into()))
        );
        assert!(parse_cell(f, &"x".repeat(MAX_FIELD + 1), None, Region::DEFAULT).is_err());
    }
}
