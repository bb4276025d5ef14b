//! Every byte crm writes goes through here: data to stdout in the chosen format, messages
//! and errors to stderr. A closed stdout pipe ends the process quietly with success.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};

use comfy_table::{ContentArrangement, Table, presets};
use serde_json::Value as J;

use crate::error::{Error, Result};

mod stream;
pub mod table;
pub use stream::{PipeOut, RowStream};
use table::{fit_columns, table_cell};

/// The output formats of `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
    Tsv,
    Jsonl,
}

impl Format {
    pub fn parse(s: &str) -> Result<Format> {
        match s.to_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "tsv" => Ok(Format::Tsv),
            "jsonl" => Ok(Format::Jsonl),
            _ => Err(Error::usage(format!("unknown format '{s}'"))
                .hint("formats: table, json, csv, tsv")),
        }
    }
}

/// A column of tabular output: its key and the header shown in tables.
#[derive(Debug, Clone)]
pub struct Column {
    pub key: String,
    pub header: String,
}

impl Column {
    /// Columns headed by their own keys.
    pub fn named(keys: &[&str]) -> Vec<Column> {
        keys.iter()
            .map(|k| Column {
                key: (*k).into(),
                header: (*k).into(),
            })
            .collect()
    }
}

/// Where and how to write.
#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools)] // independent switches, not a state machine
pub struct Output {
    pub format: Format,
    pub quiet: bool,
    pub color: bool,
    /// Whether error lines on stderr are coloured (`always`, or `auto` on a terminal).
    pub err_color: bool,
    pub stdout_tty: bool,
    pub stderr_tty: bool,
    /// Whether a terminal table may leave out columns that do not fit its width (off when
    /// the user named the columns).
    pub fit: bool,
    /// `--raw`: CSV/TSV cells verbatim, without the apostrophe before formula-like text.
    pub raw: bool,
    /// The left-out columns already named in a note: each is named once per command, and a
    /// later table that leaves out another (agenda's sections) names that one too.
    noted: std::cell::RefCell<Vec<String>>,
}

/// Writes to stdout; a closed pipe (`crm find … | head -1`) is success, so exit 0 at once.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(e.into()),
        Ok(()) => Ok(()),
    }
}

/// Text of a JSON value for table and CSV cells: lists joined by `;`.
pub fn cell_text(v: &J) -> String {
    match v {
        J::Null => String::new(),
        J::String(s) => s.clone(),
        J::Array(a) => a.iter().map(cell_text).collect::<Vec<_>>().join(";"),
        other => other.to_string(),
    }
}

