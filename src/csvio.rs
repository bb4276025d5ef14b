//! CSV and TSV in and out of crm: decoding (BOM, strict UTF-8, GB18030), header → field
//! mapping done once per file, cell cleaning and typed parsing, and on the way out formula
//! neutralisation, encodings and files that are never left half-written.

pub mod decode;
pub mod header;
pub mod write;

use rusqlite::types::Value;

use crate::error::{Error, Result};
use crate::schema::kinds::DateOrder;
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
pub fn parse_cell(f: &Field, cell: &str, dates: Option<&DateFormat>) -> Result<Value, String> {
    if cell.len() > MAX_FIELD {
        return Err(format!(
            "the value is {} bytes, over the 1 MiB limit",
            cell.len()
        ));
    }
    // NUL bytes are refused by `Kind::parse` itself.
    // Dates and date-times alike follow --date-format (`Kind::parse_in`).
    let order = dates.map(DateFormat::order).unwrap_or_default();
    f.kind.parse_in(unguard(cell), &order)
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
    fn dates_never_guessed() {
        let f = crate::schema::Entity::get("campaign")
            .and_then(|e| e.field("start_date"))
            .expect("field");
        assert!(parse_cell(f, "08/07/2023", None).is_err());
        let dmy = DateFormat::parse("dmy").expect("dmy");
        assert_eq!(
            parse_cell(f, "08/07/2023", Some(&dmy)),
            Ok(Value::Text("2023-07-08".into()))
        );
        let mdy = DateFormat::parse("mdy").expect("mdy");
        assert_eq!(
            parse_cell(f, "08/07/2023", Some(&mdy)),
            Ok(Value::Text("2023-08-07".into()))
        );
        assert_eq!(
            parse_cell(f, "2023年7月8日", None),
            Ok(Value::Text("2023-07-08".into()))
        );
        assert!(parse_cell(f, &"x".repeat(MAX_FIELD + 1), None).is_err());
    }
}
