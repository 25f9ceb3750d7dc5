//! Tar archives at the block level: a scanner that records where every member (with its GNU
//! long-name and pax extension headers) lives in an uncompressed archive, and writers that
//! rebuild the headers of a member whose contents or name changed. Working on raw blocks lets
//! untouched members be copied byte for byte, whatever tar flavour wrote them.

use std::io::{self, Read};

/// Size of a tar block.
pub(crate) const BLOCK: usize = 512;
pub(crate) type Block = [u8; BLOCK];

/// Extension headers larger than this are treated as damage rather than read into memory.
const MAX_EXTENSION: u64 = 16 << 20;

// Field ranges of a ustar header.
const NAME: std::ops::Range<usize> = 0..100;
const MODE: std::ops::Range<usize> = 100..108;
const UID: std::ops::Range<usize> = 108..116;
const GID: std::ops::Range<usize> = 116..124;
const SIZE: std::ops::Range<usize> = 124..136;
const MTIME: std::ops::Range<usize> = 136..148;
const CHKSUM: std::ops::Range<usize> = 148..156;
const TYPEFLAG: usize = 156;
const LINKNAME: std::ops::Range<usize> = 157..257;
const MAGIC: std::ops::Range<usize> = 257..265;
const UNAME: std::ops::Range<usize> = 265..297;
const GNAME: std::ops::Range<usize> = 297..329;
const PREFIX: std::ops::Range<usize> = 345..500;
const GNU_IS_EXTENDED: usize = 482;
const SPARSE_IS_EXTENDED: usize = 504;

const MAGIC_USTAR: &[u8; 8] = b"ustar\x0000";
const MAGIC_GNU: &[u8; 8] = b"ustar  \x00";

/// Which header layout a block uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// POSIX ustar (also used by pax archives): has a 155-byte name prefix.
    Ustar,
    /// GNU tar's own layout: long names go into `L` extension members.
    Gnu,
    /// Pre-POSIX v7 header without user and group names.
    Old,
}

pub(crate) fn format_of(block: &Block) -> Format {
    let magic = &block[MAGIC];
    if magic == MAGIC_GNU {
        Format::Gnu
    } else if &magic[..6] == b"ustar\0" {
        Format::Ustar
    } else {
        Format::Old
    }
}

/// What kind of file a main header describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Regular,
    Directory,
    Symlink,
    Hardlink,
    /// Devices, fifos, pax global headers, sparse files and anything unknown: copied as is.
    Other,
}

/// One pax extended-header record `key=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PaxRecord {
    pub(crate) key: Vec<u8>,
    pub(crate) value: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExtKind {
    /// GNU `L`: the next member's full path.
    LongName,
    /// GNU `K`: the next member's full link target.
    LongLink,
    /// pax `x`: records for the next member.
    Pax(Vec<PaxRecord>),
}

/// An extension header that belongs to the member after it.
#[derive(Debug, Clone)]
pub(crate) struct Extension {
    pub(crate) kind: ExtKind,
    pub(crate) header: Block,
    /// The data exactly as stored (without block padding).
    pub(crate) data: Vec<u8>,
}

/// One member of the archive: its extension headers, main header and data.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    /// Offset of the first block (the first extension header, if any).
    pub(crate) start: u64,
    /// Offset just past the padded data.
    pub(crate) end: u64,
    pub(crate) extensions: Vec<Extension>,
    pub(crate) header: Block,
    pub(crate) data_offset: u64,
    pub(crate) size: u64,
    /// The full stored path (pax `path`, GNU long name or the header's own fields).
    pub(crate) path: Vec<u8>,
    /// The full stored link target, for links.
    pub(crate) link: Option<Vec<u8>>,
    pub(crate) kind: Kind,
}

impl Member {
    pub(crate) fn mtime(&self) -> u64 {
        parse_number(&self.header[MTIME]).unwrap_or(0)
    }
}

/// The layout of a whole uncompressed archive.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) members: Vec<Member>,
    /// Offset of the end-of-archive marker (or of the end of the data when there is none).
    pub(crate) trailer: u64,
    /// Total length of the uncompressed archive.
    pub(crate) len: u64,
}

/// A reader that counts the bytes it has consumed.
struct Counting<R> {
    inner: R,
    pos: u64,
}

