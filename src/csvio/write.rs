//! Where exports and rejects files go: a temp file renamed into place only when complete
//! (a failed export never leaves a truncated file), stdout, and a GB18030 encoder (never
//! GBK, which cannot hold every character and would turn 😀 into `&#128512;`).

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::outfile::{self, Dest, Target};

/// A file written under a temporary name in the same directory, renamed when committed,
/// removed when dropped uncommitted; or stdout for `-`. Created 0600: exports hold personal
/// data. The target is checked by `crate::outfile` (the overwrite rule) when created and
/// again when committed.
pub struct AtomicFile {
    tmp: PathBuf,
    dest: Option<Dest>,
    file: Option<BufWriter<Box<dyn Write>>>,
}

impl AtomicFile {
    /// Checks the target and creates the temp file; an existing file needs `force`.
    pub fn create(dest: &Path, force: bool) -> Result<AtomicFile> {
        use std::os::unix::fs::OpenOptionsExt;
        let dest = match outfile::check(dest, force)? {
            Target::Stdout => {
                return Ok(AtomicFile {
                    tmp: PathBuf::new(),
                    dest: None,
                    file: Some(BufWriter::with_capacity(1 << 18, Box::new(io::stdout()))),
                });
            }
            Target::File(d) => d,
        };
        let name = dest
            .path
            .file_name()
            .expect("a checked target has a file name");
        let tmp = dest.path.with_file_name(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        // A stale temp file of an earlier process with this id: never write through it.
        let _ = std::fs::remove_file(&tmp);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| outfile::cannot_write(&dest.arg, &e))?;
        Ok(AtomicFile {
            tmp,
            dest: Some(dest),
            file: Some(BufWriter::with_capacity(1 << 18, Box::new(file))),
        })
    }

    /// Flushes and syncs the temp file and gives it the destination's name.
    pub fn commit(mut self) -> Result<()> {
        let mut w = self.file.take().expect("committed once");
        let Some(dest) = self.dest.take() else {
            return Ok(w.flush()?);
        };
        w.flush()
            .map_err(|e| outfile::cannot_write(&dest.arg, &e))?;
        drop(w);
        let placed = std::fs::File::open(&self.tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| outfile::cannot_write(&dest.arg, &e))
            .and_then(|()| outfile::place(&self.tmp, &dest));
        if placed.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        placed
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.as_mut().expect("open until committed").write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().expect("open until committed").flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() && self.dest.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Encodes the UTF-8 written to it as GB18030, keeping a character split across writes.
pub struct Gb18030<W: Write> {
    inner: W,
    enc: encoding_rs::Encoder,
    pending: Vec<u8>,
    out: Vec<u8>,
}

impl<W: Write> Gb18030<W> {
    pub fn new(inner: W) -> Self {
        Gb18030 {
            inner,
            enc: encoding_rs::GB18030.new_encoder(),
            pending: Vec::new(),
            out: Vec::new(),
        }
    }
    pub fn into_inner(mut self) -> io::Result<W> {
        self.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for Gb18030<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "not UTF-8"));
            }
        };
        let text = std::str::from_utf8(&self.pending[..valid]).expect("checked above");
        self.out.clear();
        self.out.reserve(
            self.enc
                .max_buffer_length_from_utf8_without_replacement(text.len())
                .unwrap_or(text.len() * 4),
        );
        let (res, read) =
            self.enc
                .encode_from_utf8_to_vec_without_replacement(text, &mut self.out, false);
        if let encoding_rs::EncoderResult::Unmappable(c) = res {
            // GB18030 maps every scalar value; this cannot happen, but never write a
            // replacement silently.
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("'{c}' cannot be written in GB18030"),
            ));
        }
        debug_assert_eq!(read, valid);
        self.inner.write_all(&self.out)?;
        self.pending.drain(..valid);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Encodes the UTF-8 written to it as UTF-16 (little or big endian), keeping a character
/// split across writes.
pub struct Utf16<W: Write> {
    inner: W,
    big: bool,
    pending: Vec<u8>,
}

impl<W: Write> Write for Utf16<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => return Err(io::Error::new(io::ErrorKind::InvalidData, "not UTF-8")),
        };
        let text = std::str::from_utf8(&self.pending[..valid]).expect("checked above");
        let mut out = Vec::with_capacity(text.len() * 2);
        for u in text.encode_utf16() {
            out.extend_from_slice(&if self.big {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            });
        }
        self.inner.write_all(&out)?;
        self.pending.drain(..valid);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A file crm writes in the encoding of the file it read (the rejects file of an import):
