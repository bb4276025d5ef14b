//! Large results written row by row (JSON, JSON lines, CSV, TSV) and the plain table used
//! without a terminal: the output paths where size matters.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;

use serde_json::Value as J;

use super::{Column, Format, Output, cell_text, object};
use crate::error::Result;

/// Rows written one at a time as they are read (JSON, JSON lines, CSV, TSV), so a large
/// `find` holds one row in memory, not the whole result. Tables still need every row first
/// to size their columns, so `Output::stream` returns None for them.
pub struct RowStream<'a> {
    format: Format,
    columns: &'a [Column],
    out: Sink,
    first: bool,
    raw: bool,
}

enum Sink {
    Raw(PipeOut),
    Csv(Box<csv::Writer<PipeOut>>),
}

/// Buffered stdout where a closed pipe ends the process quietly with success.
pub struct PipeOut(std::io::BufWriter<std::io::StdoutLock<'static>>);

fn pipe_ok<T>(r: std::io::Result<T>) -> std::io::Result<T> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        other => other,
    }
}

impl Write for PipeOut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        pipe_ok(self.0.write(buf))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        pipe_ok(self.0.flush())
    }
}

impl RowStream<'_> {
    /// Writes one row.
    pub fn row(&mut self, values: &[J]) -> Result<()> {
        match self.format {
            Format::Json => {
                let pretty = serde_json::to_string_pretty(&object(self.columns, values))?;
                let mut s = String::with_capacity(pretty.len() + 64);
                s.push_str(if self.first { "[\n" } else { ",\n" });
                for (i, line) in pretty.lines().enumerate() {
                    if i > 0 {
                        s.push('\n');
                    }
                    s.push_str("  ");
                    s.push_str(line);
                }
                self.raw(s.as_bytes())?;
            }
            Format::Jsonl => {
                let mut line = serde_json::to_string(&object(self.columns, values))?;
                line.push('\n');
                self.raw(line.as_bytes())?;
            }
            _ => {
                if let Sink::Csv(w) = &mut self.out {
                    w.write_record(values.iter().map(|v| {
                        if self.raw {
                            cell_text(v)
                        } else {
                            crate::csvio::guard_cell(v)
                        }
                    }))?;
                }
            }
        }
        self.first = false;
        Ok(())
    }

    fn raw(&mut self, bytes: &[u8]) -> Result<()> {
        if let Sink::Raw(w) = &mut self.out {
            w.write_all(bytes)?;
        }
        Ok(())
    }

    /// Drops what is still buffered instead of writing it: after an error, a result that
    /// fit in the buffer leaves stdout empty rather than holding half a document.
    pub fn abandon(self) {
        // Both writers flush when dropped; forgetting them (a small, one-off leak just before
        // the process exits) is the way to discard their buffers.
        std::mem::forget(self.out);
    }

    /// Ends the document (closes the JSON array) and flushes.
    pub fn finish(mut self) -> Result<()> {
        if self.format == Format::Json {
            let end: &[u8] = if self.first { b"[]\n" } else { b"\n]\n" };
            self.raw(end)?;
        }
        match &mut self.out {
            Sink::Raw(w) => w.flush()?,
            Sink::Csv(w) => w.flush()?,
        }
        Ok(())
    }
}

impl Output {
    /// A row stream for every format but tables (which need all rows to size columns).
    pub fn stream<'a>(&self, columns: &'a [Column]) -> Result<Option<RowStream<'a>>> {
        if self.format == Format::Table {
            return Ok(None);
        }
        let pipe = PipeOut(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stdout().lock(),
        ));
        let out = if matches!(self.format, Format::Csv | Format::Tsv) {
            let mut w = csv::WriterBuilder::new()
                .delimiter(if self.format == Format::Tsv {
                    b'\t'
                } else {
                    b','
                })
                .from_writer(pipe);
            w.write_record(columns.iter().map(|c| c.key.as_str()))?;
            Sink::Csv(Box::new(w))
        } else {
            Sink::Raw(pipe)
        };
        Ok(Some(RowStream {
            format: self.format,
            columns,
            out,
            first: true,
            raw: self.raw,
        }))
    }
}

/// The table printed when stdout is not a terminal: the same Markdown-style text that
/// comfy-table's `ASCII_MARKDOWN` preset gives, built directly because comfy-table needs
/// several kilobytes per row (600 MB and over a second for 100,000 customers).
pub(super) fn markdown_table(header: &[String], rows: &[Vec<String>]) -> String {
    use unicode_width::UnicodeWidthStr;
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.width());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String]| {
        out.push('|');
        for (c, w) in cells.iter().zip(&widths) {
            out.push(' ');
            out.push_str(c);
            out.extend(std::iter::repeat_n(' ', w - c.width() + 1));
            out.push('|');
        }
        out.push('\n');
    };
    line(&mut out, header);
    out.push('|');
    for w in &widths {
        out.extend(std::iter::repeat_n('-', w + 2));
        out.push('|');
    }
    out.push('\n');
    for r in rows {
        line(&mut out, r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use comfy_table::{ContentArrangement, Table, presets};

    /// The fast table is byte for byte what comfy-table prints without a terminal.
    #[test]
    fn markdown_table_matches_comfy_table() {
        let header = vec!["id".to_string(), "名称".to_string(), "tags".to_string()];
        let rows = vec![
            vec![
                "1".to_string(),
                "深圳市腾达科技有限公司".to_string(),
                "vip;华南".to_string(),
            ],
            vec!["22".to_string(), "emoji 😀 x".to_string(), String::new()],
            vec!["333".to_string(), "a\\tb".to_string(), "x".to_string()],
        ];
        let mut t = Table::new();
        t.load_preset(presets::ASCII_MARKDOWN);
        t.set_content_arrangement(ContentArrangement::Disabled);
        t.set_header(header.clone());
        for r in &rows {
            t.add_row(r.clone());
        }
        assert_eq!(markdown_table(&header, &rows), format!("{t}\n"));
        assert_eq!(markdown_table(&header, &[]), {
            let mut e = Table::new();
            e.load_preset(presets::ASCII_MARKDOWN);
            e.set_header(header.clone());
            format!("{e}\n")
        });
    }
}
