//! Metadata documents compressed in chunks, so an incremental publish recompresses only
//! what changed.
//!
//! gzip allows a file of several members and zstd a file of several frames; readers
//! (zlib's `gzread`, libsolv, librepo, Python, cairn-fetch) decompress them as one
//! stream. A document is written as: its header (declaring the package count), then its
//! package entries cut into chunks, then its footer — each compressed on its own and
//! concatenated. Chunk boundaries depend on the packages' locations (a boundary follows
//! a package whose location hashes to 0 mod [`AVG`], or [`MAX`] entries), so adding or
//! removing a package changes one chunk, not every chunk after it. A chunk's compressed
//! bytes are cached under a key over its packages' identities (location, checksum, size,
//! mtime), the document kind, the compression and [`WRITER`]. xz is compressed whole
//! (not every xz reader accepts concatenated streams).

use crate::PublishError;
use crate::cache::Entry;
use crate::publish::Compression;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::Hasher;
use std::io::Write;

/// Average and maximum entries per chunk.
const AVG: u64 = 64;
const MAX: usize = 512;
/// Bumped whenever the entry writers or the compression settings change what a chunk
/// holds, so old cached chunks are not reused.
const WRITER: &str = "cairn-publish chunks 1; zstd 9, gzip 6";
const ZSTD_LEVEL: i32 = 9;
const GZIP_LEVEL: u32 = 6;

const MAGIC: &[u8; 8] = b"CAIRNCH\0";
const TRAILER: &[u8; 4] = b"END\0";

/// Which text of an entry a document holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Primary,
    Filelists,
    Other,
}

impl Part {
    fn text<'e>(self, e: &'e Entry<'_>) -> &'e str {
        match self {
            Part::Primary => &e.primary,
            Part::Filelists => &e.filelists,
            Part::Other => &e.other,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Part::Primary => "primary",
            Part::Filelists => "filelists",
            Part::Other => "other",
        }
    }
}

/// Cut sorted entries into chunks (index ranges).
pub(crate) fn cut(entries: &[&Entry<'_>]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, e) in entries.iter().enumerate() {
        let mut h = rustc_hash::FxHasher::default();
        h.write(e.location.as_bytes());
        if h.finish().is_multiple_of(AVG) || i + 1 - start >= MAX {
            out.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < entries.len() {
        out.push(start..entries.len());
    }
    out
}

fn chunk_key(part: Part, c: Compression, entries: &[&Entry<'_>]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(WRITER.as_bytes());
    h.update(part.name().as_bytes());
    h.update(c.ext().as_bytes());
    for e in entries {
        h.update(e.location.as_bytes());
        h.update(b"\0");
        h.update(e.checksum.as_bytes());
        h.update(e.size.to_le_bytes());
        h.update(e.mtime_ns.to_le_bytes());
    }
    h.finalize().into()
}

pub(crate) fn compress(data: &[u8], c: Compression) -> Result<Vec<u8>, PublishError> {
    let io = PublishError::Io;
    Ok(match c {
        Compression::Zstd => zstd::bulk::compress(data, ZSTD_LEVEL).map_err(io)?,
        Compression::Gz => {
            let mut enc = flate2::write::GzEncoder::new(
                Vec::with_capacity(data.len() / 4),
                flate2::Compression::new(GZIP_LEVEL),
            );
            enc.write_all(data).map_err(io)?;
            enc.finish().map_err(io)?
        }
        Compression::Xz => {
            let mut enc = xz2::write::XzEncoder::new(Vec::with_capacity(data.len() / 4), 6);
            enc.write_all(data).map_err(io)?;
            enc.finish().map_err(io)?
        }
    })
}

/// Compressed chunks from earlier publishes, by key.
#[derive(Debug, Default)]
pub(crate) struct ChunkCache {
    map: HashMap<[u8; 32], Vec<u8>>,
}

impl ChunkCache {
    pub fn decode(buf: &[u8]) -> ChunkCache {
        Self::try_decode(buf).unwrap_or_default()
    }

    fn try_decode(buf: &[u8]) -> Option<ChunkCache> {
        let mut pos = 0usize;
        let mut take = |n: usize| -> Option<&[u8]> {
            let s = buf.get(pos..pos.checked_add(n)?)?;
            pos += n;
            Some(s)
        };
        if take(8)? != MAGIC {
            return None;
        }
        let count = u64::from_le_bytes(take(8)?.try_into().ok()?);
        let mut map = HashMap::new();
        for _ in 0..count {
            let key: [u8; 32] = take(32)?.try_into().ok()?;
            let len = usize::try_from(u64::from_le_bytes(take(8)?.try_into().ok()?)).ok()?;
            map.insert(key, take(len)?.to_vec());
        }
        if take(4)? != TRAILER {
            return None;
        }
        (pos == buf.len()).then_some(ChunkCache { map })
    }

    pub fn encode(&self) -> Vec<u8> {
        let total: usize = self.map.values().map(|v| v.len() + 40).sum();
        let mut out = Vec::with_capacity(total + 24);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.map.len() as u64).to_le_bytes());
        let mut keys: Vec<&[u8; 32]> = self.map.keys().collect();
        keys.sort();
        for k in keys {
            let v = &self.map[k];
            out.extend_from_slice(k);
            out.extend_from_slice(&(v.len() as u64).to_le_bytes());
            out.extend_from_slice(v);
        }
        out.extend_from_slice(TRAILER);
        out
    }
}

/// One compressed document.
#[derive(Debug)]
pub(crate) struct Compressed {
    pub bytes: Vec<u8>,
    /// sha256 of the uncompressed document.
    pub open_checksum: String,
    pub open_size: u64,
}

/// Compressed chunks by key, as [`document`] used them.
pub(crate) type UsedChunks = Vec<([u8; 32], Vec<u8>)>;

/// What one document is made of.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DocInput<'a> {
    pub header: &'a str,
    pub footer: &'a str,
    pub part: Part,
    /// Sorted entries and their chunk ranges ([`cut`]).
    pub entries: &'a [&'a Entry<'a>],
    pub ranges: &'a [std::ops::Range<usize>],
}

