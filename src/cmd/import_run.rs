//! The import loop: read each record once (streaming, memory flat), parse its cells, hand it
//! to the bulk writer, account for it (written, unchanged or rejected with its line and
//! reason), then commit, or roll back on abort, dry run or a signal.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, SyncSender};
use std::time::Instant;

use csv::ByteRecord;

use crate::context::Ctx;
use crate::csvio::header::{self, Col};
use crate::csvio::json::JsonRecords;
use crate::csvio::write::AtomicFile;
use crate::csvio::{DateFormat, decode, parse_cell};
use crate::db::bulk::{Bulk, Key, Mode, Row};
use crate::error::{Error, ErrorKind, Result};
use crate::schema::kinds::phones::Region;
use crate::schema::{Entity, Kind};

use super::import_rejects::Rejects;
// The options and the readers' hand-over live below this loop, its summary and the JSON
// reader, so none of them reaches into another.
use super::import_opts::{CHUNK, Parsed};
pub use super::import_opts::{InFormat, Opts};

/// Settles a tentative format by the first character of the (decoded) input.
fn settle(
    format: InFormat,
    reader: Box<dyn std::io::Read + Send>,
) -> Result<(InFormat, Box<dyn std::io::Read + Send>)> {
    use std::io::BufRead;
    let json = match format {
        InFormat::JsonOrCsv => InFormat::Json,
        InFormat::JsonlOrCsv => InFormat::Jsonl,
        other => return Ok((other, reader)),
    };
    let mut r = std::io::BufReader::with_capacity(1 << 16, reader);
    let first = r
        .fill_buf()?
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .copied();
    let settled = match first {
        Some(b'[' | b'{') => json,
        _ => InFormat::Csv,
    };
    Ok((settled, Box::new(r)))
}

/// Bad rows shown on stderr; all of them go to `--rejects`.
const SHOWN: usize = 20;
/// Imports past this many rows end with `wal_checkpoint(TRUNCATE)` so the WAL shrinks again.
const LARGE: i64 = 10_000;

/// SIGINT and SIGTERM set flags the loop checks between rows, so a signal rolls back.
fn signals() -> Result<(Arc<AtomicBool>, Arc<AtomicBool>)> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let int = Arc::new(AtomicBool::new(false));
    let term = Arc::new(AtomicBool::new(false));
    // A second signal ends the process at once (a read from a silent pipe cannot see the
    // flag); SQLite discards the unfinished transaction, as after kill -9.
    signal_hook::flag::register_conditional_shutdown(SIGINT, 130, int.clone())?;
    signal_hook::flag::register_conditional_shutdown(SIGTERM, 143, term.clone())?;
    signal_hook::flag::register(SIGINT, int.clone())?;
    signal_hook::flag::register(SIGTERM, term.clone())?;
    Ok((int, term))
}

fn bad_input(e: &csv::Error, line: u64) -> Error {
    if let csv::ErrorKind::Io(io) = e.kind() {
        if io.kind() == std::io::ErrorKind::FileTooLarge {
            return Error::invalid(format!(
                "line {line}: a record over the size limit (a field over 1 MiB, or an unbalanced quote)"
            ))
            .hint("nothing was written; check the quotes around that line");
        }
        if io.kind() == std::io::ErrorKind::InvalidData {
            return Error::invalid(io.to_string())
                .hint("nothing was written; pass --encoding if the file is in another encoding");
        }
    }
    Error::from(csv::Error::from(std::io::Error::other(e.to_string())))
}

