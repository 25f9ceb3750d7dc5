//! Reproducible tar archives of a directory tree.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::ArchiveError;
use crate::hashing::HashWriter;
use crate::header::{self, HeaderSpec, TypeFlag, Xattrs};

/// How to archive a root.
///
/// Construct with [`TarOptions::new`] and set the public fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TarOptions {
    /// Every mtime newer than this (seconds since 1970) is stored as this; older ones are kept.
    pub source_date_epoch: u64,
    /// Glob patterns (`*`, `?`, `[..]`, `**`) matched against paths relative to the root
    /// (`boot/vmlinuz*`, `/lib/modules/*`; a leading `/` or `./` is ignored, `*` does not cross
    /// `/`). A matching directory is left out with everything below it, so a plain path works
    /// as a prefix.
    pub exclude: Vec<String>,
    /// Entries added to the archive, or replacing what the root has at that path, without
    /// touching the root on disk. Missing parent directories are added as `0755 0:0`.
    /// Later entries win over earlier ones; overlay entries win over `exclude`.
    pub overlay: Vec<OverlayEntry>,
    /// Extended attributes whose names start with one of these are not stored.
    pub drop_xattrs: Vec<String>,
}

impl TarOptions {
    /// Options that archive everything, with times clamped to `source_date_epoch`.
    pub fn new(source_date_epoch: u64) -> Self {
        TarOptions {
            source_date_epoch,
            exclude: Vec::new(),
            overlay: Vec::new(),
            drop_xattrs: Vec::new(),
        }
    }
}

/// One entry added by the caller instead of read from the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayEntry {
    /// Path inside the archive (`etc/wsl.conf` or `/etc/wsl.conf`).
    pub path: String,
    /// What the entry is.
    pub kind: OverlayKind,
    /// Permission bits (`0o644`); ignored for symlinks, which are stored as `0777`.
    pub mode: u32,
    /// Numeric owner.
    pub uid: u32,
    /// Numeric group.
    pub gid: u32,
}

/// The kind and content of an [`OverlayEntry`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OverlayKind {
    /// A regular file with this content.
    File(Vec<u8>),
    /// A symbolic link to this target.
    Symlink(String),
    /// A directory (its children come from the root and other overlay entries).
    Directory,
}

impl OverlayEntry {
    /// A regular file owned by root.
    pub fn file(path: impl Into<String>, data: impl Into<Vec<u8>>, mode: u32) -> Self {
        OverlayEntry {
            path: path.into(),
            kind: OverlayKind::File(data.into()),
            mode,
            uid: 0,
            gid: 0,
        }
    }

    /// A symbolic link owned by root.
    pub fn symlink(path: impl Into<String>, target: impl Into<String>) -> Self {
        OverlayEntry {
            path: path.into(),
            kind: OverlayKind::Symlink(target.into()),
            mode: 0o777,
            uid: 0,
            gid: 0,
        }
    }

    /// A directory owned by root.
    pub fn directory(path: impl Into<String>, mode: u32) -> Self {
        OverlayEntry {
            path: path.into(),
            kind: OverlayKind::Directory,
            mode,
            uid: 0,
            gid: 0,
        }
    }
}

/// What [`write_tar`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TarSummary {
    /// Archive members written (PAX extended headers not counted).
    pub entries: u64,
    pub regular_files: u64,
    pub directories: u64,
    pub symlinks: u64,
    pub hard_links: u64,
    /// Character and block devices.
    pub devices: u64,
    pub fifos: u64,
    /// Extended attributes stored (over all entries).
    pub xattrs: u64,
    /// Length of the uncompressed tar stream.
    pub bytes: u64,
    /// SHA-256 of the uncompressed tar stream, lowercase hex.
    pub sha256: String,
    /// Files left out because tar cannot hold them (sockets), with the reason.
    pub skipped: Vec<Skipped>,
}

/// A file that was not archived, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Path relative to the root (`run/socket`).
    pub path: PathBuf,
    pub reason: String,
}

#[derive(Debug, Clone)]
enum Kind {
    Directory,
    File { size: u64 },
    Symlink { target: Vec<u8> },
    HardLink { target: Vec<u8> },
    Char { major: u64, minor: u64 },
    Block { major: u64, minor: u64 },
    Fifo,
}

