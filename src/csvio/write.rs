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
