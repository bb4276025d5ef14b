//! Turning stored records into output rows: columns chosen by `--columns`, values through
//! each field's kind, so tables, JSON and CSV agree.

use serde_json::Value as J;

use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::output::Column;
use crate::schema::Value;
use crate::schema::{Entity, Field};

/// The fields named by `--columns A,B` (exactly those, in that order), or every column.
pub fn pick_columns(e: &'static Entity, spec: Option<&String>) -> Result<Vec<&'static Field>> {
    match spec {
        None => Ok(e.columns().collect()),
        Some(s) => {
            let cols = s
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(|c| e.field(c))
                .collect::<Result<Vec<_>>>()?;
            if cols.is_empty() {
                return Err(Error::usage("--columns names no field"));
            }
            Ok(cols)
        }
    }
}

/// The default table columns: without `--columns`, the fields the registry marks wide (long
/// text, timestamps) are left out of tables so a list fits a terminal; JSON and CSV always
/// get every field.
pub fn list_columns(
    ctx: &Ctx,
    e: &'static Entity,
    spec: Option<&String>,
) -> Result<Vec<&'static Field>> {
    if spec.is_some() || ctx.out.format != crate::output::Format::Table {
        return pick_columns(e, spec);
    }
    Ok(e.columns().filter(|f| !f.wide).collect())
}

/// Output columns for fields.
pub fn columns(ctx: &Ctx, fields: &[&'static Field]) -> Vec<Column> {
    fields.iter().map(|f| ctx.column(f)).collect()
}

/// One row's JSON values.
pub fn json_row(fields: &[&'static Field], values: &[Value]) -> Vec<J> {
    fields
        .iter()
        .zip(values)
        .map(|(f, v)| f.kind.to_json(v))
        .collect()
}

/// One row's values as a table shows them: under `--lang zh` a choice reads as its Chinese
/// label (which `add` and `edit` accept as input too); JSON and CSV keep the stored value.
pub fn view_row(ctx: &Ctx, fields: &[&'static Field], values: &[Value]) -> Vec<J> {
    let mut row = json_row(fields, values);
    if ctx.g.zh && ctx.out.format == crate::output::Format::Table {
        for (f, v) in fields.iter().zip(row.iter_mut()) {
            if let (crate::schema::Kind::Choice(choices), J::String(s)) = (f.kind, &*v)
                && let Some((_, zh)) = choices.iter().find(|(c, _)| c == s)
            {
                *v = J::String((*zh).to_string());
            }
        }
    }
    row
}