#[derive(Debug, Clone)]
enum Source {
    Disk(PathBuf),
    Overlay(usize),
    Synthesized,
}

#[derive(Debug, Clone)]
struct Node {
    kind: Kind,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: u64,
    xattrs: Xattrs,
    source: Source,
    /// (dev, ino) for non-directories with more than one link.
    link_key: Option<(u64, u64)>,
}

/// Writes a reproducible tar of `root` to `out`.
///
/// Members are named `./` (the root itself), `./etc/`, `./etc/passwd`, … : the form that
/// `tar -C root -c .`, mmdebstrap and `wsl --export` produce, which GNU tar, umoci, podman and
/// Microsoft's WSL validator all accept. They come sorted bytewise by path, parents before
/// children. Owners are numeric only (empty uname/gname), permission bits are kept, mtimes are
/// clamped to [`TarOptions::source_date_epoch`] (negative ones become 0), hard links become
/// tar hard links to the first path in that order, extended attributes become PAX
/// `SCHILY.xattr.<name>` records. Sockets are skipped and listed in [`TarSummary::skipped`].
pub fn write_tar(
    root: &Path,
    out: &mut dyn Write,
    opts: &TarOptions,
) -> Result<TarSummary, ArchiveError> {
    let (nodes, skipped) = collect(root, opts)?;
    let mut sink = HashWriter::new(io::BufWriter::with_capacity(1 << 20, out));
    let mut summary = TarSummary {
        entries: 0,
        regular_files: 0,
        directories: 0,
        symlinks: 0,
        hard_links: 0,
        devices: 0,
        fifos: 0,
        xattrs: 0,
        bytes: 0,
        sha256: String::new(),
        skipped,
    };
    let mut buf = vec![0u8; 256 * 1024];
    for (rel, node) in &nodes {
        emit(&mut sink, rel, node, opts, &mut buf, &mut summary)?;
    }
    header::end_of_archive(&mut sink).map_err(ArchiveError::output("tar stream"))?;
    let (bytes, sha256, mut inner) = sink.finish();
    inner.flush().map_err(ArchiveError::output("tar stream"))?;
    summary.bytes = bytes;
    summary.sha256 = sha256;
    Ok(summary)
}

fn member_name(rel: &[u8], dir: bool) -> Vec<u8> {
    let mut name = b"./".to_vec();
    name.extend_from_slice(rel);
    if dir && !rel.is_empty() {
        name.push(b'/');
    }
    name
}

fn emit(
    out: &mut dyn Write,
    rel: &[u8],
    node: &Node,
    opts: &TarOptions,
    buf: &mut [u8],
    summary: &mut TarSummary,
) -> Result<(), ArchiveError> {
    let (flag, size, link, major, minor) = match &node.kind {
        Kind::Directory => (TypeFlag::Directory, 0, Vec::new(), 0, 0),
        Kind::File { size } => (TypeFlag::Regular, *size, Vec::new(), 0, 0),
        Kind::Symlink { target } => (TypeFlag::Symlink, 0, target.clone(), 0, 0),
        Kind::HardLink { target } => (TypeFlag::HardLink, 0, member_name(target, false), 0, 0),
        Kind::Char { major, minor } => (TypeFlag::Char, 0, Vec::new(), *major, *minor),
        Kind::Block { major, minor } => (TypeFlag::Block, 0, Vec::new(), *major, *minor),
        Kind::Fifo => (TypeFlag::Fifo, 0, Vec::new(), 0, 0),
    };
    let name = member_name(rel, matches!(node.kind, Kind::Directory));
    let spec = HeaderSpec {
        name: &name,
        link: &link,
        flag,
        mode: node.mode,
        uid: node.uid,
        gid: node.gid,
        size,
        mtime: node.mtime,
        dev_major: major,
        dev_minor: minor,
        xattrs: &node.xattrs,
    };
    header::encode_entry(out, &spec).map_err(ArchiveError::output("tar stream"))?;
    summary.entries += 1;
    summary.xattrs += node.xattrs.len() as u64;
    match &node.kind {
        Kind::Directory => summary.directories += 1,
        Kind::File { .. } => summary.regular_files += 1,
        Kind::Symlink { .. } => summary.symlinks += 1,
        Kind::HardLink { .. } => summary.hard_links += 1,
        Kind::Char { .. } | Kind::Block { .. } => summary.devices += 1,
        Kind::Fifo => summary.fifos += 1,
    }
    if let Kind::File { size } = node.kind {
        match &node.source {
            Source::Disk(path) => copy_file(path, size, out, buf)?,
            Source::Overlay(i) => {
                if let OverlayKind::File(data) = &opts.overlay[*i].kind {
                    out.write_all(data)
                        .map_err(ArchiveError::output("tar stream"))?;
                }
            }
            Source::Synthesized => {}
        }
        out.write_all(header::padding(size))
            .map_err(ArchiveError::output("tar stream"))?;
    }
    Ok(())
}

