//! The reader side of a JSON or JSONL import: each object's keys mapped to fields (the
//! first record's keys checked like a CSV header, later keys mapped as they appear), its
//! values parsed by the same cell parser as CSV; a key missing from an object is a field not
//! given (its default on insert, unchanged on update), `null` a field cleared.

use std::collections::HashMap;
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};

use csv::ByteRecord;
use serde_json::{Map, Value as J};

use crate::csvio::header::{self, Col};
use crate::csvio::json::{JsonRec, JsonRecords, cell};
use crate::csvio::{DateFormat, parse_cell};
use crate::db::bulk::Row;
use crate::error::Result;
use crate::schema::Entity;
use crate::schema::kinds::phones::Region;

use super::import_opts::{CHUNK, Parsed};

/// What the JSON reader thread needs besides its records.
#[allow(clippy::struct_excessive_bools)] // the import's independent on/off options
pub struct JsonCtx {
    pub e: &'static Entity,
    pub maps: Vec<(String, String)>,
    pub ignore_unknown: bool,
    pub key_is_id: bool,
    pub dates: Option<DateFormat>,
    pub region: Region,
    pub keep_times: bool,
    pub keep: bool,
    /// The column of each key seen so far (seeded with the first record's).
    pub known: HashMap<String, Col>,
    /// Keys `--ignore-unknown` dropped after the first record, for the summary.
    pub ignored: Arc<Mutex<Vec<String>>>,
}

impl JsonCtx {
    /// The column of a key, mapped on first sight; `Err` is the row's reason.
    fn col(&mut self, key: &str) -> std::result::Result<Col, String> {
        if let Some(c) = self.known.get(key) {
            return Ok(*c);
        }
        let norm = |s: &str| s.trim().to_lowercase();
        let maps: Vec<(String, String)> = self
            .maps
            .iter()
            .filter(|(c, _)| norm(c) == norm(key))
            .cloned()
            .collect();
        let c = header::map(
            self.e,
            &[key.to_string()],
            &maps,
            self.ignore_unknown,
            self.key_is_id,
            self.keep_times,
        )
        .map(|c| c[0])
        .map_err(|err| {
            if err.kind == crate::error::ErrorKind::Invalid {
                format!("unknown key '{key}' for {}", self.e.name)
            } else {
                err.message
            }
        })?;
        if matches!(c, Col::Skip) {
            self.ignored
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(key.to_string());
        }
        self.known.insert(key.to_string(), c);
        Ok(c)
    }

    /// One object as a row.
    fn row(&mut self, obj: &Map<String, J>) -> std::result::Result<Row, String> {
        let e = self.e;
        let mut row = Row::new(e.fields.len());
        for (k, v) in obj {
            match self.col(k)? {
                Col::Skip => {}
                Col::Id => {
                    let bad = || format!("{k}: {v} is not a record id");
                    row.id = match v {
                        J::Null => None,
                        J::String(s) if s.trim().is_empty() => None,
                        J::Number(n) => Some(n.as_i64().ok_or_else(bad)?),
                        J::String(s) => Some(s.trim().parse().map_err(|_| bad())?),
                        _ => return Err(bad()),
                    };
                }
                Col::Field(f) => {
                    let i = e
                        .fields
                        .iter()
                        .position(|g| std::ptr::eq(g, f))
                        .expect("an entity field");
                    if row.is_given(i) {
                        return Err(format!("key '{k}' sets {} a second time", f.name));
                    }
                    let text = cell(f.kind, v).map_err(|why| format!("{k}: {why}"))?;
                    row.values[i] = parse_cell(f, &text, self.dates.as_ref(), self.region)
                        .map_err(|why| format!("{k}: {why}"))?;
                    row.give(i);
                }
                Col::CreatedAt => {
                    let f = &crate::schema::SYSTEM_FIELDS[1];
                    let text = cell(f.kind, v).map_err(|why| format!("{k}: {why}"))?;
                    row.created_at = match parse_cell(f, &text, self.dates.as_ref(), self.region)
                        .map_err(|why| format!("{k}: {why}"))?
                    {
                        crate::schema::Value::Integer(t) => Some(t),
                        _ => None,
                    };
                }
            }
        }
        super::import_times::check(e, &row, crate::clock::now())?;
        Ok(row)
    }
}

/// The columns of the first record's keys, checked as a CSV header is (unknown, read-only,
/// repeated, missing required); messages name the record instead of "line 1".
pub fn first_keys(first: Option<&JsonRec>) -> (Vec<String>, String) {
    match first {
        Some(r) => (
            r.object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
            r.at(),
        ),
        None => (Vec::new(), "line 1".into()),
    }
}

fn parsed(c: &mut JsonCtx, r: &JsonRec) -> Parsed {
    let cells = r.object().and_then(|m| c.row(&m));
    let rec = c.keep.then(|| {
        let mut b = ByteRecord::new();
        b.push_field(&r.text);
        b
    });
    Parsed {
        line: r.line,
        index: r.index,
        rec,
        cells,
    }
}

/// The reader thread for JSON and JSONL: records in chunks; a broken file ends the stream.
pub fn read(
    first: Option<JsonRec>,
    recs: JsonRecords<Box<dyn std::io::Read + Send>>,
    mut c: JsonCtx,
    send: &SyncSender<Result<Option<Vec<Parsed>>>>,
) {
    let mut chunk = Vec::with_capacity(CHUNK);
    for r in first.into_iter().map(Ok).chain(recs) {
        match r {
            Ok(r) => chunk.push(parsed(&mut c, &r)),
            Err(e) => {
                let _ = send.send(Err(e));
                return;
            }
        }
        if chunk.len() == CHUNK
            && send
                .send(Ok(Some(std::mem::replace(
                    &mut chunk,
                    Vec::with_capacity(CHUNK),
                ))))
                .is_err()
        {
            return;
        }
    }
    if send.send(Ok(Some(chunk))).is_ok() {
        let _ = send.send(Ok(None));
    }
}
