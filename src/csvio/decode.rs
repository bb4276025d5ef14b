//! Opening an import file: the encoding chosen once (BOM, then strict UTF-8, then GB18030,
//! because Chinese Excel saves CSV as GBK without a BOM), a streaming transcoder that fails
//! on bad bytes instead of replacing them, and guards that bound memory per record.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use encoding_rs::{DecoderResult, Encoding};

use crate::error::{Error, Result};

/// How much of the file is read to choose the encoding.
const SNIFF: usize = 1 << 20;

/// The encoding an import file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enc {
    Utf8,
    Gb18030,
    Utf16Le,
    Utf16Be,
}

impl Enc {
    pub fn name(self) -> &'static str {
        match self {
            Enc::Utf8 => "UTF-8",
            Enc::Gb18030 => "GB18030",
            Enc::Utf16Le => "UTF-16LE",
            Enc::Utf16Be => "UTF-16BE",
        }
    }
    fn encoding(self) -> &'static Encoding {
        match self {
            Enc::Utf8 => encoding_rs::UTF_8,
            Enc::Gb18030 => encoding_rs::GB18030,
            Enc::Utf16Le => encoding_rs::UTF_16LE,
            Enc::Utf16Be => encoding_rs::UTF_16BE,
        }
    }
}

/// An opened input: UTF-8 bytes to parse, what it was decoded from, and counters.
pub struct Input {
    pub reader: Box<dyn Read + Send>,
    pub encoding: Enc,
    /// How the encoding was chosen: "byte order mark", "detected", "--encoding".
    pub how: &'static str,
    /// Size of the file in bytes, when known (for the progress bar).
    pub len: Option<u64>,
    /// Raw bytes read so far.
    pub raw: Arc<AtomicU64>,
    /// The decoded-stream offset past which the current record is too large.
    pub limit: Arc<AtomicU64>,
    /// Physical line numbers of the decoded stream, for messages.
    pub lines: Lines,
    /// Whether the file started with a byte order mark (the rejects file gets one too).
    pub bom: bool,
    /// Whether the file's lines end in CRLF (the rejects file's do too).
    pub crlf: bool,
}

/// Where the line breaks of a decoded stream are, so that a byte offset (where a record
/// starts) maps to the line an editor shows: CRLF, LF and a lone CR each end one line,
/// whether between records or inside a quoted field. The reader records breaks as bytes pass
/// through; lookups go forward only and drop what they passed, so memory stays small.
#[derive(Clone, Default)]
pub struct Lines(Arc<Mutex<LineMap>>);

#[derive(Default)]
struct LineMap {
    /// Offsets just past each line break not yet looked past.
    breaks: VecDeque<u64>,
    /// Breaks already dropped from the front.
    passed: u64,
    /// Bytes fed so far.
    fed: u64,
    last_cr: bool,
}

impl Lines {
    /// Records the breaks in the next bytes of the stream.
    pub fn feed(&self, buf: &[u8]) {
        let mut m = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let start = m.fed;
        for (i, &b) in buf.iter().enumerate() {
            let after = start + i as u64 + 1;
            match b {
                // The LF of a CRLF: the CR already counted the break. (It counts from just
                // past the CR because the CSV reader places a record after CRLF at the LF.)
                b'\n' if m.last_cr => m.last_cr = false,
                b'\n' => m.breaks.push_back(after),
                b'\r' => {
                    m.breaks.push_back(after);
                    m.last_cr = true;
                }
                _ => m.last_cr = false,
            }
        }
        m.fed += buf.len() as u64;
    }

    /// The 1-based line of a byte offset; offsets must not go backwards between calls.
    pub fn line_at(&self, offset: u64) -> u64 {
        let mut m = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while m.breaks.front().is_some_and(|&b| b <= offset) {
            m.breaks.pop_front();
            m.passed += 1;
        }
        m.passed + 1
    }
}

/// Whether the first line of a sample ends in CRLF (UTF-16 samples in their own code units).
fn first_line_crlf(head: &[u8], enc: Enc) -> bool {
    let (cr, lf): (&[u8], &[u8]) = match enc {
        Enc::Utf16Le => (b"\r\0", b"\n\0"),
        Enc::Utf16Be => (b"\0\r", b"\0\n"),
        _ => (b"\r", b"\n"),
    };
    let unit = lf.len();
    let at = head
        .chunks_exact(unit)
        .position(|c| c == lf || c == cr)
        .map(|i| i * unit);
    at.is_some_and(|i| head[i..].starts_with(cr) && head[i + unit..].starts_with(lf))
}