fn copy_file(
    path: &Path,
    size: u64,
    out: &mut dyn Write,
    buf: &mut [u8],
) -> Result<(), ArchiveError> {
    let mut file = fs_err::File::open(path)?;
    let mut done: u64 = 0;
    while done < size {
        let want = usize::try_from((size - done).min(buf.len() as u64)).unwrap_or(buf.len());
        let n = file.read(&mut buf[..want])?;
        if n == 0 {
            return Err(ArchiveError::FileChanged {
                path: path.to_owned(),
                expected: size,
                found: done,
            });
        }
        out.write_all(&buf[..n])
            .map_err(ArchiveError::output("tar stream"))?;
        done += n as u64;
    }
    let extra = file.read(&mut buf[..1])?;
    if extra != 0 {
        return Err(ArchiveError::FileChanged {
            path: path.to_owned(),
            expected: size,
            found: size + 1,
        });
    }
    Ok(())
}

/// Normalises a user-given archive path: no leading `/` or `./`, no trailing `/`, no `.` or
/// `..` components, no empty components.
pub(crate) fn normalize_rel(path: &str) -> Option<String> {
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => continue,
            ".." => return None,
            p if p.contains('\0') => return None,
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("/"))
    }
}

fn build_excludes(patterns: &[String]) -> Result<GlobSet, ArchiveError> {
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        let trimmed = pattern
            .trim_start_matches("./")
            .trim_start_matches('/')
            .trim_end_matches('/');
        let glob = GlobBuilder::new(trimmed)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|source| ArchiveError::BadExclude {
                pattern: pattern.clone(),
                source,
            })?;
        set.add(glob);
    }
    set.build().map_err(|source| ArchiveError::BadExclude {
        pattern: patterns.join(", "),
        source,
    })
}

fn clamp_mtime(mtime: i64, epoch: u64) -> u64 {
    u64::try_from(mtime).unwrap_or(0).min(epoch)
}

/// glibc's encoding of `dev_t`.
fn dev_major(rdev: u64) -> u64 {
    ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff)
}

fn dev_minor(rdev: u64) -> u64 {
    (rdev & 0xff) | ((rdev >> 12) & !0xff)
}

const ENOTSUP: i32 = 95;

fn read_xattrs(path: &Path, drop: &[String]) -> Result<Xattrs, ArchiveError> {
    let names = match xattr::list(path) {
        Ok(names) => names,
        Err(e) if e.raw_os_error() == Some(ENOTSUP) || e.kind() == io::ErrorKind::Unsupported => {
            return Ok(Vec::new());
        }
        Err(source) => {
            return Err(ArchiveError::Xattr {
                path: path.to_owned(),
                name: "(list)".into(),
                source,
            });
        }
    };
    let mut out = Vec::new();
    for name in names {
        let bytes = name.as_bytes();
        if drop.iter().any(|d| bytes.starts_with(d.as_bytes())) {
            continue;
        }
        match xattr::get(path, &name) {
            Ok(Some(value)) => out.push((bytes.to_vec(), value)),
            Ok(None) => {}
            Err(source) => {
                return Err(ArchiveError::Xattr {
                    path: path.to_owned(),
                    name: name.to_string_lossy().into_owned(),
                    source,
                });
            }
        }
    }
    out.sort();
    Ok(out)
}

