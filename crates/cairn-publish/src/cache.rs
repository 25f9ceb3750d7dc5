//! The publisher's package cache (`.cairn/publish-cache`): for every package file, the
//! stat key it was read under, its checksum and NEVRA, and its rendered primary,
//! filelists and other entries. An unchanged file's entries are reused without opening
//! it; a file whose stat changed but whose checksum did not reuses them too.
//!
//! Format 1, little endian: magic `CAIRNPC\0`, u32 format, u64 count, entries of
//! length-prefixed strings and u64 numbers, trailer `END\0`. A cache that does not parse
//! is ignored (the publish reads every package again); it is never trusted half-read.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Write};

const MAGIC: &[u8; 8] = b"CAIRNPC\0";
const TRAILER: &[u8; 4] = b"END\0";
const FORMAT: u32 = 1;

/// What the cache keeps for one package file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry<'a> {
    /// Path relative to the repository root.
    pub location: String,
    pub size: u64,
    pub mtime_ns: u64,
    pub ino: u64,
    pub checksum: String,
    pub name: String,
    pub epoch: u64,
    pub version: String,
    pub release: String,
    pub arch: String,
    pub sourcerpm: String,
    /// The rendered entries: borrowed from the cache file's bytes when decoded (5,000
    /// packages hold tens of megabytes of text; copying it would cost more than the rest
    /// of an incremental publish), owned when freshly rendered.
    pub primary: Cow<'a, str>,
    pub filelists: Cow<'a, str>,
    pub other: Cow<'a, str>,
}

impl Entry<'_> {
    pub fn nevra(&self) -> String {
        nevra(
            &self.name,
            self.epoch,
            &self.version,
            &self.release,
            &self.arch,
        )
    }
}

pub(crate) fn nevra(name: &str, epoch: u64, version: &str, release: &str, arch: &str) -> String {
    if epoch == 0 {
        format!("{name}-{version}-{release}.{arch}")
    } else {
        format!("{name}-{epoch}:{version}-{release}.{arch}")
    }
}

fn put_str(out: &mut impl Write, s: &str) -> io::Result<()> {
    out.write_all(&(s.len() as u64).to_le_bytes())?;
    out.write_all(s.as_bytes())
}

fn put_u64(out: &mut impl Write, v: u64) -> io::Result<()> {
    out.write_all(&v.to_le_bytes())
}

/// Write the cache for `entries` to `out`.
pub(crate) fn encode_to(out: &mut impl Write, entries: &[&Entry<'_>]) -> io::Result<()> {
    out.write_all(MAGIC)?;
    out.write_all(&FORMAT.to_le_bytes())?;
    put_u64(out, entries.len() as u64)?;
    for e in entries {
        put_str(out, &e.location)?;
        put_u64(out, e.size)?;
        put_u64(out, e.mtime_ns)?;
        put_u64(out, e.ino)?;
        put_str(out, &e.checksum)?;
        put_str(out, &e.name)?;
        put_u64(out, e.epoch)?;
        put_str(out, &e.version)?;
        put_str(out, &e.release)?;
        put_str(out, &e.arch)?;
        put_str(out, &e.sourcerpm)?;
        put_str(out, &e.primary)?;
        put_str(out, &e.filelists)?;
        put_str(out, &e.other)?;
    }
    out.write_all(TRAILER)
}

#[cfg(test)]
pub(crate) fn encode(entries: &[&Entry<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_to(&mut out, entries).expect("writing to a Vec");
    out
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn str(&mut self) -> Option<&'a str> {
        let n = usize::try_from(self.u64()?).ok()?;
        std::str::from_utf8(self.take(n)?).ok()
    }
    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_owned)
    }
    fn cow(&mut self) -> Option<Cow<'a, str>> {
        self.str().map(Cow::Borrowed)
    }
}

/// Decode a cache; `None` when it is not a complete format-1 cache.
pub(crate) fn decode(buf: &[u8]) -> Option<HashMap<String, Entry<'_>>> {
    let mut r = Reader { buf, pos: 0 };
    if r.take(8)? != MAGIC {
        return None;
    }
    let format = u32::from_le_bytes(r.take(4)?.try_into().ok()?);
    if format != FORMAT {
        return None;
    }
    let count = r.u64()?;
    let mut map = HashMap::with_capacity(usize::try_from(count).ok()?.min(1 << 20));
    for _ in 0..count {
        let e = Entry {
            location: r.string()?,
            size: r.u64()?,
            mtime_ns: r.u64()?,
            ino: r.u64()?,
            checksum: r.string()?,
            name: r.string()?,
            epoch: r.u64()?,
            version: r.string()?,
            release: r.string()?,
            arch: r.string()?,
            sourcerpm: r.string()?,
            primary: r.cow()?,
            filelists: r.cow()?,
            other: r.cow()?,
        };
        map.insert(e.location.clone(), e);
    }
    if r.take(4)? != TRAILER || r.pos != buf.len() {
        return None;
    }
    Some(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: u64) -> Entry<'static> {
        Entry {
            location: format!("Packages/p/p{i}.rpm"),
            size: i,
            mtime_ns: i * 7,
            ino: i + 1,
            checksum: "ab".repeat(32),
            name: format!("p{i}"),
            epoch: i % 2,
            version: "1.0".into(),
            release: "1".into(),
            arch: "x86_64".into(),
            sourcerpm: "p-1.0-1.src.rpm".into(),
            primary: "<package/>".into(),
            filelists: "<package>ü</package>".into(),
            other: "".into(),
        }
    }

    #[test]
    fn roundtrip_and_truncation() {
        let a = entry(1);
        let b = entry(2);
        let bytes = encode(&[&a, &b]);
        let map = decode(&bytes).unwrap();
        assert_eq!(map.len(), 2);
        assert_eq!(map["Packages/p/p2.rpm"], b);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_none(), "cut at {cut} accepted");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_none());
    }

    #[test]
    fn nevra_epoch() {
        assert_eq!(entry(1).nevra(), "p1-1:1.0-1.x86_64");
        assert_eq!(entry(2).nevra(), "p2-1.0-1.x86_64");
    }
}