/// Opens a file (or `-` for stdin) and settles its encoding: `auto`, `utf-8` or `gb18030`.
pub fn open(path: &str, choice: &str) -> Result<Input> {
    let (mut src, len): (Box<dyn Read + Send>, Option<u64>) = if path == "-" {
        (Box::new(io::stdin()), None)
    } else {
        check_input(path)?;
        let f = std::fs::File::open(path).map_err(|e| cannot_read(path, e))?;
        let len = f.metadata().ok().map(|m| m.len());
        (Box::new(f), len)
    };
    let raw = Arc::new(AtomicU64::new(0));
    let mut head = Vec::new();
    (&mut src)
        .take(SNIFF as u64)
        .read_to_end(&mut head)
        .map_err(|e| cannot_read(path, e))?;
    raw.store(head.len() as u64, Ordering::Relaxed);
    let full = head.len() < SNIFF;
    let boms: [(&[u8], Enc); 4] = [
        (b"\xEF\xBB\xBF", Enc::Utf8),
        (b"\xFF\xFE", Enc::Utf16Le),
        (b"\xFE\xFF", Enc::Utf16Be),
        (b"\x84\x31\x95\x33", Enc::Gb18030),
    ];
    let (enc, skip, how) = if let Some((b, e)) = boms.iter().find(|(b, _)| head.starts_with(b)) {
        (*e, b.len(), "byte order mark")
    } else {
        match choice {
            "utf-8" | "utf8" => (Enc::Utf8, 0, "--encoding"),
            "gb18030" | "gbk" | "gb2312" => (Enc::Gb18030, 0, "--encoding"),
            _ => (sniff(&head, full), 0, "detected"),
        }
    };
    let crlf = first_line_crlf(&head[skip..], enc);
    head.drain(..skip);
    let chained = io::Cursor::new(head).chain(Counting {
        inner: src,
        n: raw.clone(),
    });
    let decoded: Box<dyn Read + Send> = if enc == Enc::Utf8 {
        Box::new(chained)
    } else {
        Box::new(Transcode::new(chained, enc))
    };
    let limit = Arc::new(AtomicU64::new(u64::MAX));
    let lines = Lines::default();
    let reader = Box::new(Guard {
        inner: decoded,
        at: 0,
        limit: limit.clone(),
        lines: lines.clone(),
    });
    Ok(Input {
        reader,
        encoding: enc,
        how,
        len,
        raw,
        limit,
        lines,
        bom: skip > 0,
        crlf,
    })
}

/// Checks an input file before any work (it exists, it is not a directory) and protects it
/// from every write target (`crate::outfile`); `-` is stdin.
pub fn check_input(path: &str) -> Result<()> {
    crate::outfile::protect_input(std::path::Path::new(path));
    if path == "-" {
        return Ok(());
    }
    let meta = std::fs::metadata(path).map_err(|e| cannot_read(path, e))?;
    if meta.is_dir() {
        return Err(Error::usage(format!(
            "cannot read {path}: it is a directory"
        )));
    }
    Ok(())
}

/// An I/O failure on an input file, naming the file in the one error line (a missing file is
/// exit 3).
fn cannot_read(path: &str, e: io::Error) -> Error {
    let base = Error::from(e);
    Error::new(base.kind, format!("cannot read {path}: {}", base.message))
}

/// Strict UTF-8 when the sample is valid (or clearly UTF-8 text with a bad byte, which the
/// row then reports); else GB18030 when the sample decodes cleanly in it.
fn sniff(head: &[u8], full: bool) -> Enc {
    match std::str::from_utf8(head) {
        Ok(_) => Enc::Utf8,
        Err(e) if e.error_len().is_none() && !full => Enc::Utf8,
        Err(e) => {
            let prefix = std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or("");
            if prefix.chars().filter(|c| c.len_utf8() > 1).count() >= 3 {
                return Enc::Utf8;
            }
            let mut dec = encoding_rs::GB18030.new_decoder_without_bom_handling();
            let mut out = vec![0; head.len() * 3 + 16];
            let (res, read, _) = dec.decode_to_utf8_without_replacement(head, &mut out, full);
            match res {
                // Neither decodes the whole sample: take the one that gets further, so the
                // error names the right line and encoding.
                DecoderResult::Malformed(bad, extra) => {
                    let gb_ok = read.saturating_sub(usize::from(bad) + usize::from(extra));
                    if gb_ok > e.valid_up_to() {
                        Enc::Gb18030
                    } else {
                        Enc::Utf8
                    }
                }
                _ => Enc::Gb18030,
            }
        }
    }
}

/// Counts raw bytes read past the sniffed head (which was counted when read).
struct Counting<R> {
    inner: R,
    n: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.fetch_add(k as u64, Ordering::Relaxed);
        Ok(k)
    }
}

/// Decodes a legacy encoding to UTF-8 as a stream, failing on malformed bytes with the line.
struct Transcode<R> {
    inner: R,
    dec: encoding_rs::Decoder,
    enc: Enc,
    input: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    out: Vec<u8>,
    out_pos: usize,
    lines: u64,
    last_cr: bool,
}

