//! Opening an import file: the encoding chosen once (BOM, then strict UTF-8, then GB18030,
//! because Chinese Excel saves CSV as GBK without a BOM), a streaming transcoder that fails
//! on bad bytes instead of replacing them, and guards that bound memory per record.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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
    let reader = Box::new(Guard {
        inner: decoded,
        at: 0,
        limit: limit.clone(),
    });
    Ok(Input {
        reader,
        encoding: enc,
        how,
        len,
        raw,
        limit,
    })
}

/// Checks an input file before any work (it exists, it is not a directory) and protects it
/// from every write target (`crate::outfile`); `-` is stdin.
pub fn check_input(path: &str) -> Result<()> {
    if path == "-" {
        return Ok(());
    }
    crate::outfile::protect_input(std::path::Path::new(path));
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
                let line = self.lines + bytecount(&self.out);
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "line {line}: bytes that are not valid {} (nothing was replaced)",
                        self.enc.name()
                    ),
                ));
            }
            self.lines += bytecount(&self.out);
            if self.eof && self.start == self.end && self.out.is_empty() {
                return Ok(0);
            }
        }
    }
}

fn bytecount(b: &[u8]) -> u64 {
    // Lines are counted only to name one in an error; speed does not matter here.
    #[allow(clippy::naive_bytecount)]
    let n = b.iter().filter(|&&c| c == b'\n').count();
    n as u64
}

/// Stops a record that grows past its limit (a huge field, an unbalanced quote, a 2 GB file
/// without a newline) before it is held in memory.
struct Guard {
    inner: Box<dyn Read + Send>,
    at: u64,
    limit: Arc<AtomicU64>,
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
    fn transcode_fails_with_line() {
        let mut data = encoding_rs::GB18030.encode("a\nb\n").0.into_owned();
        data.extend_from_slice(b"\x81\n");
        let mut t = Transcode::new(io::Cursor::new(data), Enc::Gb18030);
        let mut s = Vec::new();
        let err = t.read_to_end(&mut s).expect_err("malformed");
        assert!(err.to_string().contains("line 3"), "{err}");
    }
}
