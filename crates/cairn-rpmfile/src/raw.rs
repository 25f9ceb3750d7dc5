//! Opening an RPM file: read the lead and both headers once (checking their structure
//! before the `rpm` crate parses them, so that a damaged or hostile file gives an error
//! naming what is wrong instead of a panic or a huge allocation), while hashing every byte
//! read; the payload is left in the reader for the caller to stream.
//!
//! Layout: a 96-byte lead (magic `ed ab ee db`), the signature header padded to a multiple
//! of 8 bytes, the main header, then the compressed payload. A header is a 16-byte intro
//! (magic `8e ad e8`, version 1, 4 reserved bytes, entry count, data size), the 16-byte
//! index entries, then the data store.

use crate::RpmFileError;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

pub(crate) const LEAD_SIZE: usize = 96;
const LEAD_MAGIC: [u8; 4] = [0xed, 0xab, 0xee, 0xdb];
const HEADER_MAGIC: [u8; 3] = [0x8e, 0xad, 0xe8];
/// rpm's own limits (`hdrchkTags`, `hdrchkData`): at most 65535 entries, 256 MiB of data.
const MAX_ENTRIES: u32 = 0xffff;
const MAX_DATA: u32 = 0x0fff_ffff;

/// A reader that feeds every byte it passes on into a SHA-256 of the whole file.
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// An RPM file whose lead and headers have been read and parsed.
pub(crate) struct Opened {
    pub meta: rpm::PackageMetadata,
    /// The main header exactly as stored in the file (what header signatures cover).
    pub header_bytes: Vec<u8>,
    /// Offset of the main header; the payload starts at `header_end`.
    pub header_start: u64,
    pub header_end: u64,
    pub file: std::fs::Metadata,
    /// Positioned at the start of the payload.
    pub reader: BufReader<HashingReader<File>>,
}

impl Opened {
    /// Read the rest of the file, passing the payload bytes to `each`; returns the SHA-256
    /// of the whole file (lowercase hex) and its size.
    pub fn finish(
        &mut self,
        path: &Path,
        mut each: impl FnMut(&[u8]) -> io::Result<()>,
    ) -> Result<(String, u64), RpmFileError> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match self.reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(RpmFileError::io(path, e)),
            };
            each(&buf[..n]).map_err(|e| RpmFileError::io(path, e))?;
        }
        let inner = self.reader.get_mut();
        let hasher = std::mem::take(&mut inner.hasher);
        Ok((hex::encode(hasher.finalize()), inner.count))
    }
}

fn read_exact_or(
    r: &mut impl Read,
    buf: &mut [u8],
    path: &Path,
    at: u64,
    file_len: u64,
    what: &str,
) -> Result<(), RpmFileError> {
    r.read_exact(buf).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            RpmFileError::malformed(
                path,
                format!(
                    "truncated: the file is {file_len} bytes long but {what} needs {} bytes from offset {at}",
                    buf.len()
                ),
            )
        } else {
            RpmFileError::io(path, e)
        }
    })
}

/// Byte size of one item of an index entry's type, or `None` for strings (NUL-terminated).
fn item_size(typ: u32) -> Option<u64> {
    match typ {
        0 => Some(0),
        1 | 2 | 7 => Some(1),
        3 => Some(2),
        4 => Some(4),
        5 => Some(8),
        _ => None,
    }
}