fn disk_node(
    path: &Path,
    meta: &std::fs::Metadata,
    opts: &TarOptions,
) -> Result<Option<Node>, ArchiveError> {
    let ft = meta.file_type();
    let kind = if ft.is_dir() {
        Kind::Directory
    } else if ft.is_file() {
        Kind::File { size: meta.len() }
    } else if ft.is_symlink() {
        Kind::Symlink {
            target: fs_err::read_link(path)?
                .into_os_string()
                .as_bytes()
                .to_vec(),
        }
    } else if ft.is_char_device() || ft.is_block_device() {
        let (major, minor) = (dev_major(meta.rdev()), dev_minor(meta.rdev()));
        if major > header::MAX_DEVICE_NUMBER || minor > header::MAX_DEVICE_NUMBER {
            return Err(ArchiveError::DeviceNumberTooLarge {
                path: path.to_owned(),
                major,
                minor,
            });
        }
        if ft.is_char_device() {
            Kind::Char { major, minor }
        } else {
            Kind::Block { major, minor }
        }
    } else if ft.is_fifo() {
        Kind::Fifo
    } else {
        return Ok(None);
    };
    let link_key = (!ft.is_dir() && meta.nlink() > 1).then(|| (meta.dev(), meta.ino()));
    Ok(Some(Node {
        kind,
        mode: meta.mode() & 0o7777,
        uid: u64::from(meta.uid()),
        gid: u64::from(meta.gid()),
        mtime: clamp_mtime(meta.mtime(), opts.source_date_epoch),
        xattrs: read_xattrs(path, &opts.drop_xattrs)?,
        source: Source::Disk(path.to_owned()),
        link_key,
    }))
}

type Nodes = BTreeMap<Vec<u8>, Node>;

fn collect(root: &Path, opts: &TarOptions) -> Result<(Nodes, Vec<Skipped>), ArchiveError> {
    let root_meta = fs_err::metadata(root)?;
    if !root_meta.is_dir() {
        return Err(ArchiveError::RootNotDirectory {
            path: root.to_owned(),
        });
    }
    let excludes = build_excludes(&opts.exclude)?;
    let mut nodes: Nodes = BTreeMap::new();
    let mut skipped = Vec::new();
    let mut root_node =
        disk_node(root, &root_meta, opts)?.ok_or_else(|| ArchiveError::RootNotDirectory {
            path: root.to_owned(),
        })?;
    root_node.link_key = None;
    nodes.insert(Vec::new(), root_node);

    let mut stack: Vec<(PathBuf, Vec<u8>)> = vec![(root.to_owned(), Vec::new())];
    while let Some((dir, rel)) = stack.pop() {
        for entry in fs_err::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let mut child_rel = rel.clone();
            if !child_rel.is_empty() {
                child_rel.push(b'/');
            }
            child_rel.extend_from_slice(name.as_bytes());
            if excludes.is_match(Path::new(OsStr::from_bytes(&child_rel))) {
                continue;
            }
            let path = entry.path();
            let meta = fs_err::symlink_metadata(&path)?;
            match disk_node(&path, &meta, opts)? {
                Some(node) => {
                    if matches!(node.kind, Kind::Directory) {
                        stack.push((path, child_rel.clone()));
                    }
                    nodes.insert(child_rel, node);
                }
                None => skipped.push(Skipped {
                    path: PathBuf::from(OsStr::from_bytes(&child_rel)),
                    reason: if meta.file_type().is_socket() {
                        "socket: tar cannot hold sockets; the program that listens on it creates it again at run time".into()
                    } else {
                        "unsupported file type".into()
                    },
                }),
            }
        }
    }
    apply_overlay(&mut nodes, opts)?;
    link_hard_links(&mut nodes);
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((nodes, skipped))
}