impl<R: Read> Transcode<R> {
    fn new(inner: R, enc: Enc) -> Self {
        Transcode {
            inner,
            dec: enc.encoding().new_decoder_without_bom_handling(),
            enc,
            input: vec![0; 64 * 1024],
            start: 0,
            end: 0,
            eof: false,
            out: Vec::with_capacity(256 * 1024),
            out_pos: 0,
            lines: 1,
            last_cr: false,
        }
    }
}

impl<R: Read> Read for Transcode<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_pos < self.out.len() {
                let n = buf.len().min(self.out.len() - self.out_pos);
                buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
                self.out_pos += n;
                return Ok(n);
            }
            if self.eof && self.start == self.end {
                return Ok(0);
            }
            if self.start == self.end && !self.eof {
                self.start = 0;
                self.end = self.inner.read(&mut self.input)?;
                self.eof = self.end == 0;
            }
            self.out.resize(256 * 1024, 0);
            let (res, read, written) = self.dec.decode_to_utf8_without_replacement(
                &self.input[self.start..self.end],
                &mut self.out,
                self.eof,
            );
            self.start += read;
            self.out.truncate(written);
            self.out_pos = 0;
            if let DecoderResult::Malformed(..) = res {
                let line = self.lines + count_breaks(&self.out, &mut self.last_cr);
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "line {line}: bytes that are not valid {} (nothing was replaced)",
                        self.enc.name()
                    ),
                ));
            }
            self.lines += count_breaks(&self.out, &mut self.last_cr);
            if self.eof && self.start == self.end && self.out.is_empty() {
                return Ok(0);
            }
        }
    }
}

/// Line breaks in some bytes, counted as `Lines` counts them (CRLF once, CR or LF alone once).
fn count_breaks(b: &[u8], last_cr: &mut bool) -> u64 {
    let mut n = 0;
    for &c in b {
        match c {
            b'\n' if *last_cr => *last_cr = false,
            b'\n' => n += 1,
            b'\r' => {
                n += 1;
                *last_cr = true;
            }
            _ => *last_cr = false,
        }
    }
    n
}

/// Stops a record that grows past its limit (a huge field, an unbalanced quote, a 2 GB file
/// without a newline) before it is held in memory.
struct Guard {
    inner: Box<dyn Read + Send>,
    at: u64,
    limit: Arc<AtomicU64>,
    lines: Lines,
}

impl Read for Guard {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at > self.limit.load(Ordering::Relaxed) {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                "record too large",
            ));
        }
        let n = self.inner.read(buf)?;
        self.at += n as u64;
        self.lines.feed(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_gb18030_and_utf8() {
        let (gbk, _, _) = encoding_rs::GB18030.encode("客户名称,城市\n深圳科技,深圳\n");
        assert_eq!(sniff(&gbk, true), Enc::Gb18030);
        assert_eq!(sniff("客户名称,城市\n".as_bytes(), true), Enc::Utf8);
        let mut bad = "客户名称,城市,深圳\n".as_bytes().to_vec();
        bad.push(0xFF);
        assert_eq!(sniff(&bad, true), Enc::Utf8);
        let mut gb = encoding_rs::GB18030
            .encode("name,city\n甲公司,深圳\n")
            .0
            .into_owned();
        gb.extend_from_slice(b"\x81\x20bad\n");
        assert_eq!(sniff(&gb, true), Enc::Gb18030);
    }

    #[test]
    fn physical_lines() {
        let l = Lines::default();
        // header CRLF, a quoted field with CRLF inside, a lone CR, then LF.
        let text = b"a,b\r\n1,\"x\r\ny\"\r\n2,z\r3,w\n4,v";
        for part in text.chunks(3) {
            l.feed(part);
        }
        let at = |s: &[u8]| text.windows(s.len()).position(|w| w == s).expect("present") as u64;
        assert_eq!(l.line_at(0), 1);
        assert_eq!(l.line_at(at(b"1,")), 2);
        assert_eq!(l.line_at(at(b"2,")), 4);
        assert_eq!(l.line_at(at(b"3,")), 5);
        assert_eq!(l.line_at(at(b"4,")), 6);
        assert!(first_line_crlf(b"a,b\r\nc", Enc::Utf8));
        assert!(!first_line_crlf(b"a,b\nc\r\n", Enc::Utf8));
        assert!(first_line_crlf(b"a\0\r\0\n\0", Enc::Utf16Le));
    }

    #[test]
    fn transcode_fails_with_line() {
        let mut data = encoding_rs::GB18030.encode("a\nb\n").0.into_owned();
        data.extend_from_slice(b"\x81\n");
        let mut t = Transcode::new(io::Cursor::new(data), Enc::Gb18030);
        let mut s = Vec::new();
        let err = t.read_to_end(&mut s).expect_err("malformed");
        assert!(err.to_string().contains("line 3"), "{err}");
    }
}
