//! Streaming digests for every [`ChecksumAlgo`] repository metadata uses.

use cairn_package::{Checksum, ChecksumAlgo};
use digest::Digest;
use std::io::{self, Read};

/// An incremental hasher for one [`ChecksumAlgo`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Hasher {
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
    Sha224(sha2::Sha224),
    Sha1(sha1::Sha1),
    Md5(md5::Md5),
}

impl Hasher {
    pub fn new(algo: ChecksumAlgo) -> Self {
        match algo {
            ChecksumAlgo::Sha256 => Hasher::Sha256(Default::default()),
            ChecksumAlgo::Sha384 => Hasher::Sha384(Default::default()),
            ChecksumAlgo::Sha512 => Hasher::Sha512(Default::default()),
            ChecksumAlgo::Sha224 => Hasher::Sha224(Default::default()),
            ChecksumAlgo::Sha1 => Hasher::Sha1(Default::default()),
            ChecksumAlgo::Md5 => Hasher::Md5(Default::default()),
        }
    }

    pub fn algo(&self) -> ChecksumAlgo {
        match self {
            Hasher::Sha256(_) => ChecksumAlgo::Sha256,
            Hasher::Sha384(_) => ChecksumAlgo::Sha384,
            Hasher::Sha512(_) => ChecksumAlgo::Sha512,
            Hasher::Sha224(_) => ChecksumAlgo::Sha224,
            Hasher::Sha1(_) => ChecksumAlgo::Sha1,
            Hasher::Md5(_) => ChecksumAlgo::Md5,
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
            Hasher::Sha224(h) => h.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Md5(h) => h.update(data),
        }
    }

    /// The digest of everything passed to [`Hasher::update`], as lowercase hex.
    pub fn finish(self) -> Checksum {
        let algo = self.algo();
        let hex = match self {
            Hasher::Sha256(h) => hex::encode(h.finalize()),
            Hasher::Sha384(h) => hex::encode(h.finalize()),
            Hasher::Sha512(h) => hex::encode(h.finalize()),
            Hasher::Sha224(h) => hex::encode(h.finalize()),
            Hasher::Sha1(h) => hex::encode(h.finalize()),
            Hasher::Md5(h) => hex::encode(h.finalize()),
        };
        Checksum::new(algo, hex)
    }
}

impl io::Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Hash everything `reader` yields with `algo`.
pub fn hash_reader(algo: ChecksumAlgo, mut reader: impl Read) -> io::Result<Checksum> {
    let mut hasher = Hasher::new(algo);
    io::copy(&mut reader, &mut hasher)?;
    Ok(hasher.finish())
}

/// Hash `bytes` with `algo`.
pub fn hash_bytes(algo: ChecksumAlgo, bytes: &[u8]) -> Checksum {
    let mut hasher = Hasher::new(algo);
    hasher.update(bytes);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests_of_abc() {
        // Test vectors from FIPS 180-4 / RFC 1321.
        let cases = [
            (ChecksumAlgo::Md5, "900150983cd24fb0d6963f7d28e17f72"),
            (
                ChecksumAlgo::Sha1,
                "a9993e364706816aba3e25717850c26c9cd0d89d",
            ),
            (
                ChecksumAlgo::Sha224,
                "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
            ),
            (
                ChecksumAlgo::Sha256,
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            (
                ChecksumAlgo::Sha384,
                "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
            ),
            (
                ChecksumAlgo::Sha512,
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
            ),
        ];
        for (algo, hex) in cases {
            let c = hash_reader(algo, &b"abc"[..]).unwrap();
            assert_eq!(c, Checksum::new(algo, hex), "{}", algo.as_str());
            assert_eq!(c.hex.len(), algo.hex_len());
            assert_eq!(hash_bytes(algo, b"abc"), c);
        }
    }
}