impl<R: Read> Counting<R> {
    /// Reads one block; `None` at a clean end of input.
    fn block(&mut self) -> Result<Option<Block>, String> {
        let mut block = [0u8; BLOCK];
        let mut filled = 0;
        while filled < BLOCK {
            match self.inner.read(&mut block[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("read failed at offset {}: {e}", self.pos)),
            }
        }
        self.pos += filled as u64;
        match filled {
            0 => Ok(None),
            BLOCK => Ok(Some(block)),
            _ => Err(format!(
                "it ends in the middle of a block at offset {}",
                self.pos
            )),
        }
    }

    fn skip(&mut self, n: u64) -> Result<(), String> {
        let copied = io::copy(&mut (&mut self.inner).take(n), &mut io::sink())
            .map_err(|e| format!("read failed at offset {}: {e}", self.pos))?;
        self.pos += copied;
        if copied < n {
            return Err(format!(
                "it ends inside a member's data at offset {}",
                self.pos
            ));
        }
        Ok(())
    }

    fn data(&mut self, n: u64) -> Result<Vec<u8>, String> {
        let mut buf = Vec::with_capacity(n as usize);
        (&mut self.inner)
            .take(n)
            .read_to_end(&mut buf)
            .map_err(|e| format!("read failed at offset {}: {e}", self.pos))?;
        self.pos += buf.len() as u64;
        if (buf.len() as u64) < n {
            return Err(format!(
                "it ends inside a member's data at offset {}",
                self.pos
            ));
        }
        self.skip(padding(n))?;
        Ok(buf)
    }
}

/// Bytes of zero padding after `n` bytes of data.
pub(crate) fn padding(n: u64) -> u64 {
    (BLOCK as u64 - n % BLOCK as u64) % BLOCK as u64
}

/// Reads the structure of an uncompressed tar archive. Errors describe the damage.
pub(crate) fn scan(input: impl Read) -> Result<Layout, String> {
    let mut r = Counting {
        inner: input,
        pos: 0,
    };
    let mut members = Vec::new();
    let mut pending: Vec<Extension> = Vec::new();
    let mut pending_start = None;
    let mut long_name: Option<Vec<u8>> = None;
    let mut long_link: Option<Vec<u8>> = None;
    let trailer;
    loop {
        let offset = r.pos;
        let Some(block) = r.block()? else {
            if !pending.is_empty() {
                return Err("it ends right after an extension header".to_owned());
            }
            trailer = offset;
            break;
        };
        if block.iter().all(|&b| b == 0) {
            if !pending.is_empty() {
                return Err(format!(
                    "an extension header is followed by the end-of-archive marker at offset {offset}"
                ));
            }
            trailer = offset;
            break;
        }
        if !checksum_ok(&block) {
            return Err(if offset == 0 {
                "it does not start with a tar header".to_owned()
            } else {
                format!("the header at offset {offset} has a bad checksum")
            });
        }
        let typeflag = block[TYPEFLAG];
        let pax: Option<&Vec<PaxRecord>> = pending.iter().rev().find_map(|e| match &e.kind {
            ExtKind::Pax(records) => Some(records),
            _ => None,
        });
        let pax_value = |key: &[u8]| -> Option<Vec<u8>> {
            pax.and_then(|records| records.iter().rev().find(|r| r.key == key))
                .map(|r| r.value.clone())
        };
        let header_size = parse_number(&block[SIZE])
            .ok_or_else(|| format!("the header at offset {offset} has a bad size field"))?;
        match typeflag {
            b'L' | b'K' | b'x' => {
                if header_size > MAX_EXTENSION {
                    return Err(format!(
                        "the extension header at offset {offset} claims {header_size} bytes"
                    ));
                }
                let data = r.data(header_size)?;
                let kind = match typeflag {
                    b'L' => {
                        long_name = Some(until_nul(&data).to_vec());
                        ExtKind::LongName
                    }
                    b'K' => {
                        long_link = Some(until_nul(&data).to_vec());
                        ExtKind::LongLink
                    }
                    _ => ExtKind::Pax(parse_pax(&data).ok_or_else(|| {
                        format!("the pax header at offset {offset} is malformed")
                    })?),
                };
                pending_start.get_or_insert(offset);
                pending.push(Extension {
                    kind,
                    header: block,
                    data,
                });
            }
            _ => {
                let size = match pax_value(b"size") {
                    Some(v) => std::str::from_utf8(&v)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| format!("the pax size before offset {offset} is bad"))?,
                    None => header_size,
                };
                let path = pax_value(b"path")
                    .or(long_name.take())
                    .unwrap_or_else(|| header_path(&block));
                let link_field = until_nul(&block[LINKNAME]).to_vec();
                let link = pax_value(b"linkpath").or(long_link.take()).or({
                    if link_field.is_empty() {
                        None
                    } else {
                        Some(link_field)
                    }
                });
                let mut kind = match typeflag {
                    b'0' | 0 | b'7' => Kind::Regular,
                    b'5' => Kind::Directory,
                    b'2' => Kind::Symlink,
                    b'1' => Kind::Hardlink,
                    _ => Kind::Other,
                };
                if kind == Kind::Regular && path.ends_with(b"/") {
                    // v7 archives mark directories only by the trailing slash.
                    kind = Kind::Directory;
                }
                // Old GNU sparse members are followed by extra sparse-map blocks.
                if typeflag == b'S' && format_of(&block) == Format::Gnu {
                    let mut extended = block[GNU_IS_EXTENDED] != 0;
                    while extended {
                        let sparse = r
                            .block()?
                            .ok_or("it ends inside a sparse member's map".to_owned())?;
                        extended = sparse[SPARSE_IS_EXTENDED] != 0;
                    }
                }
                let data_offset = r.pos;
                r.skip(size + padding(size))?;
                members.push(Member {
                    start: pending_start.take().unwrap_or(offset),
                    end: r.pos,
                    extensions: std::mem::take(&mut pending),
                    header: block,
                    data_offset,
                    size,
                    path,
                    link,
                    kind,
                });
            }
        }
    }
    // Whatever follows the marker (more zero blocks, record padding) is measured, not parsed.
    let mut rest = r;
    rest.skip_to_end()?;
    Ok(Layout {
        members,
        trailer,
        len: rest.pos,
    })
}

