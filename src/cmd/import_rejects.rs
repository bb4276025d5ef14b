//! The rejects file of an import: the bad rows as they were read plus the reason, in the
//! input's own format, encoding, byte order mark and line endings, so the program that made
//! the input opens it the same way; CSV cells neutralised like every CSV crm writes.

use std::io::Write;

use csv::ByteRecord;

use crate::csvio::decode::Input;
use crate::csvio::write::{AtomicFile, Encoded};
use crate::error::{Error, Result};
use crate::schema::Kind;

/// Where rejected rows go.
pub enum Rejects {
    Csv {
        w: Box<csv::Writer<Encoded>>,
        /// The kind of each column, for the formula guard.
        kinds: Vec<Kind>,
        raw: bool,
    },
    /// The original objects with an `error` key: a JSON array, or JSONL.
    Json {
        w: Box<Encoded>,
        array: bool,
        first: bool,
        eol: &'static str,
    },
}

impl Rejects {
    /// A CSV/TSV rejects file: the input's header plus `error`.
    pub fn csv(
        file: AtomicFile,
        input: &Input,
        delimiter: u8,
        header: &ByteRecord,
        kinds: Vec<Kind>,
        raw: bool,
    ) -> Result<Rejects> {
        let mut w = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .terminator(if input.crlf {
                csv::Terminator::CRLF
            } else {
                csv::Terminator::Any(b'\n')
            })
            .from_writer(Encoded::new(file, input.encoding, input.bom)?);
        let mut h = header.clone();
        h.push_field(b"error");
        w.write_byte_record(&h)?;
        Ok(Rejects::Csv {
            w: Box::new(w),
            kinds,
            raw,
        })
    }

    /// A JSON (array) or JSONL rejects file.
    pub fn json(file: AtomicFile, input: &Input, array: bool) -> Result<Rejects> {
        Ok(Rejects::Json {
            w: Box::new(Encoded::new(file, input.encoding, input.bom)?),
            array,
            first: true,
            eol: if input.crlf { "\r\n" } else { "\n" },
        })
    }

    /// One rejected record: for CSV its cells, for JSON its text (one field), and why.
    pub fn write(&mut self, r: &ByteRecord, why: &str) -> Result<()> {
        match self {
            Rejects::Csv { w, kinds, raw } => {
                let mut out = ByteRecord::with_capacity(r.as_slice().len() + 64, r.len() + 1);
                for (i, cell) in r.iter().enumerate() {
                    if *raw {
                        out.push_field(cell);
                    } else {
                        let kind = kinds.get(i).copied().unwrap_or(Kind::Text);
                        out.push_field(&crate::csvio::guard_raw(kind, cell));
                    }
                }
                if *raw {
                    out.push_field(why.as_bytes());
                } else {
                    out.push_field(crate::csvio::guard(Kind::Text, why).as_bytes());
                }
                w.write_byte_record(&out)?;
            }
            Rejects::Json {
                w,
                array,
                first,
                eol,
            } => {
                let text = r.get(0).unwrap_or_default();
                let obj = match serde_json::from_slice::<serde_json::Value>(text) {
                    Ok(serde_json::Value::Object(mut m)) => {
                        m.insert("error".into(), why.into());
                        serde_json::Value::Object(m)
                    }
                    _ => serde_json::json!({
                        "record": String::from_utf8_lossy(text),
                        "error": why,
                    }),
                };
                let sep = match (*array, *first) {
                    (true, true) => format!("[{eol}  "),
                    (true, false) => format!(",{eol}  "),
                    (false, _) => String::new(),
                };
                w.write_all(sep.as_bytes())?;
                serde_json::to_writer(&mut **w, &obj)?;
                if !*array {
                    w.write_all(eol.as_bytes())?;
                }
                *first = false;
            }
        }
        Ok(())
    }

    /// Finishes (closing a JSON array) and renames the file into place.
    pub fn commit(self) -> Result<()> {
        match self {
            Rejects::Csv { w, .. } => w
                .into_inner()
                .map_err(|e| Error::internal(e.to_string()))?
                .commit(),
            Rejects::Json {
                mut w,
                array,
                first,
                eol,
            } => {
                if array {
                    let end = if first {
                        format!("[]{eol}")
                    } else {
                        format!("{eol}]{eol}")
                    };
                    w.write_all(end.as_bytes())?;
                }
                (*w).commit()
            }
        }
    }
}
