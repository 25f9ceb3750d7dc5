//! Compression of source archives: recognising the format from its magic bytes, and streaming
//! decoders and deterministic encoders for each supported one.

use std::fmt;
use std::io::{self, Read, Write};

use crate::tar_raw;

/// The compression around a tar archive, as found from the file's first bytes (never its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// A plain tar archive.
    None,
    /// gzip (`.tar.gz`, `.tgz`).
    Gzip,
    /// xz (`.tar.xz`).
    Xz,
    /// bzip2 (`.tar.bz2`).
    Bzip2,
    /// Zstandard (`.tar.zst`).
    Zstd,
}

impl Compression {
    /// A short lower-case name: `none`, `gzip`, `xz`, `bzip2` or `zstd`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Xz => "xz",
            Compression::Bzip2 => "bzip2",
            Compression::Zstd => "zstd",
        }
    }

    /// Recognises the format from the first bytes of a file (at least 512 are needed to see a
    /// plain tar). The error describes what was found instead.
    pub(crate) fn detect(head: &[u8]) -> Result<Compression, String> {
        const XZ: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0];
        const ZSTD: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
        if head.starts_with(&[0x1f, 0x8b]) {
            return Ok(Compression::Gzip);
        }
        if head.starts_with(XZ) {
            return Ok(Compression::Xz);
        }
        if head.starts_with(b"BZh") {
            return Ok(Compression::Bzip2);
        }
        if head.starts_with(ZSTD) {
            return Ok(Compression::Zstd);
        }
        if head.len() >= tar_raw::BLOCK && tar_raw::looks_like_tar(&head[..tar_raw::BLOCK]) {
            return Ok(Compression::None);
        }
        let known: &[(&[u8], &str)] = &[
            (b"PK\x03\x04", "a zip archive"),
            (b"PK\x05\x06", "an empty zip archive"),
            (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
            (b"Rar!", "a RAR archive"),
            (b"LZIP", "an lzip stream"),
            (&[0x04, 0x22, 0x4d, 0x18], "an LZ4 stream"),
            (&[0x1f, 0x9d], "a compress (.Z) stream"),
            (&[0x5d, 0x00, 0x00], "an lzma stream"),
        ];
        if let Some((_, what)) = known.iter().find(|(magic, _)| head.starts_with(magic)) {
            return Err((*what).to_owned());
        }
        if head.is_empty() {
            return Err("the file is empty".to_owned());
        }
        let shown: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Err(format!(
            "unknown format starting with bytes {}",
            shown.join(" ")
        ))
    }

    pub(crate) fn decoder<'a, R: io::BufRead + 'a>(
        self,
        input: R,
    ) -> io::Result<Box<dyn Read + 'a>> {
        Ok(match self {
            Compression::None => Box::new(input),
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(input)),
            Compression::Xz => Box::new(xz2::bufread::XzDecoder::new_multi_decoder(input)),
            Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(input)),
            Compression::Zstd => Box::new(zstd::Decoder::with_buffer(input)?),
        })
    }

    pub(crate) fn encoder<W: Write>(self, output: W) -> io::Result<Encoder<W>> {
        Ok(match self {
            Compression::None => Encoder::None(output),
            Compression::Gzip => Encoder::Gzip(
                flate2::GzBuilder::new()
                    .mtime(0)
                    .write(output, flate2::Compression::new(GZIP_LEVEL)),
            ),
            Compression::Xz => Encoder::Xz(xz2::write::XzEncoder::new(output, XZ_PRESET)),
            Compression::Bzip2 => Encoder::Bzip2(bzip2::write::BzEncoder::new(
                output,
                bzip2::Compression::new(BZIP2_LEVEL),
            )),
            Compression::Zstd => {
                let mut enc = zstd::Encoder::new(output, ZSTD_LEVEL)?;
                enc.include_checksum(true)?;
                Encoder::Zstd(enc)
            }
        })
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

pub(crate) const GZIP_LEVEL: u32 = 9;
pub(crate) const XZ_PRESET: u32 = 6;
pub(crate) const BZIP2_LEVEL: u32 = 9;
pub(crate) const ZSTD_LEVEL: i32 = 19;

/// A compressing writer for one [`Compression`]; [`Encoder::finish`] must be called.
pub(crate) enum Encoder<W: Write> {
    None(W),
    Gzip(flate2::write::GzEncoder<W>),
    Xz(xz2::write::XzEncoder<W>),
    Bzip2(bzip2::write::BzEncoder<W>),
    Zstd(zstd::Encoder<'static, W>),
}

impl<W: Write> Encoder<W> {
    pub(crate) fn finish(self) -> io::Result<W> {
        match self {
            Encoder::None(w) => Ok(w),
            Encoder::Gzip(e) => e.finish(),
            Encoder::Xz(e) => e.finish(),
            Encoder::Bzip2(e) => e.finish(),
            Encoder::Zstd(e) => e.finish(),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::None(w) => w.write(buf),
            Encoder::Gzip(e) => e.write(buf),
            Encoder::Xz(e) => e.write(buf),
            Encoder::Bzip2(e) => e.write(buf),
            Encoder::Zstd(e) => e.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::None(w) => w.flush(),
            Encoder::Gzip(e) => e.flush(),
            Encoder::Xz(e) => e.flush(),
            Encoder::Bzip2(e) => e.flush(),
            Encoder::Zstd(e) => e.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(c: Compression, data: &[u8]) -> Vec<u8> {
        let mut enc = c.encoder(Vec::new()).unwrap();
        enc.write_all(data).unwrap();
        let packed = enc.finish().unwrap();
        let mut out = Vec::new();
        c.decoder(&packed[..])
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn every_encoder_is_recognised_and_round_trips() {
        let mut tar = vec![0u8; 1024];
        tar[..512].copy_from_slice(&tar_raw::tests::sample_header());
        for c in [
            Compression::None,
            Compression::Gzip,
            Compression::Xz,
            Compression::Bzip2,
            Compression::Zstd,
        ] {
            let mut enc = c.encoder(Vec::new()).unwrap();
            enc.write_all(&tar).unwrap();
            let packed = enc.finish().unwrap();
            assert_eq!(Compression::detect(&packed).unwrap(), c);
            assert_eq!(roundtrip(c, &tar), tar);
        }
    }

    #[test]
    fn gzip_header_is_fixed() {
        let mut enc = Compression::Gzip.encoder(Vec::new()).unwrap();
        enc.write_all(b"abc").unwrap();
        let packed = enc.finish().unwrap();
        // magic, deflate, no flags (so no file name), mtime 0
        assert_eq!(&packed[..8], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn foreign_formats_are_named() {
        assert_eq!(
            Compression::detect(b"PK\x03\x04rest").unwrap_err(),
            "a zip archive"
        );
        assert_eq!(
            Compression::detect(b"hello world").unwrap_err(),
            "unknown format starting with bytes 68 65 6c 6c 6f 20 77 6f"
        );
        assert_eq!(Compression::detect(b"").unwrap_err(), "the file is empty");
    }
}
