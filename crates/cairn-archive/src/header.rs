//! Low-level ustar + PAX header encoding.
//!
//! Every header this crate writes goes through [`encode_entry`]: one optional PAX extended
//! header (`typeflag 'x'`) carrying records that do not fit ustar (long names, big ids,
//! extended attributes), followed by the ustar header itself. Record order is bytewise by key so
//! the bytes depend only on the entry.

use std::io::{self, Write};

/// Size of one tar block.
pub(crate) const BLOCK: usize = 512;

const NAME_LEN: usize = 100;
const MAX_OCTAL_7: u64 = 0o7_777_777;
const MAX_OCTAL_11: u64 = 0o77_777_777_777;

/// The ustar type flags this crate writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeFlag {
    Regular,
    HardLink,
    Symlink,
    Char,
    Block,
    Directory,
    Fifo,
    PaxExtended,
}

impl TypeFlag {
    fn byte(self) -> u8 {
        match self {
            TypeFlag::Regular => b'0',
            TypeFlag::HardLink => b'1',
            TypeFlag::Symlink => b'2',
            TypeFlag::Char => b'3',
            TypeFlag::Block => b'4',
            TypeFlag::Directory => b'5',
            TypeFlag::Fifo => b'6',
            TypeFlag::PaxExtended => b'x',
        }
    }
}

/// Extended attributes as (name, value) pairs.
pub(crate) type Xattrs = Vec<(Vec<u8>, Vec<u8>)>;

/// Everything one archive member's header says.
#[derive(Debug, Clone)]
pub(crate) struct HeaderSpec<'a> {
    pub name: &'a [u8],
    pub link: &'a [u8],
    pub flag: TypeFlag,
    /// Permission bits including setuid/setgid/sticky.
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    pub mtime: u64,
    pub dev_major: u64,
    pub dev_minor: u64,
    /// Extended attributes as (name, value), already sorted by name.
    pub xattrs: &'a [(Vec<u8>, Vec<u8>)],
}

/// Writes the PAX header (when needed) and the ustar header of one member. The caller writes
/// the data and its padding ([`padding`]) afterwards.
pub(crate) fn encode_entry(out: &mut dyn Write, spec: &HeaderSpec<'_>) -> io::Result<()> {
    let mut records: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    if spec.name.len() > NAME_LEN {
        records.push((b"path".to_vec(), spec.name.to_vec()));
    }
    if spec.link.len() > NAME_LEN {
        records.push((b"linkpath".to_vec(), spec.link.to_vec()));
    }
    if spec.uid > MAX_OCTAL_7 {
        records.push((b"uid".to_vec(), spec.uid.to_string().into_bytes()));
    }
    if spec.gid > MAX_OCTAL_7 {
        records.push((b"gid".to_vec(), spec.gid.to_string().into_bytes()));
    }
    if spec.size > MAX_OCTAL_11 {
        records.push((b"size".to_vec(), spec.size.to_string().into_bytes()));
    }
    if spec.mtime > MAX_OCTAL_11 {
        records.push((b"mtime".to_vec(), spec.mtime.to_string().into_bytes()));
    }
    for (name, value) in spec.xattrs {
        let mut key = b"SCHILY.xattr.".to_vec();
        key.extend_from_slice(name);
        records.push((key, value.clone()));
    }
    if !records.is_empty() {
        records.sort();
        let mut body = Vec::new();
        for (key, value) in &records {
            body.extend_from_slice(&pax_record(key, value));
        }
        let mut pax_name = b"./PaxHeaders/".to_vec();
        let base = basename(spec.name);
        let room = NAME_LEN - pax_name.len();
        pax_name.extend_from_slice(&base[..base.len().min(room)]);
        let pax = HeaderSpec {
            name: &pax_name,
            link: b"",
            flag: TypeFlag::PaxExtended,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: body.len() as u64,
            mtime: spec.mtime.min(MAX_OCTAL_11),
            dev_major: 0,
            dev_minor: 0,
            xattrs: &[],
        };
        out.write_all(&ustar_block(&pax))?;
        out.write_all(&body)?;
        out.write_all(padding(body.len() as u64))?;
    }
    out.write_all(&ustar_block(spec))
}

/// The zero bytes that pad `len` bytes of data to a whole block.
pub(crate) fn padding(len: u64) -> &'static [u8] {
    static ZEROS: [u8; BLOCK] = [0; BLOCK];
    let rem = (len % BLOCK as u64) as usize;
    if rem == 0 { &[] } else { &ZEROS[..BLOCK - rem] }
}

/// The two zero blocks that end an archive.
pub(crate) fn end_of_archive(out: &mut dyn Write) -> io::Result<()> {
    out.write_all(&[0u8; 2 * BLOCK])
}

fn basename(name: &[u8]) -> &[u8] {
    let trimmed = name.strip_suffix(b"/").unwrap_or(name);
    match trimmed.iter().rposition(|&b| b == b'/') {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    }
}

