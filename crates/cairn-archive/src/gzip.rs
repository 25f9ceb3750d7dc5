//! Deterministic gzip.

use std::io::{self, Write};
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::{Compression, GzBuilder};

use crate::hashing::HashWriter;
use crate::{ArchiveError, TarOptions, TarSummary, write_tar};

/// Operating-system byte in the gzip header: 3 (Unix), whatever machine wrote the file.
const GZIP_OS_UNIX: u8 = 3;

/// A gzip stream whose bytes depend only on its input and level: header mtime 0, no file name,
/// no comment, OS byte 3. The compressor is the workspace's pinned `flate2`/`zlib-rs`, so the
/// output is stable for a given `Cargo.lock`.
#[derive(Debug)]
pub struct GzipWriter<W: Write> {
    inner: GzEncoder<W>,
}

impl<W: Write> GzipWriter<W> {
    /// `level` is 0 (store) to 9 (best); larger values are treated as 9.
    pub fn new(out: W, level: u32) -> Self {
        let inner = GzBuilder::new()
            .mtime(0)
            .operating_system(GZIP_OS_UNIX)
            .write(out, Compression::new(level.min(9)));
        GzipWriter { inner }
    }

    /// Writes the gzip trailer and returns the inner writer.
    pub fn finish(self) -> io::Result<W> {
        self.inner.finish()
    }
}

impl<W: Write> Write for GzipWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// What [`write_tar_gz`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TarGzSummary {
    /// The uncompressed tar (its `sha256` is an OCI `diff_id`).
    pub tar: TarSummary,
    /// Length of the gzip stream.
    pub compressed_bytes: u64,
    /// SHA-256 of the gzip stream, lowercase hex.
    pub compressed_sha256: String,
}

/// [`write_tar`] through [`GzipWriter`].
pub fn write_tar_gz(
    root: &Path,
    out: &mut dyn Write,
    opts: &TarOptions,
    level: u32,
) -> Result<TarGzSummary, ArchiveError> {
    let mut hashed = HashWriter::new(out);
    let mut gz = GzipWriter::new(&mut hashed, level);
    let tar = write_tar(root, &mut gz, opts)?;
    gz.finish().map_err(ArchiveError::output("gzip stream"))?;
    let (compressed_bytes, compressed_sha256, out) = hashed.finish();
    out.flush().map_err(ArchiveError::output("gzip stream"))?;
    Ok(TarGzSummary {
        tar,
        compressed_bytes,
        compressed_sha256,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_has_no_time_or_name() {
        let mut gz = GzipWriter::new(Vec::new(), 9);
        gz.write_all(b"hello").unwrap();
        let bytes = gz.finish().unwrap();
        assert_eq!(&bytes[..4], &[0x1f, 0x8b, 8, 0], "no FNAME/FCOMMENT flags");
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0], "mtime 0");
        assert_eq!(bytes[9], GZIP_OS_UNIX);
    }
}