fn apply_overlay(nodes: &mut Nodes, opts: &TarOptions) -> Result<(), ArchiveError> {
    for (index, entry) in opts.overlay.iter().enumerate() {
        let bad = |reason: String| ArchiveError::BadOverlay {
            path: entry.path.clone(),
            reason,
        };
        let rel = normalize_rel(&entry.path)
            .ok_or_else(|| bad("expected a path below the root without `..` or NUL".into()))?;
        let rel = rel.into_bytes();
        // Parents must be directories; missing ones are added.
        for (i, &b) in rel.iter().enumerate() {
            if b != b'/' {
                continue;
            }
            let parent = &rel[..i];
            match nodes.get(parent) {
                Some(node) if matches!(node.kind, Kind::Directory) => {}
                Some(_) => {
                    return Err(bad(format!(
                        "its parent {} is not a directory in the root",
                        String::from_utf8_lossy(parent)
                    )));
                }
                None => {
                    nodes.insert(
                        parent.to_vec(),
                        Node {
                            kind: Kind::Directory,
                            mode: 0o755,
                            uid: 0,
                            gid: 0,
                            mtime: opts.source_date_epoch,
                            xattrs: Vec::new(),
                            source: Source::Synthesized,
                            link_key: None,
                        },
                    );
                }
            }
        }
        let (kind, mode) = match &entry.kind {
            OverlayKind::File(data) => (
                Kind::File {
                    size: data.len() as u64,
                },
                entry.mode & 0o7777,
            ),
            OverlayKind::Symlink(target) => (
                Kind::Symlink {
                    target: target.as_bytes().to_vec(),
                },
                0o777,
            ),
            OverlayKind::Directory => (Kind::Directory, entry.mode & 0o7777),
        };
        let new_is_dir = matches!(kind, Kind::Directory);
        if let Some(old) = nodes.get(&rel) {
            let old_is_dir = matches!(old.kind, Kind::Directory);
            if old_is_dir != new_is_dir {
                return Err(bad(format!(
                    "the root has a {} there; an overlay may replace a directory only with a directory and a non-directory only with a non-directory",
                    if old_is_dir {
                        "directory"
                    } else {
                        "non-directory"
                    }
                )));
            }
        }
        nodes.insert(
            rel,
            Node {
                kind,
                mode,
                uid: u64::from(entry.uid),
                gid: u64::from(entry.gid),
                mtime: opts.source_date_epoch,
                xattrs: Vec::new(),
                source: Source::Overlay(index),
                link_key: None,
            },
        );
    }
    Ok(())
}

/// The first path (bytewise) of each inode keeps its content; later paths become hard links.
fn link_hard_links(nodes: &mut Nodes) {
    let mut first: HashMap<(u64, u64), Vec<u8>> = HashMap::new();
    for (rel, node) in nodes.iter_mut() {
        let Some(key) = node.link_key else { continue };
        match first.get(&key) {
            Some(target) => {
                node.kind = Kind::HardLink {
                    target: target.clone(),
                };
                node.xattrs.clear();
            }
            None => {
                first.insert(key, rel.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_rel_rejects_escapes() {
        assert_eq!(
            normalize_rel("/etc/wsl.conf").as_deref(),
            Some("etc/wsl.conf")
        );
        assert_eq!(normalize_rel("./usr//lib/").as_deref(), Some("usr/lib"));
        assert_eq!(normalize_rel("../etc"), None);
        assert_eq!(normalize_rel("/"), None);
    }

    #[test]
    fn device_numbers_decode_like_glibc() {
        // makedev(259, 70000)
        let (maj, min) = (259u64, 70_000u64);
        let dev = ((maj & 0xfffff000) << 32)
            | ((maj & 0xfff) << 8)
            | ((min & 0xffffff00) << 12)
            | (min & 0xff);
        assert_eq!((dev_major(dev), dev_minor(dev)), (maj, min));
    }

    #[test]
    fn mtimes_clamp_down_only() {
        assert_eq!(clamp_mtime(2_000, 1_000), 1_000);
        assert_eq!(clamp_mtime(500, 1_000), 500);
        assert_eq!(clamp_mtime(-5, 1_000), 0);
    }

    #[test]
    fn excludes_match_components_and_prefixes() {
        let set = build_excludes(&["/boot/vmlinuz*".into(), "lib/modules".into()]).unwrap();
        assert!(set.is_match("boot/vmlinuz-6.1"));
        assert!(!set.is_match("boot/grub/vmlinuz"));
        assert!(set.is_match("lib/modules"));
        assert!(!set.is_match("lib/modules-load.d"));
    }
}