impl<R: Read> Counting<R> {
    fn skip_to_end(&mut self) -> Result<(), String> {
        let n = io::copy(&mut self.inner, &mut io::sink())
            .map_err(|e| format!("read failed at offset {}: {e}", self.pos))?;
        self.pos += n;
        Ok(())
    }
}

/// Whether a block is plausibly the first header of a tar archive.
pub(crate) fn looks_like_tar(block: &[u8]) -> bool {
    let Ok(block) = <&Block>::try_from(block) else {
        return false;
    };
    block.iter().all(|&b| b == 0) || checksum_ok(block)
}

fn checksum_sums(block: &Block) -> (u64, i64) {
    let mut unsigned = 0u64;
    let mut signed = 0i64;
    for (i, &b) in block.iter().enumerate() {
        let b = if CHKSUM.contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    (unsigned, signed)
}

fn checksum_ok(block: &Block) -> bool {
    let Some(stored) = parse_octal(&block[CHKSUM]) else {
        return false;
    };
    let (unsigned, signed) = checksum_sums(block);
    stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed)
}

/// Stores the checksum the way GNU tar does: six octal digits, NUL, space.
pub(crate) fn set_checksum(block: &mut Block) {
    let (sum, _) = checksum_sums(block);
    let text = format!("{sum:06o}\0 ");
    block[CHKSUM].copy_from_slice(text.as_bytes());
}

/// A numeric field: octal text, or base-256 when the high bit of the first byte is set.
pub(crate) fn parse_number(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut value: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            value = value.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(value);
    }
    parse_octal(field)
}

fn parse_octal(field: &[u8]) -> Option<u64> {
    let text: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ' || b == 0)
        .take_while(|&b| b != b' ' && b != 0)
        .collect();
    if text.is_empty() {
        return Some(0);
    }
    let text = std::str::from_utf8(&text).ok()?;
    u64::from_str_radix(text, 8).ok()
}

/// Writes a numeric field as zero-padded octal with a NUL terminator, or base-256 when the
/// value does not fit.
pub(crate) fn set_number(field: &mut [u8], value: u64) {
    let digits = field.len() - 1;
    let text = format!("{value:0digits$o}");
    if text.len() <= digits {
        field[..digits].copy_from_slice(text.as_bytes());
        field[digits] = 0;
    } else {
        field.fill(0);
        let bytes = value.to_be_bytes();
        let n = field.len();
        field[n - 8..].copy_from_slice(&bytes);
        field[0] |= 0x80;
    }
}

fn until_nul(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(i) => &bytes[..i],
        None => bytes,
    }
}