/// Every control character escaped (`\u{1b}`), line breaks too: for one-line error and hint text.
fn escape_all_controls(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Control characters shown escaped on a terminal, so stored text cannot drive the screen.
fn escape_controls(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

impl Output {
    pub fn new(format: Format, quiet: bool, color: &str) -> Output {
        let stdout_tty = std::io::stdout().is_terminal();
        let stderr_tty = std::io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        // `always` means always, piped or not; `auto` asks each stream whether it is a terminal.
        let (color, err_color) = match color {
            "always" => (true, true),
            "never" => (false, false),
            _ => (stdout_tty && !no_color, stderr_tty && !no_color),
        };
        Output {
            format,
            quiet,
            color,
            err_color,
            stdout_tty,
            stderr_tty,
            fit: true,
            raw: false,
            noted: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// A message for the person at the terminal (stderr), unless `--quiet`.
    pub fn msg(&self, text: &str) {
        if !self.quiet {
            eprint_line(text);
        }
    }

    /// The result of a command that has no record to print: the message for a person
    /// (stderr), or with `--format json` the object on stdout, so a script always gets one
    /// JSON value for what happened.
    pub fn outcome(&self, text: &str, v: &J) -> Result<()> {
        if self.format == Format::Json {
            return self.json(v);
        }
        self.msg(text);
        Ok(())
    }

    /// Writes raw data to stdout.
    pub fn data(&self, text: &str) -> Result<()> {
        write_stdout(text.as_bytes())
    }

    /// Prints a JSON document on stdout.
    pub fn json(&self, v: &J) -> Result<()> {
        let mut s = serde_json::to_string_pretty(v)?;
        s.push('\n');
        write_stdout(s.as_bytes())
    }

    /// Prints rows in the chosen format: a JSON array of objects, CSV/TSV with a header, or a table.
    pub fn rows(&self, columns: &[Column], rows: &[Vec<J>]) -> Result<()> {
        self.rows_ranked(columns, rows, None)
    }

    /// `rows`, where a narrow terminal drops columns by `rank` (lowest first; see
    /// `table::fit_ranked`) instead of by what the columns hold.
    pub fn rows_ranked(
        &self,
        columns: &[Column],
        rows: &[Vec<J>],
        rank: Option<&[u8]>,
    ) -> Result<()> {
        match self.format {
            Format::Json => {
                let list: Vec<J> = rows.iter().map(|r| object(columns, r)).collect();
                self.json(&J::Array(list))
            }
            Format::Jsonl => {
                let mut s = String::new();
                for r in rows {
                    s.push_str(&serde_json::to_string(&object(columns, r))?);
                    s.push('\n');
                }
                self.data(&s)
            }
            Format::Csv | Format::Tsv => {
                let mut w = csv::WriterBuilder::new()
                    .delimiter(if self.format == Format::Tsv {
                        b'\t'
                    } else {
                        b','
                    })
                    .from_writer(Vec::new());
                w.write_record(columns.iter().map(|c| c.key.as_str()))?;
                for r in rows {
                    w.write_record(r.iter().map(|v| self.csv_cell(v)))?;
                }
                let bytes = w.into_inner().map_err(|e| Error::internal(e.to_string()))?;
                write_stdout(&bytes)
            }
            Format::Table => {
                let header: Vec<String> = columns.iter().map(|c| c.header.clone()).collect();
                let mut cells: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| r.iter().map(table_cell).collect())
                    .collect();
                if !self.stdout_tty && !cells.iter().flatten().any(|c| c.contains('\n')) {
                    return write_stdout(stream::markdown_table(&header, &cells).as_bytes());
                }
                let mut t = self.new_table();
                let width = if self.stdout_tty {
                    table::terminal_width()
                } else {
                    usize::MAX
                };
                let keep = match rank {
                    _ if !self.fit => (0..header.len()).collect(),
                    Some(rank) => table::fit_ranked(&header, &cells, width, rank),
                    None => {
                        let keys: Vec<&str> = columns.iter().map(|c| c.key.as_str()).collect();
                        fit_columns(&keys, &header, &cells, width)
                    }
                };
                // What still does not fit is cut with `…`: comfy-table must not wrap it, or
                // numbers and words break across lines.
                table::shorten(&header, &mut cells, &keep, width);
                t.set_content_arrangement(ContentArrangement::Disabled);
                let left: Vec<&str> = {
                    let mut noted = self.noted.borrow_mut();
                    (0..header.len())
                        .filter(|i| !keep.contains(i))
                        .map(|i| header[i].as_str())
                        .filter(|h| {
                            let new = !noted.iter().any(|n| n == h);
                            if new {
                                noted.push((*h).to_string());
                            }
                            new
                        })
                        .collect()
                };
                if !left.is_empty() {
                    self.msg(&format!(
                        "note: not shown for lack of width: {} (widen the terminal, or use --format json)",
                        left.join(", ")
                    ));
                }
                t.set_header(keep.iter().map(|&i| header[i].clone()));
                for r in cells {
                    t.add_row(keep.iter().map(|&i| r[i].clone()));
                }
                self.data(&format!("{t}\n"))
            }
        }
    }

    /// A CSV/TSV cell: neutralised as export does (see `csvio::guard_cell`) unless `--raw`.
    pub fn csv_cell(&self, v: &J) -> String {
        if self.raw {
            cell_text(v)
        } else {
            crate::csvio::guard_cell(v)
        }
    }

    /// Prints one record: a JSON object, a one-row CSV, or a two-column table.
    pub fn record(&self, columns: &[Column], values: &[J]) -> Result<()> {
        match self.format {
            Format::Json => self.json(&object(columns, values)),
            Format::Table => {
                let mut t = self.new_table();
                for (c, v) in columns.iter().zip(values) {
                    t.add_row(vec![c.header.clone(), table_cell(v)]);
                }
                self.data(&format!("{t}\n"))
            }
            _ => self.rows(columns, &[values.to_vec()]),
        }
    }

    fn new_table(&self) -> Table {
        let mut t = Table::new();
        t.load_preset(presets::UTF8_FULL_CONDENSED);
        if self.stdout_tty {
            t.set_content_arrangement(ContentArrangement::Dynamic);
            // A terminal that reports no size (some ptys) reads as 80 columns, not zero.
            if t.width().is_none_or(|w| w == 0) {
                t.set_width(80);
            }
        } else {
            t.set_content_arrangement(ContentArrangement::Disabled);
            t.load_preset(presets::ASCII_MARKDOWN);
        }
        t
    }

    /// Reports an error: `error: …` and `hint: …` lines, or under `--format json` only the
    /// JSON object (one parseable line for scripts). Control characters are escaped.
    pub fn error(&self, e: &Error) {
        let message = escape_all_controls(&e.message);
        let hints: Vec<String> = e.hints.iter().map(|h| escape_all_controls(h)).collect();
        let s = if self.format == Format::Json {
            let mut obj = serde_json::json!({"kind": e.kind.name(), "message": message});
            // `hint` is the first (what scripts have read so far); `hints` all, when several.
            if let Some(h) = hints.first() {
                obj["hint"] = J::from(h.as_str());
            }
            if hints.len() > 1 {
                obj["hints"] = J::from(hints.clone());
            }
            format!("{}\n", serde_json::json!({ "error": obj }))
        } else {
            let prefix = if self.err_color {
                "\x1b[31merror:\x1b[0m"
            } else {
                "error:"
            };
            let mut s = format!("{prefix} {message}\n");
            for h in &hints {
                s.push_str(&format!("hint: {h}\n"));
            }
            s
        };
        let _ = std::io::stderr().write_all(s.as_bytes());
    }
}

/// A JSON object of the columns' keys and the values, in column order.
pub fn object(columns: &[Column], values: &[J]) -> J {
    J::Object(
        columns
            .iter()
            .zip(values)
            .map(|(c, v)| (c.key.clone(), v.clone()))
            .collect(),
    )
}

/// One line on stderr, for prompts' own feedback.
/// A closed or broken stderr is ignored rather than a panic (`eprintln!` would panic).
///
/// Every message to stderr passes here or through `Output::error`, which escape control
/// characters (ESC, BEL from a file's cell or an argument) so they cannot drive the terminal.
pub fn eprint_line(s: &str) {
    let s = escape_controls(s);
    let mut line = String::with_capacity(s.len() + 1);
    line.push_str(&s);
    line.push('\n');
    let _ = std::io::stderr().write_all(line.as_bytes());
}