/// Compress the document `header + entries' parts + footer`. Chunks found in `old` are
/// reused; the chunks used are returned for the next publish's cache.
pub(crate) fn document(
    input: DocInput<'_>,
    c: Compression,
    old: &ChunkCache,
    jobs: usize,
) -> Result<(Compressed, UsedChunks), PublishError> {
    let DocInput {
        header,
        footer,
        part,
        entries,
        ranges,
    } = input;
    // open checksum and size over the whole text, without building it
    let mut h = Sha256::new();
    let mut open_size = header.len() + footer.len();
    h.update(header.as_bytes());
    for e in entries {
        let t = part.text(e);
        h.update(t.as_bytes());
        open_size += t.len();
    }
    h.update(footer.as_bytes());
    let open_checksum = hex::encode(h.finalize());

    if c == Compression::Xz {
        let mut text = String::with_capacity(open_size);
        text.push_str(header);
        for e in entries {
            text.push_str(part.text(e));
        }
        text.push_str(footer);
        let bytes = compress(text.as_bytes(), c)?;
        return Ok((
            Compressed {
                bytes,
                open_checksum,
                open_size: open_size as u64,
            },
            Vec::new(),
        ));
    }

    let keys: Vec<[u8; 32]> = ranges
        .iter()
        .map(|r| chunk_key(part, c, &entries[r.clone()]))
        .collect();
    let todo: Vec<usize> = (0..ranges.len())
        .filter(|&i| !old.map.contains_key(&keys[i]))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done: std::sync::Mutex<HashMap<usize, Result<Vec<u8>, PublishError>>> =
        std::sync::Mutex::new(HashMap::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(todo.len().max(1)) {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&i) = todo.get(k) else { break };
                    let mut text = String::new();
                    for e in &entries[ranges[i].clone()] {
                        text.push_str(part.text(e));
                    }
                    let r = compress(text.as_bytes(), c);
                    if let Ok(mut d) = done.lock() {
                        d.insert(i, r);
                    }
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_default();
    let mut bytes = compress(header.as_bytes(), c)?;
    let mut used = Vec::with_capacity(ranges.len());
    for (i, key) in keys.iter().enumerate() {
        let chunk = match done.remove(&i) {
            Some(r) => r?,
            None => match old.map.get(key) {
                Some(b) => b.clone(),
                None => {
                    return Err(PublishError::Io(std::io::Error::other(
                        "a metadata chunk was neither cached nor compressed",
                    )));
                }
            },
        };
        bytes.extend_from_slice(&chunk);
        used.push((*key, chunk));
    }
    bytes.extend_from_slice(&compress(footer.as_bytes(), c)?);
    Ok((
        Compressed {
            bytes,
            open_checksum,
            open_size: open_size as u64,
        },
        used,
    ))
}

impl ChunkCache {
    pub fn from_used(used: UsedChunks) -> ChunkCache {
        ChunkCache {
            map: used.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn entry(i: usize) -> Entry<'static> {
        Entry {
            location: format!("Packages/p/p{i}.rpm"),
            size: i as u64,
            mtime_ns: 1,
            ino: 1,
            checksum: format!("{i:064x}"),
            name: format!("p{i}"),
            epoch: 0,
            version: "1".into(),
            release: "1".into(),
            arch: "noarch".into(),
            sourcerpm: String::new(),
            primary: format!("<package>{i}</package>\n").into(),
            filelists: format!("<f>{i}</f>\n").into(),
            other: "".into(),
        }
    }

    #[test]
    fn chunked_documents_decompress_to_the_whole_text_and_reuse_chunks() {
        let owned: Vec<Entry> = (0..1000).map(entry).collect();
        let entries: Vec<&Entry> = owned.iter().collect();
        let ranges = cut(&entries);
        assert!(ranges.len() > 3, "{}", ranges.len());
        assert_eq!(ranges.iter().map(|r| r.len()).sum::<usize>(), 1000);
        let whole: String = std::iter::once("<h>\n")
            .chain(entries.iter().map(|e| e.primary.as_ref()))
            .chain(std::iter::once("</h>"))
            .collect();
        for c in [Compression::Gz, Compression::Zstd, Compression::Xz] {
            let input = DocInput {
                header: "<h>\n",
                footer: "</h>",
                part: Part::Primary,
                entries: &entries,
                ranges: &ranges,
            };
            let (doc, used) = document(input, c, &ChunkCache::default(), 2).unwrap();
            let mut text = String::new();
            match c {
                Compression::Gz => {
                    flate2::read::MultiGzDecoder::new(&doc.bytes[..])
                        .read_to_string(&mut text)
                        .unwrap();
                }
                Compression::Zstd => {
                    text = String::from_utf8(zstd::decode_all(&doc.bytes[..]).unwrap()).unwrap();
                }
                Compression::Xz => {
                    xz2::read::XzDecoder::new(&doc.bytes[..])
                        .read_to_string(&mut text)
                        .unwrap();
                }
            }
            assert_eq!(text, whole, "{c:?}");
            assert_eq!(
                doc.open_checksum,
                hex::encode(Sha256::digest(whole.as_bytes()))
            );
            // the same input with a warm cache gives the same bytes
            let cache = ChunkCache::decode(&ChunkCache::from_used(used).encode());
            let (again, _) = document(input, c, &cache, 2).unwrap();
            assert_eq!(again.bytes, doc.bytes, "{c:?}");
        }
    }

    #[test]
    fn one_insert_changes_one_chunk() {
        let owned: Vec<Entry> = (0..2000).map(entry).collect();
        let a: Vec<&Entry> = owned.iter().collect();
        let extra = entry(5000);
        let mut b = a.clone();
        b.insert(700, &extra);
        let ka: std::collections::HashSet<_> = cut(&a)
            .into_iter()
            .map(|r| chunk_key(Part::Primary, Compression::Gz, &a[r]))
            .collect();
        let kb: Vec<_> = cut(&b)
            .into_iter()
            .map(|r| chunk_key(Part::Primary, Compression::Gz, &b[r]))
            .collect();
        let new = kb.iter().filter(|k| !ka.contains(*k)).count();
        assert!(new <= 2, "{new} chunks changed");
    }

    #[test]
    fn a_damaged_cache_is_empty() {
        let c = ChunkCache::from_used(vec![([1; 32], vec![1, 2, 3])]);
        let bytes = c.encode();
        for cut in 0..bytes.len() {
            assert!(ChunkCache::decode(&bytes[..cut]).map.is_empty());
        }
        assert_eq!(ChunkCache::decode(&bytes).map.len(), 1);
    }
}
