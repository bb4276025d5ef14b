//! The end of an import: the first bad rows, the summary line (or the JSON object with
//! `--format json`), and the error that makes the exit status 4 when any row was rejected.

use crate::context::Ctx;
use crate::db::bulk::Counts;
use crate::error::{Error, Result};
use crate::output::Format;

use super::import_run::Opts;

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
            }))?;
        }
        for s in shown {
            ctx.out.msg(s);
        }
        let more = c.rejected - i64::try_from(shown.len()).unwrap_or(0);
        if more > 0 {
            ctx.out.msg(&format!("  … and {more} more"));
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
        e.hint = Some(match &o.rejects {
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
        });
        Err(e)
    }
}
