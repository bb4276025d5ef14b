//! Header → field mapping, done once per file: field names, English and Chinese labels
//! (ignoring case and surrounding spaces), `--map COLUMN=FIELD`, and honest errors for
//! unknown, repeated, read-only and missing columns.

use crate::error::{Error, Result};
use crate::schema::{Default, Entity, Field, SYSTEM_FIELDS};

/// What one column of the file feeds.
#[derive(Debug, Clone, Copy)]
pub enum Col {
    Field(&'static Field),
    /// The record id, allowed only as the `--key` of upsert and update.
    Id,
    /// `created_at`, given on insert by a historical import (`--keep-times`).
    CreatedAt,
    /// Ignored (`--map COL=`, `--ignore-unknown`, an empty header after a trailing separator).
    Skip,
}

fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

fn matches(f: &Field, h: &str) -> bool {
    h == f.name || h.replace(['-', ' '], "_") == f.name || h == norm(f.en) || h == f.zh
}

/// The read-only fields a historical import (`--keep-times`) may give: the times a rule
/// would otherwise set to the moment of the import.
pub const HISTORY: &[&str] = &["closed_at", "resolved_at", "last_contacted_at"];

/// Maps each header to a column. `maps` holds `--map COLUMN=FIELD` pairs; `key` is `--key`.
pub fn map(
    e: &'static Entity,
    headers: &[String],
    maps: &[(String, String)],
    ignore_unknown: bool,
    key_is_id: bool,
    keep_times: bool,
) -> Result<Vec<Col>> {
    for (col, _) in maps {
        if !headers.iter().any(|h| norm(h) == norm(col)) {
            return Err(Error::usage(format!(
                "--map names column '{col}', which the file does not have"
            ))
            .hint(format!("the file's columns: {}", headers.join(", "))));
        }
    }
    let mut cols = Vec::with_capacity(headers.len());
    for (i, h) in headers.iter().enumerate() {
        let n = norm(h);
        let col = if let Some((_, target)) = maps.iter().find(|(c, _)| norm(c) == n) {
            if target.trim().is_empty() {
                Col::Skip
            } else if target.trim() == "id" {
                Col::Id
            } else if target.trim() == "created_at" {
                Col::Field(&SYSTEM_FIELDS[1])
            } else {
                Col::Field(e.field(target)?)
            }
        } else if n.is_empty() {
            Col::Skip
        } else if let Some(f) = e.fields.iter().find(|f| matches(f, &n)) {
            Col::Field(f)
        } else if let Some(f) = e
            .fields
            .iter()
            .find(|f| crate::schema::entities::synonyms(e.name, f.name).any(|s| norm(s) == n))
        {
            Col::Field(f)
        } else if let Some(s) = SYSTEM_FIELDS.iter().find(|f| matches(f, &n)) {
            if s.name == "id" {
                Col::Id
            } else {
                Col::Field(s)
            }
        } else if ignore_unknown {
            Col::Skip
        } else {
            let names: Vec<&str> = e.writable().map(|f| f.name).collect();
            // A runaway header (a whole file without newlines) must not echo megabytes.
            let h = shorten(h);
            let err = Error::invalid(format!(
                "line 1: unknown column '{h}' (column {}) for {}",
                i + 1,
                e.name
            ));
            // JSON read as CSV (from stdin, or a file without a .json/.jsonl name) starts
            // with `[` or `{`: say how to read it instead of listing the fields.
            if i == 0 && (h.starts_with('[') || h.starts_with('{')) {
                return Err(err.hint(
                    "this looks like JSON, read as CSV: pass --format json (an array) or \
                     --format jsonl (one object per line)",
                ));
            }
            return Err(err.hint(format!(
                "fields: {}; or pass --map '{h}=FIELD', --map '{h}=' to skip it, or --ignore-unknown",
                names.join(", ")
            )));
        };
        let col = match col {
            Col::Field(f) if keep_times && f.name == "created_at" => Col::CreatedAt,
            Col::Field(f) if keep_times && HISTORY.contains(&f.name) => Col::Field(f),
            other => other,
        };
        match col {
            Col::Field(f) if f.read_only && !(keep_times && HISTORY.contains(&f.name)) => {
                let history = f.name == "created_at" || HISTORY.contains(&f.name);
                return Err(Error::usage(format!(
                    "column '{h}' is {}, which crm sets itself; it cannot be imported",
                    f.name
                ))
                .hint(if history {
                    format!("pass --keep-times to import history (admin, manager), or --map '{h}=' to skip the column")
                } else {
                    format!("pass --map '{h}=' to skip the column")
                }));
            }
            Col::Id if !key_is_id => {
                return Err(Error::usage(format!(
                    "column '{h}' is the record id, which import sets only with --key id"
                ))
                .hint(format!(
                    "pass --mode update --key id to update by id, or --map '{h}=' to skip it"
                )));
            }
            _ => {}
        }
        cols.push(col);
    }
    for (i, c) in cols.iter().enumerate() {
        let same = |o: &Col| match (c, o) {
            (Col::Field(a), Col::Field(b)) => a.name == b.name,
            (Col::Id, Col::Id) => true,
            _ => false,
        };
        if let Some(j) = cols[..i].iter().position(same) {
            return Err(Error::invalid(format!(
                "line 1: columns {} ('{}') and {} ('{}') are the same field",
                j + 1,
                headers[j],
                i + 1,
                headers[i]
            ))
            .hint("remove one, or --map one of them to another field or to nothing"));
        }
    }
    Ok(cols)
}

/// The columns `--ignore-unknown` dropped: skipped, with a name, and not skipped on purpose
/// by `--map COLUMN=`.
pub fn ignored(headers: &[String], cols: &[Col], maps: &[(String, String)]) -> Vec<String> {
    headers
        .iter()
        .zip(cols)
        .filter(|(h, c)| {
            matches!(c, Col::Skip)
                && !norm(h).is_empty()
                && !maps.iter().any(|(m, _)| norm(m) == norm(h))
        })
        .map(|(h, _)| h.clone())
        .collect()
}

/// Fails when inserting needs a field the file has no column for and crm cannot fill.
pub fn check_required(e: &Entity, cols: &[Col]) -> Result<()> {
    for f in e.writable() {
        let present = cols
            .iter()
            .any(|c| matches!(c, Col::Field(g) if g.name == f.name));
        if f.required && f.default == Default::None && !present {
            return Err(Error::invalid(format!(
                "line 1: the file has no column for the required field {} ({} / {})",
                f.name, f.en, f.zh
            ))
            .hint(format!(
                "add a '{}' column, or --map a column to it",
                f.name
            )));
        }
    }
    Ok(())
}

/// A column name cut to 60 characters (marked with `…`) for messages.
fn shorten(h: &str) -> std::borrow::Cow<'_, str> {
    match h.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &h[..at]).into(),
        None => h.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: &[&str]) -> Vec<String> {
        v.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn labels_and_names_match() {
        let e = Entity::get("customer").expect("customer");
        let cols = map(
            e,
            &h(&[" 客户名称 ", "CITY", "Credit Code", "credit-code2"]),
            &[("credit-code2".into(), String::new())],
            false,
            false,
            false,
        )
        .expect("maps");
        assert!(matches!(cols[0], Col::Field(f) if f.name == "name"));
        assert!(matches!(cols[1], Col::Field(f) if f.name == "city"));
        assert!(matches!(cols[2], Col::Field(f) if f.name == "credit_code"));
        assert!(matches!(cols[3], Col::Skip));
        assert_eq!(
            map(e, &h(&["name", "nope"]), &[], false, false, false)
                .unwrap_err()
                .kind,
            crate::error::ErrorKind::Invalid
        );
        assert!(map(e, &h(&["name", "nope"]), &[], true, false, false).is_ok());
        assert!(
            map(
                e,
                &h(&["name", "名称", "客户名称"]),
                &[],
                true,
                false,
                false
            )
            .is_err()
        );
        assert_eq!(
            map(e, &h(&["id", "name"]), &[], false, false, false)
                .unwrap_err()
                .kind,
            crate::error::ErrorKind::Usage
        );
        assert!(map(e, &h(&["created_at"]), &[], false, false, false).is_err());
        assert!(matches!(
            map(e, &h(&["created_at", "last_contacted_at"]), &[], false, false, true).as_deref(),
            Ok([Col::CreatedAt, Col::Field(f)]) if f.name == "last_contacted_at"
        ));
        assert!(map(e, &h(&["segment"]), &[], false, false, true).is_err());
        let heads = h(&["统一社会信用代码", "手机号", "Company Name", "x", "skip"]);
        let maps = [("skip".to_string(), String::new())];
        let cols = map(e, &heads, &maps, true, false, false).expect("synonyms");
        assert!(matches!(cols[0], Col::Field(f) if f.name == "credit_code"));
        assert!(matches!(cols[1], Col::Field(f) if f.name == "phone"));
        assert!(matches!(cols[2], Col::Field(f) if f.name == "name"));
        assert_eq!(ignored(&heads, &cols, &maps), ["x"]);
    }
}
