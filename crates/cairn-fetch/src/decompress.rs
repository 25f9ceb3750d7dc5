//! Transparent decompression of downloaded files, by magic bytes.

use crate::FetchError;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// A compression format recognised by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    None,
    Gzip,
    Xz,
    Zstd,
    /// Recognised so the error can say so; not supported.
    Bzip2,
}

impl Compression {
    /// Detect the format from the first bytes of a file (6 are enough).
    pub fn detect(magic: &[u8]) -> Compression {
        if magic.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Compression::Xz
        } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else if magic.starts_with(b"BZh") {
            Compression::Bzip2
        } else {
            Compression::None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Open a file, transparently decompressing gzip, xz or zstd detected by magic bytes
/// (plain otherwise). Read errors name the file and the format ("truncated xz stream in …").
pub fn open_decompressed(path: &Path) -> Result<Box<dyn Read + Send>, FetchError> {
    let file = fs_err::File::open(path)?;
    let mut buf = BufReader::with_capacity(64 * 1024, file);
    let magic = buf.fill_buf()?;
    let format = Compression::detect(magic);
    let inner: Box<dyn Read + Send> = match format {
        Compression::None => return Ok(Box::new(buf)),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buf)),
        Compression::Xz => Box::new(xz2::bufread::XzDecoder::new_multi_decoder(buf)),
        Compression::Zstd => {
            Box::new(zstd::stream::read::Decoder::with_buffer(buf).map_err(|e| {
                FetchError::Decompress {
                    path: path.to_owned(),
                    format: format.as_str(),
                    reason: e.to_string(),
                }
            })?)
        }
        Compression::Bzip2 => {
            return Err(FetchError::Decompress {
                path: path.to_owned(),
                format: format.as_str(),
                reason: "bzip2 is not supported; use the gz, xz or zstd variant of this file"
                    .to_owned(),
            });
        }
    };
    Ok(Box::new(Decoding {
        inner,
        path: path.to_owned(),
        format,
    }))
}

/// Gives decoder errors the file name and format they lack.
struct Decoding {
    inner: Box<dyn Read + Send>,
    path: PathBuf,
    format: Compression,
}

impl Read for Decoding {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            let msg = if e.kind() == io::ErrorKind::UnexpectedEof {
                format!(
                    "truncated {} stream in {}",
                    self.format,
                    self.path.display()
                )
            } else {
                format!(
                    "corrupt {} data in {}: {e}",
                    self.format,
                    self.path.display()
                )
            };
            io::Error::new(e.kind(), msg)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes() {
        assert_eq!(Compression::detect(b"\x1f\x8b\x08\0"), Compression::Gzip);
        assert_eq!(Compression::detect(b"\xfd7zXZ\0\0"), Compression::Xz);
        assert_eq!(
            Compression::detect(b"\x28\xb5\x2f\xfd\0"),
            Compression::Zstd
        );
        assert_eq!(Compression::detect(b"BZh91AY"), Compression::Bzip2);
        assert_eq!(Compression::detect(b"<?xml"), Compression::None);
        assert_eq!(Compression::detect(b""), Compression::None);
    }
}