/// The path in a header's own fields (ustar prefix joined to the name).
fn header_path(block: &Block) -> Vec<u8> {
    let name = until_nul(&block[NAME]);
    if format_of(block) == Format::Ustar {
        let prefix = until_nul(&block[PREFIX]);
        if !prefix.is_empty() {
            let mut path = prefix.to_vec();
            path.push(b'/');
            path.extend_from_slice(name);
            return path;
        }
    }
    name.to_vec()
}

/// Stores `path` in the header's name fields. Returns false when it does not fit, in which case
/// the name field holds a truncated copy and an extension header must carry the full path.
pub(crate) fn set_header_path(block: &mut Block, path: &[u8]) -> bool {
    let ustar = format_of(block) == Format::Ustar;
    block[NAME].fill(0);
    if ustar {
        block[PREFIX].fill(0);
    }
    if path.len() <= NAME.len() {
        block[..path.len()].copy_from_slice(path);
        return true;
    }
    if ustar && path.len() <= PREFIX.len() + 1 + NAME.len() {
        let split = path
            .iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'/' && i <= PREFIX.len() && path.len() - i - 1 <= NAME.len())
            .map(|(i, _)| i)
            .find(|&i| i > 0 && i + 1 < path.len());
        if let Some(i) = split {
            block[PREFIX.start..PREFIX.start + i].copy_from_slice(&path[..i]);
            let name = &path[i + 1..];
            block[..name.len()].copy_from_slice(name);
            return true;
        }
    }
    block[NAME].copy_from_slice(&path[..NAME.len()]);
    false
}

/// Parses pax records (`<len> <key>=<value>\n`); `None` if malformed.
pub(crate) fn parse_pax(mut data: &[u8]) -> Option<Vec<PaxRecord>> {
    let mut records = Vec::new();
    // Trailing NULs are tolerated (some writers pad the data).
    while !data.is_empty() && data.iter().any(|&b| b != 0) {
        let space = data.iter().position(|&b| b == b' ')?;
        let len: usize = std::str::from_utf8(&data[..space]).ok()?.parse().ok()?;
        if len <= space + 1 || len > data.len() || data[len - 1] != b'\n' {
            return None;
        }
        let record = &data[space + 1..len - 1];
        let eq = record.iter().position(|&b| b == b'=')?;
        records.push(PaxRecord {
            key: record[..eq].to_vec(),
            value: record[eq + 1..].to_vec(),
        });
        data = &data[len..];
    }
    Some(records)
}

pub(crate) fn serialize_pax(records: &[PaxRecord]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        let rest = 1 + r.key.len() + 1 + r.value.len() + 1;
        let mut len = rest + 1;
        while len != rest + len.to_string().len() {
            len = rest + len.to_string().len();
        }
        out.extend_from_slice(len.to_string().as_bytes());
        out.push(b' ');
        out.extend_from_slice(&r.key);
        out.push(b'=');
        out.extend_from_slice(&r.value);
        out.push(b'\n');
    }
    out
}

/// Appends one header plus `data` padded to whole blocks.
fn push_member(out: &mut Vec<u8>, header: &Block, data: &[u8]) {
    out.extend_from_slice(header);
    out.extend_from_slice(data);
    out.resize(out.len() + padding(data.len() as u64) as usize, 0);
}

fn blank(format: Format) -> Block {
    let mut block = [0u8; BLOCK];
    match format {
        Format::Ustar => block[MAGIC].copy_from_slice(MAGIC_USTAR),
        Format::Gnu => block[MAGIC].copy_from_slice(MAGIC_GNU),
        Format::Old => {}
    }
    block
}

/// A fresh GNU `L` member carrying `path`.
fn long_name_member(out: &mut Vec<u8>, path: &[u8]) {
    let mut data = path.to_vec();
    data.push(0);
    let mut h = blank(Format::Gnu);
    h[..13].copy_from_slice(b"././@LongLink");
    set_number(&mut h[MODE], 0o644);
    set_number(&mut h[UID], 0);
    set_number(&mut h[GID], 0);
    set_number(&mut h[SIZE], data.len() as u64);
    set_number(&mut h[MTIME], 0);
    h[TYPEFLAG] = b'L';
    h[UNAME][..4].copy_from_slice(b"root");
    h[GNAME][..4].copy_from_slice(b"root");
    set_checksum(&mut h);
    push_member(out, &h, &data);
}

