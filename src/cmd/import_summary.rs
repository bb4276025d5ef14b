//! The end of an import: the first bad rows, the summary line (or the JSON object with
//! `--format json`), and the error that makes the exit status 4 when any row was rejected.

use serde_json::Value as J;

use crate::context::Ctx;
use crate::csvio::header::Col;
use crate::db::bulk::Counts;
use crate::error::{Error, Result};
use crate::output::Format;
use crate::schema::Entity;

use super::import_opts::Opts;

/// What an import did, for the person or the script that ran it.
pub struct Summary<'a> {
    pub o: &'a Opts,
    pub enc: &'static str,
    pub how: &'static str,
    pub rows: i64,
    pub counts: Counts,
    pub batch: Option<i64>,
    /// The columns `--ignore-unknown` dropped.
    pub ignored: Vec<String>,
    pub secs: f64,
    /// The rejected rows as objects, for the JSON summary.
    pub errors: RowErrors,
}

/// Row errors the JSON summary lists: enough for a CI harness to point at every bad cell of a
/// normal file, bounded so a million bad rows cannot exhaust memory.
const LISTED: usize = 1000;

/// The rejected rows of an import as JSON objects (`line`, `index` for JSON input, `column`
/// and/or `field` when the reason names one, `message`), the first [`LISTED`] of them.
pub struct RowErrors {
    list: Vec<J>,
    /// Collected only under `--format json`: the table output never shows them.
    on: bool,
}

impl RowErrors {
    pub fn new(on: bool) -> Self {
        Self {
            list: Vec::new(),
            on,
        }
    }

    /// Records one rejected row. `why` is the reason as the plain line shows it; a leading
    /// `COLUMN: ` (a header of the file, `column H`, or a field name) becomes its own key.
    pub fn push(
        &mut self,
        e: &Entity,
        heads: &[String],
        cols: &[Col],
        line: u64,
        index: Option<u64>,
        why: &str,
    ) {
        if !self.on || self.list.len() >= LISTED {
            return;
        }
        let mut o = serde_json::Map::new();
        o.insert("line".into(), J::from(line));
        if let Some(i) = index {
            o.insert("index".into(), J::from(i));
        }
        let mut message = why;
        if let Some((head, rest)) = why.split_once(": ") {
            let head_name = head.strip_prefix("column ").unwrap_or(head);
            let col = heads.iter().position(|h| h == head_name);
            let field = match col.and_then(|i| cols.get(i)) {
                Some(Col::Field(f)) => Some(f.name),
                _ => e
                    .fields
                    .iter()
                    .find(|f| f.name == head_name)
                    .map(|f| f.name),
            };
            if col.is_some() {
                o.insert("column".into(), J::from(head_name));
            }
            if let Some(f) = field {
                o.insert("field".into(), J::from(f));
            }
            if col.is_some() || field.is_some() {
                message = rest;
            }
        }
        o.insert("message".into(), J::from(message));
        self.list.push(J::Object(o));
    }
}

impl Summary<'_> {
    pub fn print(&self, ctx: &Ctx, shown: &[String]) -> Result<()> {
        let c = self.counts;
        let o = self.o;
        if ctx.out.format == Format::Json {
            ctx.out.json(&serde_json::json!({
                "entity": o.entity.name, "file": o.path, "encoding": self.enc, "mode": o.mode.name(),
                "rows": self.rows, "inserted": c.inserted, "updated": c.updated, "unchanged": c.unchanged,
                "rejected": c.rejected, "seconds": (self.secs * 1000.0).round() / 1000.0,
                "dry_run": o.dry_run, "written": self.batch.is_some(), "batch": self.batch,
                "ignored_columns": self.ignored,
                "errors": self.errors.list,
                "errors_truncated": c.rejected - i64::try_from(self.errors.list.len()).unwrap_or(0),
            }))?;
        } else {
            // The plain lines only without JSON: a script reads one machine-readable stream.
            for s in shown {
                ctx.out.msg(s);
            }
            let more = c.rejected - i64::try_from(shown.len()).unwrap_or(0);
            if more > 0 {
                ctx.out.msg(&format!("  … and {more} more"));
            }
        }
        let counts = if self.batch.is_some() {
            format!(
                "{} inserted, {} updated, {} unchanged, {} rejected of {} rows in {:.2} s",
                c.inserted, c.updated, c.unchanged, c.rejected, self.rows, self.secs
            )
        } else {
            format!(
                "would insert {}, update {}, leave {} unchanged; {} rejected of {} rows in {:.2} s",
                c.inserted, c.updated, c.unchanged, c.rejected, self.rows, self.secs
            )
        };
        let head = match (self.batch, o.dry_run) {
            (Some(b), _) => format!(
                "imported {} from {} ({}, {}), batch {b}",
                o.entity.name, o.path, self.enc, self.how
            ),
            (None, true) => format!(
                "dry run of {} from {} ({}, {}), nothing written",
                o.entity.name, o.path, self.enc, self.how
            ),
            (None, false) => format!(
                "{} from {} ({}, {}), nothing written",
                o.entity.name, o.path, self.enc, self.how
            ),
        };
        if ctx.out.format != Format::Json {
            ctx.out.msg(&format!("{head}: {counts}"));
        }
        if c.rejected == 0 {
            return Ok(());
        }
        let mut e = if self.batch.is_some() || o.dry_run {
            Error::invalid(format!("{} of {} rows rejected", c.rejected, self.rows))
        } else {
            Error::invalid(format!(
                "{} of {} rows rejected; nothing was written (--on-error abort)",
                c.rejected, self.rows
            ))
        };
        e.hints = vec![match &o.rejects {
            Some(p) => format!(
                "the rejected rows and reasons are in {}; fix them and import that file with --map error=",
                if p.as_os_str() == "-" {
                    "stdout".into()
                } else {
                    p.display().to_string()
                }
            ),
            None => {
                "pass --rejects FILE for every bad row, or --on-error skip to write the good ones"
                    .into()
            }
        }];
        Err(e)
    }
}