/// One PAX record: `"<len> <key>=<value>\n"` where `<len>` counts the whole record.
fn pax_record(key: &[u8], value: &[u8]) -> Vec<u8> {
    let rest = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = rest + 1;
    loop {
        let candidate = rest + len.to_string().len();
        if candidate == len {
            break;
        }
        len = candidate;
    }
    let mut rec = Vec::with_capacity(len);
    rec.extend_from_slice(len.to_string().as_bytes());
    rec.push(b' ');
    rec.extend_from_slice(key);
    rec.push(b'=');
    rec.extend_from_slice(value);
    rec.push(b'\n');
    debug_assert_eq!(rec.len(), len);
    rec
}

fn ustar_block(spec: &HeaderSpec<'_>) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    let name = &spec.name[..spec.name.len().min(NAME_LEN)];
    h[..name.len()].copy_from_slice(name);
    octal(&mut h[100..108], u64::from(spec.mode & 0o7777));
    octal(
        &mut h[108..116],
        if spec.uid > MAX_OCTAL_7 { 0 } else { spec.uid },
    );
    octal(
        &mut h[116..124],
        if spec.gid > MAX_OCTAL_7 { 0 } else { spec.gid },
    );
    octal(
        &mut h[124..136],
        if spec.size > MAX_OCTAL_11 {
            0
        } else {
            spec.size
        },
    );
    octal(&mut h[136..148], spec.mtime.min(MAX_OCTAL_11));
    h[156] = spec.flag.byte();
    let link = &spec.link[..spec.link.len().min(NAME_LEN)];
    h[157..157 + link.len()].copy_from_slice(link);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    // uname/gname stay empty: owners are numeric only.
    if matches!(spec.flag, TypeFlag::Char | TypeFlag::Block) {
        octal(&mut h[329..337], spec.dev_major);
        octal(&mut h[337..345], spec.dev_minor);
    }
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    let digits = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(digits.as_bytes());
    h
}

/// Zero-padded octal, NUL-terminated, filling the field. Values must fit (callers check).
fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let text = format!("{value:0width$o}");
    debug_assert!(
        text.len() == width,
        "octal value {value} does not fit {width} digits"
    );
    let text = &text.as_bytes()[text.len().saturating_sub(width)..];
    field[..width].copy_from_slice(text);
    field[width] = 0;
}

/// Largest device number a ustar header can hold.
pub(crate) const MAX_DEVICE_NUMBER: u64 = MAX_OCTAL_7;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_record_length_counts_itself() {
        assert_eq!(pax_record(b"path", b"a"), b"9 path=a\n");
        // 96 bytes of key/value + 3 separators + 2 digits = 101, which needs 3 digits: 102.
        let rec = pax_record(b"k", &[b'v'; 95]);
        assert_eq!(rec.len(), 102);
        assert!(rec.starts_with(b"102 k="));
    }

    #[test]
    fn checksum_matches_tar_crate_reader() {
        let mut out = Vec::new();
        let spec = HeaderSpec {
            name: b"./etc/passwd",
            link: b"",
            flag: TypeFlag::Regular,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 3,
            mtime: 1_700_000_000,
            dev_major: 0,
            dev_minor: 0,
            xattrs: &[],
        };
        encode_entry(&mut out, &spec).unwrap();
        out.extend_from_slice(b"abc");
        out.extend_from_slice(padding(3));
        end_of_archive(&mut out).unwrap();
        let mut ar = tar::Archive::new(out.as_slice());
        let mut entries = ar.entries().unwrap();
        let e = entries.next().unwrap().unwrap();
        assert_eq!(e.path_bytes().as_ref(), b"./etc/passwd");
        assert_eq!(e.header().mode().unwrap(), 0o644);
        assert_eq!(e.header().mtime().unwrap(), 1_700_000_000);
        assert!(e.header().as_ustar().is_some());
    }

    #[test]
    fn long_names_and_xattrs_go_to_pax() {
        let long = [b'a'; 150];
        let mut name = b"./".to_vec();
        name.extend_from_slice(&long);
        let xattrs = vec![(b"security.capability".to_vec(), vec![1, 0, 0, 2, 0])];
        let spec = HeaderSpec {
            name: &name,
            link: b"",
            flag: TypeFlag::Regular,
            mode: 0o755,
            uid: 5_000_000,
            gid: 1,
            size: 0,
            mtime: 0,
            dev_major: 0,
            dev_minor: 0,
            xattrs: &xattrs,
        };
        let mut out = Vec::new();
        encode_entry(&mut out, &spec).unwrap();
        end_of_archive(&mut out).unwrap();
        let mut ar = tar::Archive::new(out.as_slice());
        let mut entries = ar.entries().unwrap();
        let mut e = entries.next().unwrap().unwrap();
        assert_eq!(e.path_bytes().as_ref(), name.as_slice());
        let exts: Vec<(Vec<u8>, Vec<u8>)> = e
            .pax_extensions()
            .unwrap()
            .unwrap()
            .map(|x| {
                let x = x.unwrap();
                (x.key_bytes().to_vec(), x.value_bytes().to_vec())
            })
            .collect();
        assert!(exts.contains(&(
            b"SCHILY.xattr.security.capability".to_vec(),
            vec![1, 0, 0, 2, 0]
        )));
        assert!(exts.contains(&(b"uid".to_vec(), b"5000000".to_vec())));
    }
}