/// Read one header (intro, index, data) into `out`, checking its structure.
fn read_header(
    r: &mut impl Read,
    out: &mut Vec<u8>,
    path: &Path,
    file_len: u64,
    which: &str,
) -> Result<u32, RpmFileError> {
    let at = out.len() as u64;
    let mut intro = [0u8; 16];
    read_exact_or(
        r,
        &mut intro,
        path,
        at,
        file_len,
        &format!("the {which} intro"),
    )?;
    let bad =
        |reason: String| RpmFileError::malformed(path, format!("{which} at offset {at}: {reason}"));
    if intro[..3] != HEADER_MAGIC {
        return Err(bad(format!(
            "bad header magic {}, expected 8e ad e8",
            hex_bytes(&intro[..3])
        )));
    }
    if intro[3] != 1 {
        return Err(bad(format!("header version {}, expected 1", intro[3])));
    }
    let count = u32::from_be_bytes([intro[8], intro[9], intro[10], intro[11]]);
    let data_len = u32::from_be_bytes([intro[12], intro[13], intro[14], intro[15]]);
    if count == 0 || count > MAX_ENTRIES {
        return Err(bad(format!(
            "{count} index entries (expected 1 to {MAX_ENTRIES})"
        )));
    }
    if data_len > MAX_DATA {
        return Err(bad(format!(
            "{data_len} bytes of data (at most {MAX_DATA} allowed)"
        )));
    }
    out.extend_from_slice(&intro);
    let start = out.len();
    let rest = count as usize * 16 + data_len as usize;
    out.resize(start + rest, 0);
    read_exact_or(
        r,
        &mut out[start..],
        path,
        at + 16,
        file_len,
        &format!("the {which} ({count} entries, {data_len} data bytes)"),
    )?;
    let index = &out[start..start + count as usize * 16];
    for (i, e) in index.chunks_exact(16).enumerate() {
        let word = |k: usize| u32::from_be_bytes([e[k], e[k + 1], e[k + 2], e[k + 3]]);
        let (tag, typ, offset, n) = (word(0), word(4), word(8) as i32, word(12));
        if typ > 9 {
            return Err(bad(format!(
                "entry {i} (tag {tag}) has unknown data type {typ}"
            )));
        }
        let Ok(offset) = u64::try_from(offset) else {
            return Err(bad(format!(
                "entry {i} (tag {tag}) has negative data offset {offset}"
            )));
        };
        let needed = match item_size(typ) {
            Some(size) => u64::from(n) * size,
            // Every string takes at least its NUL byte.
            None => u64::from(n),
        };
        if offset + needed > u64::from(data_len) {
            return Err(bad(format!(
                "entry {i} (tag {tag}) points outside the {data_len}-byte data store (offset {offset}, {n} items)"
            )));
        }
    }
    Ok(data_len)
}

fn hex_bytes(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Open `path` and read its lead and headers.
pub(crate) fn open(path: &Path) -> Result<Opened, RpmFileError> {
    // Not fs_err: every error here is wrapped in an RpmFileError naming the path.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .open(path)
        .map_err(|e| RpmFileError::io(path, e))?;
    let metadata = file.metadata().map_err(|e| RpmFileError::io(path, e))?;
    if metadata.is_dir() {
        return Err(RpmFileError::malformed(
            path,
            "this is a directory, not an RPM file",
        ));
    }
    let file_len = metadata.len();
    let mut reader = BufReader::with_capacity(
        64 * 1024,
        HashingReader {
            inner: file,
            hasher: Sha256::new(),
            count: 0,
        },
    );
    let mut bytes = vec![0u8; LEAD_SIZE];
    let mut got = 0;
    while got < LEAD_SIZE {
        match reader.read(&mut bytes[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(RpmFileError::io(path, e)),
        }
    }
    let magic_len = got.min(4);
    if bytes[..magic_len] != LEAD_MAGIC[..magic_len] {
        return Err(RpmFileError::malformed(
            path,
            format!(
                "bad lead magic {} (expected ed ab ee db): this is not an RPM file",
                hex_bytes(&bytes[..magic_len])
            ),
        ));
    }
    if got < LEAD_SIZE {
        return Err(RpmFileError::malformed(
            path,
            format!("truncated: {file_len} bytes, shorter than the 96-byte RPM lead"),
        ));
    }
    let sig_data = read_header(&mut reader, &mut bytes, path, file_len, "signature header")?;
    let padding = (8 - sig_data % 8) % 8;
    if padding > 0 {
        let at = bytes.len();
        bytes.resize(at + padding as usize, 0);
        read_exact_or(
            &mut reader,
            &mut bytes[at..],
            path,
            at as u64,
            file_len,
            "the signature header padding",
        )?;
    }
    let header_start = bytes.len();
    read_header(&mut reader, &mut bytes, path, file_len, "main header")?;
    let header_end = bytes.len();
    let meta = rpm::PackageMetadata::parse(&mut io::Cursor::new(&bytes))
        .map_err(|e| RpmFileError::malformed(path, format!("cannot parse the headers: {e}")))?;
    let header_bytes = bytes[header_start..header_end].to_vec();
    Ok(Opened {
        meta,
        header_bytes,
        header_start: header_start as u64,
        header_end: header_end as u64,
        file: metadata,
        reader,
    })
}