/// The cells of one record, parsed; `Err` is the row's reason.
fn parse_row(
    e: &'static Entity,
    cols: &[(Col, usize)],
    heads: &[String],
    rec: &ByteRecord,
    dates: Option<&DateFormat>,
    region: Region,
) -> std::result::Result<Row, String> {
    if rec.len() < cols.len() || rec.iter().skip(cols.len()).any(|x| !x.is_empty()) {
        return Err(format!(
            "{} fields, the header has {}",
            rec.len(),
            cols.len()
        ));
    }
    let mut row = Row::new(e.fields.len());
    for ((c, i), (raw, h)) in cols.iter().zip(rec.iter().zip(heads)) {
        let text = std::str::from_utf8(raw).map_err(|e| {
            format!("column {h}: bytes that are not valid UTF-8 at byte {} (nothing was replaced; pass --encoding gb18030 if the file is GBK)", e.valid_up_to())
        })?;
        match c {
            Col::Skip => {}
            Col::Id => {
                let v = text.trim();
                if !v.is_empty() {
                    row.id = Some(
                        v.parse()
                            .map_err(|_| format!("column {h}: '{v}' is not a record id"))?,
                    );
                }
            }
            Col::Field(f) => {
                row.values[*i] =
                    parse_cell(f, text, dates, region).map_err(|why| format!("{h}: {why}"))?;
                row.give(*i);
            }
            Col::CreatedAt => {
                row.created_at =
                    match parse_cell(&crate::schema::SYSTEM_FIELDS[1], text, dates, region)
                        .map_err(|why| format!("{h}: {why}"))?
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

/// Ends the import (rolling back) once SIGINT or SIGTERM arrived.
fn stop_on_signal(int: &AtomicBool, term: &AtomicBool) -> Result<()> {
    if int.load(Ordering::Relaxed) {
        return Err(Error::new(
            ErrorKind::Interrupted,
            "interrupted; nothing was written",
        ));
    }
    if term.load(Ordering::Relaxed) {
        return Err(Error::new(
            ErrorKind::Terminated,
            "terminated; nothing was written",
        ));
    }
    Ok(())
}

/// What the reader thread owns besides the CSV reader. It is not joined: a signal must end
/// the import even while the thread waits for input on a pipe.
struct ReadCtx {
    limit: Arc<AtomicU64>,
    per_record: u64,
    e: &'static Entity,
    /// Each column with the index of its field in the entity.
    cols: Vec<(Col, usize)>,
    heads: Vec<String>,
    dates: Option<DateFormat>,
    region: Region,
    /// Keep each raw record (for the rejects file).
    keep: bool,
    lines: decode::Lines,
}

/// The reader thread: records in chunks, each parsed; a read failure ends the stream.
fn read_rows(
    mut rdr: csv::Reader<Box<dyn std::io::Read + Send>>,
    c: &ReadCtx,
    send: &SyncSender<Result<Option<Vec<Parsed>>>>,
) {
    let (limit, per_record, e, keep, lines) = (&c.limit, c.per_record, c.e, c.keep, &c.lines);
    let (cols, heads, dates) = (&c.cols[..], &c.heads[..], c.dates.as_ref());
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut scratch = ByteRecord::new();
    loop {
        limit.store(rdr.position().byte() + per_record, Ordering::Relaxed);
        let line = lines.line_at(rdr.position().byte());
        // The raw record travels on only when a rejects file needs it.
        let mut fresh = keep.then(ByteRecord::new);
        let rec = fresh.as_mut().unwrap_or(&mut scratch);
        match rdr.read_byte_record(rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let _ = send.send(Err(bad_input(&e, line)));
                return;
            }
        }
        let line = rec.position().map_or(line, |p| lines.line_at(p.byte()));
        let cells = parse_row(e, cols, heads, rec, dates, c.region);
        chunk.push(Parsed {
            line,
            index: None,
            rec: fresh,
            cells,
        });
        if chunk.len() == CHUNK
            && send
                .send(Ok(Some(std::mem::replace(
                    &mut chunk,
                    Vec::with_capacity(CHUNK),
                ))))
                .is_err()
        {
            return; // the writer stopped (an error or a signal)
        }
    }
    if send.send(Ok(Some(chunk))).is_ok() {
        let _ = send.send(Ok(None)); // the end: a thread that died without it is an error
    }
}

/// A header error of a JSON file names the first record, not "line 1" of a CSV header.
fn relabel(mut e: Error, at: &str, format: InFormat) -> Error {
    if format != InFormat::Csv {
        e.message = e
            .message
            .replacen("line 1:", &format!("{at}:"), 1)
            .replace("column", "key");
    }
    e
}

/// Runs the import and prints its summary.
pub fn run(ctx: &mut Ctx, user: &str, o: &Opts) -> Result<()> {
    let started = Instant::now();
    let (int, term) = signals()?;
    let mut input = decode::open(&o.path, &o.encoding)?;
    let enc = input.encoding;
    let raw_cells = ctx.out.raw;
    let (raw, limit, len) = (input.raw.clone(), input.limit.clone(), input.len);
    limit.store(16 << 20, Ordering::Relaxed);
    let reader = std::mem::replace(&mut input.reader, Box::new(std::io::empty()));
    let (format, reader) = settle(o.format, reader)?;
    let key_is_id = matches!(o.key, Some(Key::Id)) && o.mode != Mode::Insert;
    let mut rdr = None;
    let mut json = None;
    let mut rec = ByteRecord::new();
    // What the header (CSV) or the first record's keys (JSON) are called in messages.
    let mut at = "line 1".to_string();
    let (has_header, heads) = if format == InFormat::Csv {
        let mut r = csv::ReaderBuilder::new()
            .delimiter(o.delimiter)
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 17)
            .from_reader(reader);
        let has_header = r.read_byte_record(&mut rec).map_err(|e| bad_input(&e, 1))?;
        let heads: Vec<String> = rec
            .iter()
            .map(|h| {
                String::from_utf8(h.to_vec()).map_err(|_| {
                    Error::invalid("line 1: the header is not valid text in the file's encoding")
                        .hint("pass --encoding")
                })
            })
            .collect::<Result<_>>()?;
        rdr = Some(r);
        (has_header, heads)
    } else {
        // Records are cut by the JSON reader, which bounds their size itself.
        limit.store(u64::MAX, Ordering::Relaxed);
        let mut recs = JsonRecords::new(reader, format == InFormat::Json);
        let first = recs.next().transpose()?;
        let (heads, first_at) = super::import_json::first_keys(first.as_ref());
        at = first_at;
        json = Some((first, recs));
        (!heads.is_empty(), heads)
    };
    let cols = if has_header {
        header::map(
            o.entity,
            &heads,
            &o.maps,
            o.ignore_unknown,
            key_is_id,
            o.keep_times,
        )
        .map_err(|e| relabel(e, &at, format))?
    } else {
        Vec::new()
    };
    let ignored = header::ignored(&heads, &cols, &o.maps);
    if !ignored.is_empty() {
        ctx.out.msg(&format!(
            "ignored columns (--ignore-unknown): {}",
            ignored.join(", ")
        ));
    }
    if has_header && o.mode == Mode::Insert {
        header::check_required(o.entity, &cols).map_err(|e| relabel(e, &at, format))?;
    }
    if let (true, Some(k), true) = (has_header, o.key, o.mode != Mode::Insert) {
        let present = cols.iter().any(|c| match (c, k) {
            (Col::Id, Key::Id) => true,
            (Col::Field(f), Key::Field(g)) => f.name == g.name,
            _ => false,
        });
        if !present {
            return Err(Error::invalid(format!(
                "{at}: --mode {} needs a '{}' column to find records",
                o.mode.name(),
                k.name()
            )));
        }
    }
    let per_record = ((cols.len() as u64 + 1) << 20).min(64 << 20);
    // The kind of each column, for the formula guard of the rejects file.
    let kinds: Vec<Kind> = cols
        .iter()
        .map(|c| match c {
            Col::Field(f) => f.kind,
            Col::CreatedAt => Kind::DateTime,
            Col::Id => Kind::Integer {
                min: 1,
                max: i64::MAX,
            },
            Col::Skip => Kind::Text,
        })
        .collect();
    let mut rejects = match &o.rejects {
        Some(p) => {
            let file = AtomicFile::create(p, o.force)?;
            Some(if format == InFormat::Csv {
                Rejects::csv(file, &input, o.delimiter, &rec, kinds, raw_cells)?
            } else {
                Rejects::json(file, &input, format == InFormat::Json)?
            })
        }
        None => None,
    };
    let progress = super::import_progress::Bar::new(ctx, len);
    let json_out = ctx.out.format == crate::output::Format::Json;
    let db = ctx.db()?;
    crate::db::bulk::tune(&db.store)?;
    let tx = db.write()?;
    let file_name = o.path.clone();
    let deferred = if o.dry_run {
        crate::db::bulk::Deferred::default()
    } else {
        crate::db::bulk::defer_indexes(&tx, o.entity, len)?
    };
    let mut bulk = Bulk::begin(
        &tx,
        o.entity,
        o.mode,
        o.key,
        user,
        &file_name,
        enc.name(),
        o.keep_times,
        row_by_row(o),
    )?;
    bulk.matching(o.dedupe)?;
    let mut rows: i64 = 0;
    let mut shown: Vec<String> = Vec::new();
    let mut errors = super::import_summary::RowErrors::new(json_out);
    let mut waiting: std::collections::VecDeque<Waiting> = std::collections::VecDeque::new();
    // Parsing runs on a second thread, feeding the writer through a bounded channel: the two
    // halves overlap on two cores and memory stays flat whatever the file's size. Deep
    // enough to hold more than one of PostgreSQL's chunks (8192 rows), so the reader keeps
    // parsing while the server writes one and the next is there at once.
    let (send, recv) = std::sync::mpsc::sync_channel::<Result<Option<Vec<Parsed>>>>(48);
    let indexed: Vec<(Col, usize)> = cols
        .iter()
        .map(|c| match c {
            Col::Field(f) => (
                *c,
                o.entity
                    .fields
                    .iter()
                    .position(|g| std::ptr::eq(g, *f))
                    .expect("an entity field"),
            ),
            _ => (*c, 0),
        })
        .collect();
    let late_ignored = Arc::new(std::sync::Mutex::new(Vec::new()));
    if let Some(rdr) = rdr {
        let rc = ReadCtx {
            limit: limit.clone(),
            per_record,
            e: o.entity,
            cols: indexed,
            heads: heads.clone(),
            dates: o.dates.clone(),
            region: o.region,
            keep: rejects.is_some(),
            lines: input.lines.clone(),
        };
        std::thread::spawn(move || read_rows(rdr, &rc, &send));
    } else if let Some((first, recs)) = json {
        let jc = super::import_json::JsonCtx {
            e: o.entity,
            maps: o.maps.clone(),
            ignore_unknown: o.ignore_unknown,
            key_is_id,
            dates: o.dates.clone(),
            region: o.region,
            keep_times: o.keep_times,
            keep: rejects.is_some(),
            known: heads.iter().cloned().zip(cols.iter().copied()).collect(),
            ignored: late_ignored.clone(),
        };
        std::thread::spawn(move || super::import_json::read(first, recs, jc, &send));
    }
    // A refused row: shown (the first few), in the summary's errors, in the rejects file.
    let mut report = |why: Refusal| -> Result<()> {
        if shown.len() < SHOWN {
            shown.push(match why.index {
                Some(i) => format!("  index {i} (line {}): {}", why.line, why.reason),
                None => format!("  line {}: {}", why.line, why.reason),
            });
        }
        errors.push(o.entity, &heads, &cols, why.line, why.index, &why.reason);
        if let (Some(w), Some(r)) = (rejects.as_mut(), why.rec) {
            w.write(&r, &why.reason)?;
        }
        Ok(())
    };
    loop {
        // A timed wait, so a signal is seen even while the reader waits for a slow pipe.
        let chunk = match recv.recv_timeout(std::time::Duration::from_millis(100)) {
            Ok(chunk) => chunk,
            Err(RecvTimeoutError::Timeout) => {
                stop_on_signal(&int, &term)?;
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Error::internal(
                    "the file reader stopped unexpectedly; nothing was written",
                ));
            }
        };
        let Some(chunk) = chunk? else { break };
        for p in chunk {
            stop_on_signal(&int, &term)?;
            rows += 1;
            let meta = Waiting {
                line: p.line,
                index: p.index,
                rec: p.rec,
                why: None,
            };
            let decided = match p.cells {
                Ok(given) => {
                    waiting.push_back(meta);
                    bulk.push(given)?
                }
                Err(why) => {
                    waiting.push_back(Waiting {
                        why: Some(why),
                        ..meta
                    });
                    Vec::new()
                }
            };
            for why in pair_outcomes(&mut waiting, decided) {
                bulk.counts.rejected += 1;
                report(why)?;
            }
            if rows % 4096 == 0 {
                progress.tick(rows, raw.load(Ordering::Relaxed));
            }
        }
    }
    // The rows an engine still held (PostgreSQL decides them a chunk at a time).
    let decided = bulk.flush()?;
    for why in pair_outcomes(&mut waiting, decided) {
        bulk.counts.rejected += 1;
        report(why)?;
    }
    progress.finish();
    let counts = bulk.counts;
    let write = !o.dry_run && (counts.rejected == 0 || o.skip);
    let batch = if write && rows > 0 {
        let b = bulk.finish(rows, &file_name)?;
        crate::db::bulk::rebuild(&tx, deferred)?;
        tx.commit()?;
        Some(b)
    } else {
        drop(bulk);
        tx.rollback()?;
        None
    };
    if batch.is_some() && rows > LARGE {
        // A large import leaves a large WAL; fold it back so the -wal file shrinks again.
        crate::db::bulk::checkpoint(&db.store);
    }
    if let Some(w) = rejects {
        w.commit()?;
    }
    let mut ignored = ignored;
    ignored.extend(
        late_ignored
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .drain(..),
    );
    let summary = super::import_summary::Summary {
        o,
        enc: enc.name(),
        how: input.how,
        rows,
        counts,
        batch,
        ignored,
        secs: started.elapsed().as_secs_f64(),
        errors,
    };
    summary.print(ctx, &shown)
}

/// A row read and not yet reported: its place in the file, its raw record for the rejects
/// file, and why it was refused if it never reached the store (a bad cell).
struct Waiting {
    line: u64,
    index: Option<u64>,
    rec: Option<csv::ByteRecord>,
    why: Option<String>,
}

/// A refused row, to report.
struct Refusal {
    line: u64,
    index: Option<u64>,
    rec: Option<csv::ByteRecord>,
    reason: String,
}

/// Pairs the store's outcomes (in file order) with the rows waiting for them, and returns
/// the refused rows in file order, those refused before reaching the store among them.
fn pair_outcomes(
    waiting: &mut std::collections::VecDeque<Waiting>,
    decided: Vec<crate::db::bulk::RowOutcome>,
) -> Vec<Refusal> {
    let mut out = Vec::new();
    let mut decided = decided.into_iter();
    while let Some(front) = waiting.front() {
        let reason = if front.why.is_some() {
            None
        } else {
            match decided.next() {
                Some(Ok(_)) => {
                    waiting.pop_front();
                    continue;
                }
                Some(Err(why)) => Some(why),
                None => break,
            }
        };
        let w = waiting.pop_front().expect("a front row");
        out.push(Refusal {
            line: w.line,
            index: w.index,
            rec: w.rec,
            reason: reason.or(w.why).unwrap_or_default(),
        });
    }
    out
}

/// Whether `PostgreSQL` must take the rows one by one through the writer: `--dedupe` or a
/// `--key` matched normalised, which the set-based path does not judge. (Every unique field
/// it judges: a customer's `credit_code` column once sent a million-row file row by row.)
fn row_by_row(o: &Opts) -> bool {
    o.dedupe || matches!(o.key, Some(Key::Field(f)) if !f.unique)
}
