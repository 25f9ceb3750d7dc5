//! A writer that counts and hashes what passes through it.

use std::io::{self, Write};

use sha2::{Digest, Sha256};

/// Counts bytes and computes their SHA-256 on the way to `inner`.
#[derive(Debug)]
pub(crate) struct HashWriter<W> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> HashWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        HashWriter {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    /// Byte count, lowercase hex SHA-256, and the inner writer.
    pub(crate) fn finish(self) -> (u64, String, W) {
        (self.count, hex::encode(self.hasher.finalize()), self.inner)
    }
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Lowercase hex SHA-256 of `data`.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}