/// A fresh pax `x` member with a `path` record.
fn pax_path_member(out: &mut Vec<u8>, path: &[u8], mtime: u64) {
    let data = serialize_pax(&[PaxRecord {
        key: b"path".to_vec(),
        value: path.to_vec(),
    }]);
    let base = path
        .rsplit(|&b| b == b'/')
        .find(|c| !c.is_empty())
        .unwrap_or(b"member");
    let mut name = b"PaxHeaders/".to_vec();
    name.extend_from_slice(base);
    name.truncate(NAME.len());
    let mut h = blank(Format::Ustar);
    h[..name.len()].copy_from_slice(&name);
    set_number(&mut h[MODE], 0o644);
    set_number(&mut h[UID], 0);
    set_number(&mut h[GID], 0);
    set_number(&mut h[SIZE], data.len() as u64);
    set_number(&mut h[MTIME], mtime);
    h[TYPEFLAG] = b'x';
    set_checksum(&mut h);
    push_member(out, &h, &data);
}

/// Adds whatever extension header `format` uses for a path that did not fit in the header.
fn long_path_extension(out: &mut Vec<u8>, format: Format, path: &[u8], mtime: u64) {
    if format == Format::Gnu {
        long_name_member(out, path);
    } else {
        pax_path_member(out, path, mtime);
    }
}

/// The header blocks (extensions and main header) for `member` with new data of `size` bytes
/// and, when `path` is given, a new stored path. Everything else is kept as it was.
pub(crate) fn rewrite_headers(member: &Member, path: Option<&[u8]>, size: u64) -> Vec<u8> {
    let mut header = member.header;
    let fits = path.is_none_or(|p| set_header_path(&mut header, p));
    let mut out = Vec::new();
    let mut path_carried = false;
    for ext in &member.extensions {
        match (&ext.kind, path) {
            (ExtKind::LongName, Some(p)) => {
                let mut data = p.to_vec();
                data.push(0);
                let mut h = ext.header;
                set_number(&mut h[SIZE], data.len() as u64);
                set_checksum(&mut h);
                push_member(&mut out, &h, &data);
                path_carried = true;
            }
            (ExtKind::Pax(records), _) => {
                let mut records = records.clone();
                for r in &mut records {
                    if r.key == b"size" {
                        r.value = size.to_string().into_bytes();
                    } else if let (b"path", Some(p)) = (r.key.as_slice(), path) {
                        r.value = p.to_vec();
                        path_carried = true;
                    }
                }
                if let Some(p) = path
                    && !fits
                    && !path_carried
                {
                    records.push(PaxRecord {
                        key: b"path".to_vec(),
                        value: p.to_vec(),
                    });
                    path_carried = true;
                }
                let data = serialize_pax(&records);
                let mut h = ext.header;
                set_number(&mut h[SIZE], data.len() as u64);
                set_checksum(&mut h);
                push_member(&mut out, &h, &data);
            }
            (ExtKind::LongName | ExtKind::LongLink, _) => {
                push_member(&mut out, &ext.header, &ext.data);
            }
        }
    }
    if let Some(p) = path
        && !fits
        && !path_carried
    {
        long_path_extension(&mut out, format_of(&header), p, member.mtime());
    }
    set_number(&mut header[SIZE], size);
    set_checksum(&mut header);
    out.extend_from_slice(&header);
    out
}

/// Metadata for members that edits add to an archive.
#[derive(Debug, Clone)]
pub(crate) struct NewMember {
    pub(crate) format: Format,
    /// Raw uid, gid, uname and gname fields copied from an existing member.
    pub(crate) owner: Option<Block>,
    pub(crate) mtime: u64,
}

