//! What `crm import` was asked to do (the options the import loop `import_run` reads and its
//! summary `import_summary` reports) and what a reader thread (CSV in `import_run`, JSON in
//! `import_json`) hands the loop: kept below all three so none depends on another.

use std::path::PathBuf;

use csv::ByteRecord;

use crate::csvio::DateFormat;
use crate::db::bulk::{Key, Mode, Row};
use crate::schema::Entity;
use crate::schema::kinds::phones::Region;

/// What `crm import ENTITY FILE` was asked to do.
#[allow(clippy::struct_excessive_bools)] // the command's independent on/off flags
pub struct Opts {
    pub entity: &'static Entity,
    pub path: String,
    pub mode: Mode,
    pub key: Option<Key>,
    pub maps: Vec<(String, String)>,
    pub ignore_unknown: bool,
    pub skip: bool,
    pub rejects: Option<PathBuf>,
    /// Replace an existing rejects file.
    pub force: bool,
    pub dry_run: bool,
    pub encoding: String,
    pub delimiter: u8,
    pub dates: Option<DateFormat>,
    /// Where phones without a country code are read (`--phone-region`).
    pub region: Region,
    /// `--keep-times`: `created_at` and the history fields may be given (admin, manager).
    pub keep_times: bool,
    /// `--dedupe`: rows matching a record or an earlier row by an equal-key rule are refused.
    pub dedupe: bool,
    /// The input's format: CSV/TSV, a JSON array, or JSONL.
    pub format: InFormat,
}

/// What an import file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InFormat {
    Csv,
    Json,
    Jsonl,
    /// JSON (or JSONL) when the input starts with `[` or `{`, else CSV: chosen by `--format`
    /// without a telling extension, where the flag may only ask for a JSON summary.
    JsonOrCsv,
    JsonlOrCsv,
}

/// Rows per hand-over from the reader thread.
pub(super) const CHUNK: usize = 256;

/// One record as the reader thread hands it over.
pub(super) struct Parsed {
    pub line: u64,
    /// The position in a JSON array, named in messages with the line.
    pub index: Option<u64>,
    /// The raw record for the rejects file (a JSON record as its text in one field).
    pub rec: Option<ByteRecord>,
    pub cells: std::result::Result<Row, String>,
}
