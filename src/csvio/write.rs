//! Where exports and rejects files go: a temp file renamed into place only when complete
//! (a failed export never leaves a truncated file), stdout, and a GB18030 encoder (never
//! GBK, which cannot hold every character and would turn 😀 into `&#128512;`).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A file written under a temporary name in the same directory, renamed when committed,
/// removed when dropped uncommitted. Created 0600: exports hold personal data.
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    file: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Creates the temp file; refuses to replace an existing file unless `force`.
    pub fn create(dest: &Path, force: bool) -> Result<AtomicFile> {
        use std::os::unix::fs::OpenOptionsExt;
        if !force && dest.exists() {
            return Err(
                Error::conflict(format!("{} already exists", dest.display()))
                    .hint("pass --force to replace it"),
            );
        }
        let name = dest
            .file_name()
            .ok_or_else(|| Error::usage(format!("{} is not a file name", dest.display())))?;
        let tmp = dest.with_file_name(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| {
                // The one error line names the file the user asked for, not just the OS error.
                let e = Error::from(e);
                Error::new(
                    e.kind,
                    format!("cannot write {}: {}", dest.display(), e.message),
                )
                .hint("the directory must exist and be writable")
            })?;
        Ok(AtomicFile {
            tmp,
            dest: dest.to_path_buf(),
            file: Some(BufWriter::with_capacity(1 << 18, file)),
        })
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(mut self) -> Result<()> {
        let w = self.file.take().expect("committed once");
        let f = w.into_inner().map_err(|e| Error::from(e.into_error()))?;
        f.sync_all()?;
        std::fs::rename(&self.tmp, &self.dest)?;
        Ok(())
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
        if self.file.take().is_some() {
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