impl NewMember {
    /// Headers for a new directory (`dir` = true) or regular file of `size` bytes at `path`.
    pub(crate) fn headers(&self, path: &[u8], dir: bool, size: u64) -> Vec<u8> {
        let mut out = Vec::new();
        let mut h = blank(self.format);
        match &self.owner {
            Some(owner) => {
                h[UID].copy_from_slice(&owner[UID]);
                h[GID].copy_from_slice(&owner[GID]);
                if self.format != Format::Old && format_of(owner) != Format::Old {
                    h[UNAME].copy_from_slice(&owner[UNAME]);
                    h[GNAME].copy_from_slice(&owner[GNAME]);
                }
            }
            None => {
                set_number(&mut h[UID], 0);
                set_number(&mut h[GID], 0);
                if self.format != Format::Old {
                    h[UNAME][..4].copy_from_slice(b"root");
                    h[GNAME][..4].copy_from_slice(b"root");
                }
            }
        }
        set_number(&mut h[MODE], if dir { 0o755 } else { 0o644 });
        set_number(&mut h[SIZE], size);
        set_number(&mut h[MTIME], self.mtime);
        h[TYPEFLAG] = if dir { b'5' } else { b'0' };
        if !set_header_path(&mut h, path) {
            long_path_extension(&mut out, self.format, path, self.mtime);
        }
        set_checksum(&mut h);
        out.extend_from_slice(&h);
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A valid ustar header for a regular file `a` of 0 bytes.
    pub(crate) fn sample_header() -> Block {
        let m = NewMember {
            format: Format::Ustar,
            owner: None,
            mtime: 1,
        };
        let bytes = m.headers(b"a", false, 0);
        bytes.try_into().unwrap()
    }

    #[test]
    fn numbers_round_trip_in_octal_and_base256() {
        let mut f = [0u8; 12];
        set_number(&mut f, 0o644);
        assert_eq!(&f, b"00000000644\0");
        assert_eq!(parse_number(&f), Some(0o644));
        set_number(&mut f, 1 << 40);
        assert_eq!(f[0] & 0x80, 0x80);
        assert_eq!(parse_number(&f), Some(1 << 40));
        assert_eq!(parse_number(b"   755 \0"), Some(0o755));
    }

    #[test]
    fn checksum_is_gnu_style_and_verifies() {
        let h = sample_header();
        assert_eq!(h[154], 0);
        assert_eq!(h[155], b' ');
        assert!(checksum_ok(&h));
        let mut bad = h;
        bad[0] = b'b';
        assert!(!checksum_ok(&bad));
    }

    #[test]
    fn ustar_paths_split_into_prefix_and_name() {
        let mut h = blank(Format::Ustar);
        let long = format!("{}/{}", "d".repeat(120), "f".repeat(90));
        assert!(set_header_path(&mut h, long.as_bytes()));
        assert_eq!(header_path(&h), long.as_bytes());
        let too_long = "x".repeat(101);
        assert!(!set_header_path(&mut h, too_long.as_bytes()));
        let mut g = blank(Format::Gnu);
        assert!(!set_header_path(&mut g, long.as_bytes()));
    }

    #[test]
    fn scan_reads_long_names_and_pax_paths() {
        let long = format!("top/{}", "n".repeat(150));
        let gnu = NewMember {
            format: Format::Gnu,
            owner: None,
            mtime: 5,
        };
        let ustar = NewMember {
            format: Format::Ustar,
            owner: None,
            mtime: 5,
        };
        let mut archive = gnu.headers(long.as_bytes(), false, 3);
        archive.extend_from_slice(b"abc");
        archive.resize(archive.len() + 509, 0);
        let deep = format!("{}/f", "p".repeat(300));
        archive.extend(ustar.headers(deep.as_bytes(), true, 0));
        archive.extend_from_slice(&[0u8; 1024]);
        let layout = scan(&archive[..]).unwrap();
        assert_eq!(layout.members.len(), 2);
        assert_eq!(layout.members[0].path, long.as_bytes());
        assert_eq!(layout.members[0].kind, Kind::Regular);
        assert_eq!(layout.members[0].size, 3);
        assert_eq!(layout.members[0].extensions.len(), 1);
        assert_eq!(layout.members[1].path, deep.as_bytes());
        assert_eq!(layout.members[1].kind, Kind::Directory);
        assert_eq!(layout.len, archive.len() as u64);
        assert_eq!(layout.trailer, archive.len() as u64 - 1024);
    }

    #[test]
    fn scan_reports_damage() {
        let mut h = sample_header();
        h[0] = b'z';
        assert_eq!(
            scan(&h[..]).unwrap_err(),
            "it does not start with a tar header"
        );
        let good = sample_header();
        assert_eq!(
            scan(&good[..100]).unwrap_err(),
            "it ends in the middle of a block at offset 100"
        );
    }

    proptest! {
        #[test]
        fn pax_records_round_trip(entries in proptest::collection::vec(("[a-z.]{1,12}", "(?s).{0,200}"), 0..5)) {
            let records: Vec<PaxRecord> = entries
                .iter()
                .map(|(k, v)| PaxRecord { key: k.clone().into_bytes(), value: v.clone().into_bytes() })
                .collect();
            let data = serialize_pax(&records);
            prop_assert_eq!(parse_pax(&data), Some(records));
        }

        #[test]
        fn numbers_round_trip(v in any::<u64>()) {
            let mut f = [0u8; 12];
            set_number(&mut f, v);
            prop_assert_eq!(parse_number(&f), Some(v));
        }
    }
}