/// UTF-8, GB18030 or UTF-16, with the byte order mark the input had.
pub enum Encoded {
    Utf8(AtomicFile),
    Gb18030(Gb18030<AtomicFile>),
    Utf16(Utf16<AtomicFile>),
}

impl Encoded {
    /// Wraps a file; `bom` writes the encoding's byte order mark first (UTF-16 always has one).
    pub fn new(mut file: AtomicFile, enc: super::decode::Enc, bom: bool) -> Result<Encoded> {
        use super::decode::Enc;
        let mark: &[u8] = match enc {
            Enc::Utf8 => b"\xEF\xBB\xBF",
            Enc::Gb18030 => b"\x84\x31\x95\x33",
            Enc::Utf16Le => b"\xFF\xFE",
            Enc::Utf16Be => b"\xFE\xFF",
        };
        if bom || matches!(enc, Enc::Utf16Le | Enc::Utf16Be) {
            file.write_all(mark)?;
        }
        Ok(match enc {
            Enc::Utf8 => Encoded::Utf8(file),
            Enc::Gb18030 => Encoded::Gb18030(Gb18030::new(file)),
            Enc::Utf16Le | Enc::Utf16Be => Encoded::Utf16(Utf16 {
                inner: file,
                big: enc == Enc::Utf16Be,
                pending: Vec::new(),
            }),
        })
    }

    /// Flushes the encoder and renames the file into place.
    pub fn commit(self) -> Result<()> {
        match self {
            Encoded::Utf8(f) => f.commit(),
            Encoded::Gb18030(g) => g.into_inner()?.commit(),
            Encoded::Utf16(mut u) => {
                u.flush()?;
                u.inner.commit()
            }
        }
    }
}

impl Write for Encoded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoded::Utf8(f) => f.write(buf),
            Encoded::Gb18030(g) => g.write(buf),
            Encoded::Utf16(u) => u.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoded::Utf8(f) => f.flush(),
            Encoded::Gb18030(g) => g.flush(),
            Encoded::Utf16(u) => u.flush(),
        }
    }
}

/// Whether an error is a closed pipe, which export treats as success (`| head`).
pub fn is_broken_pipe(e: &Error) -> bool {
    e.message.contains("Broken pipe") || e.message.contains("os error 32")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gb18030_split_writes_and_emoji() {
        let text = "客户,😀,𠀀\n";
        let mut w = Gb18030::new(Vec::new());
        for b in text.as_bytes().chunks(1) {
            w.write_all(b).expect("write");
        }
        let bytes = w.into_inner().expect("flush");
        let (back, _, bad) = encoding_rs::GB18030.decode(&bytes);
        assert!(!bad);
        assert_eq!(back, text);
        assert!(!String::from_utf8_lossy(&bytes).contains("&#"));
    }

    #[test]
    fn encoded_files_keep_the_input_encoding() {
        use crate::csvio::decode::Enc;
        let dir = tempfile::tempdir().expect("dir");
        for (enc, bom, want) in [
            (Enc::Utf8, true, b"\xEF\xBB\xBF\xE5\xAE\xA2".to_vec()),
            (Enc::Gb18030, false, b"\xBF\xCD".to_vec()),
            (Enc::Utf16Le, false, b"\xFF\xFE\xA2\x5B".to_vec()),
        ] {
            let dest = dir.path().join(format!("{}.csv", enc.name()));
            let mut f = Encoded::new(AtomicFile::create(&dest, false).expect("create"), enc, bom)
                .expect("bom");
            for b in "客".as_bytes() {
                f.write_all(&[*b]).expect("write");
            }
            f.commit().expect("commit");
            assert_eq!(std::fs::read(&dest).expect("read"), want, "{}", enc.name());
        }
    }

    #[test]
    fn atomic_file_leaves_nothing_when_dropped() {
        let dir = tempfile::tempdir().expect("dir");
        let dest = dir.path().join("out.csv");
        {
            let mut f = AtomicFile::create(&dest, false).expect("create");
            f.write_all(b"half").expect("write");
        }
        assert!(!dest.exists());
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 0);
        let mut f = AtomicFile::create(&dest, false).expect("create");
        f.write_all(b"all").expect("write");
        f.commit().expect("commit");
        assert_eq!(std::fs::read(&dest).expect("read"), b"all");
        assert!(AtomicFile::create(&dest, false).is_err());
    }
}
