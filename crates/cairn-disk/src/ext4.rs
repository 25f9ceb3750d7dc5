//! The ext4 root filesystem, written into the disk image without mounting.
//!
//! `mkfs.ext4 -d DIR` (e2fsprogs 1.47.0) is not reproducible: it copies each inode's
//! ctime and atime from the host (the kernel sets ctime; nobody can clamp it) and walks
//! directories in `readdir` order, which depends on the host filesystem (hash order on
//! ext4, with a per-filesystem seed; creation order on tmpfs). So the filesystem is made
//! empty with `mkfs.ext4` (features pinned by a private `mke2fs.conf`, UUID and hash seed
//! from [`DiskIds`](crate::DiskIds), `E2FSPROGS_FAKE_TIME` = source date epoch), and then
//! populated by one `debugfs -w -f SCRIPT` run whose script this module generates from a
//! walk of the tree in byte order of names. debugfs uses the same library calls as
//! `mkfs.ext4 -d` (`write` copies a host file, holes and all), and the script sets owner,
//! mode, mtime and extended attributes (`security.capability`, ACLs, SELinux labels) and
//! recreates hard links. atime, ctime and crtime of every inode are the source date epoch.
//! `e2fsck -fn` checks the result.

use crate::DiskError;
use crate::ids::DiskIds;
use crate::tools::{self, DEBUGFS, E2FSCK, MKFS_EXT4};
use std::collections::HashMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub(crate) const BLOCK: u64 = 4096;
const MIB: u64 = 1 << 20;
/// Usable bytes of a directory block (4096 minus the metadata_csum tail entry).
const DIR_BLOCK_USABLE: u64 = BLOCK - 12;
/// The longest directory entry (255-byte name).
const MAX_REC_LEN: u64 = 8 + 255 + 1;
/// debugfs reads script lines with fgets into a BUFSIZ (8192) buffer.
const MAX_LINE: usize = 8000;

/// What a walk of the root tree found: the debugfs script and what sizing needs.
#[derive(Debug)]
pub(crate) struct Tree {
    script: Vec<u8>,
    /// Distinct extended attribute values; the script refers to `x/<index>`.
    xattr_values: Vec<Vec<u8>>,
    /// Inodes the tree needs (files counted once per hard-link group).
    pub inodes: u64,
    /// 4 KiB blocks the content needs: file data, directories, long symlinks, xattr blocks.
    pub blocks: u64,
    root_uid: u32,
    root_gid: u32,
}

fn rec_len(name_len: usize) -> u64 {
    (8 + name_len as u64 + 3) & !3
}

/// An upper bound on the blocks a linear directory needs when entries are added
/// first-fit: a block is only added when every block has less than one entry's room.
fn dir_blocks_bound(entry_bytes: u64) -> u64 {
    entry_bytes / (DIR_BLOCK_USABLE - MAX_REC_LEN) + 1
}

/// Appends `s` as one debugfs (libss) argument: double quotes, `"` doubled.
fn push_quoted(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// A name as an inode spec in the current directory: `./-x` for names that start with
/// `-` (so no getopt sees an option).
fn spec_of(name: &[u8]) -> Vec<u8> {
    if name.first() == Some(&b'-') {
        let mut v = b"./".to_vec();
        v.extend_from_slice(name);
        v
    } else {
        name.to_vec()
    }
}

struct Walker<'a> {
    root: &'a Path,
    sde: u64,
    script: Vec<u8>,
    xattr_index: HashMap<Vec<u8>, usize>,
    xattr_values: Vec<Vec<u8>>,
    /// (dev, ino) → (image path of the first link, links seen).
    links: HashMap<(u64, u64), (Vec<u8>, u64)>,
    link_order: Vec<(u64, u64)>,
    inodes: u64,
    blocks: u64,
}

impl Walker<'_> {
    fn line(&mut self, parts: &[&[u8]], host: &Path) -> Result<(), DiskError> {
        let start = self.script.len();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                self.script.push(b' ');
            }
            self.script.extend_from_slice(p);
        }
        self.script.push(b'\n');
        if self.script.len() - start > MAX_LINE {
            return Err(DiskError::Unsupported {
                path: host.to_path_buf(),
                reason: "the path is too long for debugfs (more than 8000 bytes)".into(),
            });
        }
        Ok(())
    }

    fn quoted(s: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(s.len() + 2);
        push_quoted(&mut v, s);
        v
    }

    /// `sif`/`ea_set` lines for one inode; counts an xattr block when the attributes
    /// will not fit in the inode.
    fn attrs(
        &mut self,
        spec: &[u8],
        host: &Path,
        meta: &std::fs::Metadata,
        default_mode: Option<u32>,
    ) -> Result<(), DiskError> {
        let q = Self::quoted(spec);
        let mode = meta.mode();
        if default_mode != Some(mode & 0o7777) {
            let v = format!("0{mode:o}");
            self.line(&[b"sif", &q, b"mode", v.as_bytes()], host)?;
        }
        if meta.uid() != 0 {
            let v = meta.uid().to_string();
            self.line(&[b"sif", &q, b"uid", v.as_bytes()], host)?;
        }
        if meta.gid() != 0 {
            let v = meta.gid().to_string();
            self.line(&[b"sif", &q, b"gid", v.as_bytes()], host)?;
        }
        let mtime = u64::try_from(meta.mtime()).unwrap_or(0).min(self.sde);
        if mtime != self.sde {
            let v = format!("@{mtime}");
            self.line(&[b"sif", &q, b"mtime", v.as_bytes()], host)?;
        }
        let mut names: Vec<OsString> = xattr::list(host)
            .map_err(|e| io_at(e, host, "listing extended attributes of"))?
            .collect();
        names.sort();
        let mut xattr_bytes = 0;
        for name in names {
            let Some(value) =
                xattr::get(host, &name).map_err(|e| io_at(e, host, "reading attributes of"))?
            else {
                continue;
            };
            check_bytes(name.as_bytes(), host, "extended attribute name")?;
            xattr_bytes += 16 + name.len() as u64 + value.len() as u64;
            let idx = match self.xattr_index.get(&value) {
                Some(&i) => i,
                None => {
                    let i = self.xattr_values.len();
                    self.xattr_index.insert(value.clone(), i);
                    self.xattr_values.push(value);
                    i
                }
            };
            let file = format!("x/{idx}");
            let qn = Self::quoted(name.as_bytes());
            self.line(&[b"ea_set -f", file.as_bytes(), &q, &qn], host)?;
        }
        if xattr_bytes > 96 {
            self.blocks += 1;
        }
        Ok(())
    }

    /// Populates the image directory `image_dir` (absolute, as bytes) from `host_rel`.
    fn dir(&mut self, host_rel: &Path, image_dir: &[u8]) -> Result<(), DiskError> {
        let host_dir = self.root.join(host_rel);
        let mut names: Vec<OsString> = fs_err::read_dir(&host_dir)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()?;
        names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));

        let mut metas = Vec::with_capacity(names.len());
        let mut entry_bytes = 24; // "." and ".."
        let mut may_link = false;
        for n in &names {
            let p = host_dir.join(n);
            check_bytes(n.as_bytes(), &p, "file name")?;
            let m = fs_err::symlink_metadata(&p)?;
            entry_bytes += rec_len(n.len());
            may_link |= !m.is_dir() && !m.file_type().is_symlink() && m.nlink() > 1;
            metas.push(m);
        }
        let needed = dir_blocks_bound(entry_bytes);
        self.blocks += needed;

        let qdir = Self::quoted(image_dir);
        self.line(&[b"cd", &qdir], &host_dir)?;
        if may_link {
            // debugfs `ln` does not grow a full directory; give it room up front.
            for _ in 1..needed {
                self.line(&[b"expand ."], &host_dir)?;
            }
        }

        let mut subdirs = Vec::new();
        for (n, m) in names.iter().zip(&metas) {
            let nb = n.as_bytes();
            let host = host_dir.join(n);
            let rel = host_rel.join(n);
            let mut image_path = image_dir.to_vec();
            if image_path.last() != Some(&b'/') {
                image_path.push(b'/');
            }
            image_path.extend_from_slice(nb);
            let qn = Self::quoted(nb);
            let qspec = Self::quoted(&spec_of(nb));
            let ft = m.file_type();

            if !ft.is_dir() && !ft.is_symlink() && m.nlink() > 1 {
                let key = (m.dev(), m.ino());
                if let Some((first, count)) = self.links.get_mut(&key) {
                    *count += 1;
                    let qfirst = Self::quoted(first);
                    self.line(&[b"ln", &qfirst, &qn], &host)?;
                    continue;
                }
                self.links.insert(key, (image_path.clone(), 1));
                self.link_order.push(key);
            }

            if ft.is_dir() {
                self.inodes += 1;
                let is_lost_found = image_dir == b"/" && nb == b"lost+found";
                if !is_lost_found {
                    self.line(&[b"mkdir", &qspec], &host)?;
                }
                subdirs.push((rel, image_path, n.clone(), m.clone()));
                continue;
            }
            self.inodes += 1;
            let default_mode = if ft.is_file() {
                self.blocks += m.len().div_ceil(BLOCK) + m.len() / (128 * MIB);
                let mut host_arg = b"r/".to_vec();
                host_arg.extend_from_slice(rel.as_os_str().as_bytes());
                let qh = Self::quoted(&host_arg);
                self.line(&[b"write", &qh, &qn], &host)?;
                Some(m.mode() & 0o7777)
            } else if ft.is_symlink() {
                let target = fs_err::read_link(&host)?;
                let tb = target.as_os_str().as_bytes();
                check_bytes(tb, &host, "symlink target")?;
                if tb.len() >= 60 {
                    self.blocks += 1;
                }
                let qt = Self::quoted(tb);
                self.line(&[b"symlink", &qspec, &qt], &host)?;
                Some(m.mode() & 0o7777)
            } else if ft.is_char_device() || ft.is_block_device() {
                let (major, minor) = dev_numbers(m.rdev());
                let kind: &[u8] = if ft.is_char_device() { b"c" } else { b"b" };
                let (a, b) = (major.to_string(), minor.to_string());
                self.line(&[b"mknod", &qn, kind, a.as_bytes(), b.as_bytes()], &host)?;
                None
            } else if ft.is_fifo() {
                self.line(&[b"mknod", &qn, b"p"], &host)?;
                None
            } else {
                return Err(DiskError::Unsupported {
                    path: host,
                    reason: "sockets cannot be stored in a disk image; remove it from the root"
                        .into(),
                });
            };
            self.attrs(&spec_of(nb), &host, m, default_mode)?;
        }

        for (rel, image_path, _, _) in &subdirs {
            self.dir(rel, image_path)?;
        }
        // Directory attributes last, once nothing is added to them any more.
        if !subdirs.is_empty() {
            self.line(&[b"cd", &qdir], &host_dir)?;
        }
        for (rel, _, name, m) in &subdirs {
            let host = self.root.join(rel);
            self.attrs(&spec_of(name.as_bytes()), &host, m, Some(0o755))?;
        }
        Ok(())
    }
}

fn io_at(e: std::io::Error, p: &Path, what: &str) -> DiskError {
    DiskError::Io(std::io::Error::new(
        e.kind(),
        format!("{what} {}: {e}", p.display()),
    ))
}

fn check_bytes(b: &[u8], p: &Path, what: &str) -> Result<(), DiskError> {
    if b.iter().any(|&c| c == b'\n' || c == b'\r') {
        return Err(DiskError::Unsupported {
            path: p.to_path_buf(),
            reason: format!("the {what} contains a newline or carriage return"),
        });
    }
    Ok(())
}

/// glibc's `major()`/`minor()`.
fn dev_numbers(rdev: u64) -> (u64, u64) {
    let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
    let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
    (major, minor)
}

/// Walks `root` and generates the debugfs script. Times later than `sde` are clamped.
pub(crate) fn scan(root: &Path, sde: u64) -> Result<Tree, DiskError> {
    let meta = fs_err::metadata(root)?;
    if !meta.is_dir() {
        return Err(DiskError::InvalidSpec {
            field: "root_dir",
            reason: format!("{} is not a directory", root.display()),
        });
    }
    let mut w = Walker {
        root,
        sde,
        script: Vec::new(),
        xattr_index: HashMap::new(),
        xattr_values: Vec::new(),
        links: HashMap::new(),
        link_order: Vec::new(),
        inodes: 11,
        blocks: 0,
    };
    w.dir(Path::new(""), b"/")?;
    w.line(&[b"cd \"/\""], root)?;
    w.attrs(b"<2>", root, &meta, Some(0o755))?;
    for key in std::mem::take(&mut w.link_order) {
        let (first, count) = w.links[&key].clone();
        if count > 1 {
            let qf = Walker::quoted(&first);
            let c = count.to_string();
            w.line(&[b"sif", &qf, b"links_count", c.as_bytes()], root)?;
        }
    }
    Ok(Tree {
        script: w.script,
        xattr_values: w.xattr_values,
        inodes: w.inodes,
        blocks: w.blocks,
        root_uid: meta.uid(),
        root_gid: meta.gid(),
    })
}

/// Journal size in MiB for a filesystem of `bytes` (pinned here rather than left to the
/// e2fsprogs version).
fn journal_mib(bytes: u64) -> u64 {
    match bytes {
        b if b < 128 * MIB => 4,
        b if b < 1024 * MIB => 16,
        b if b < 2048 * MIB => 32,
        _ => 64,
    }
}

/// Inodes to create: what the tree needs with room to grow, at least one per 16 KiB.
fn inode_count(tree: &Tree, bytes: u64) -> u64 {
    (tree.inodes * 3 / 2 + 4096).max(bytes / 16384)
}

/// A filesystem size that holds the tree with a generous margin: content plus 20 %,
/// inode tables, journal and metadata, then 5 % reserved blocks; at least 128 MiB,
/// rounded up to whole MiB.
pub(crate) fn auto_size(tree: &Tree) -> u64 {
    let content = tree.blocks * BLOCK;
    let inode_tables = (tree.inodes * 3 / 2 + 4096) * 256;
    let est = content + content / 5 + inode_tables + 64 * MIB + 32 * MIB;
    let with_reserve = est * 100 / 95;
    with_reserve.div_ceil(MIB).max(128) * MIB
}

const MKE2FS_CONF: &str = "\
[defaults]
\tbase_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
\tdefault_mntopts = acl,user_xattr
\tenable_periodic_fsck = 0
\tblocksize = 4096
\tinode_size = 256
\tinode_ratio = 16384
\treserved_ratio = 5.0
\tlazy_itable_init = false
\tlazy_journal_init = false

[fs_types]
\text4 = {
\t\tfeatures = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
\t}
";

/// Makes and populates the filesystem inside `device` (a path relative to `work`, the
/// private temporary directory, which also holds `r` → the root tree) at byte `offset`.
pub(crate) fn make(
    work: &Path,
    device: &str,
    offset: u64,
    bytes: u64,
    ids: &DiskIds,
    tree: &Tree,
    sde: u64,
) -> Result<(), DiskError> {
    let mkfs = tools::find(&MKFS_EXT4)?;
    let debugfs = tools::find(&DEBUGFS)?;
    let e2fsck = tools::find(&E2FSCK)?;

    let conf = work.join("mke2fs.conf");
    fs_err::write(&conf, MKE2FS_CONF)?;
    let xdir = work.join("x");
    fs_err::create_dir_all(&xdir)?;
    for (i, v) in tree.xattr_values.iter().enumerate() {
        fs_err::write(xdir.join(i.to_string()), v)?;
    }
    let script = work.join("populate.debugfs");
    fs_err::write(&script, &tree.script)?;

    let blocks = bytes / BLOCK;
    let mut cmd = Command::new(mkfs);
    cmd.current_dir(work)
        .env("MKE2FS_CONFIG", &conf)
        .env("E2FSPROGS_FAKE_TIME", sde.to_string())
        .env_remove("MKE2FS_SYNC")
        .env_remove("MKE2FS_DEVICE_SECTSIZE")
        .env_remove("MKE2FS_DEVICE_PHYS_SECTSIZE")
        .args([
            "-F", "-q", "-t", "ext4", "-b", "4096", "-I", "256", "-m", "5",
        ])
        .arg("-N")
        .arg(inode_count(tree, bytes).to_string())
        .arg("-J")
        .arg(format!("size={}", journal_mib(bytes)))
        .args(["-L", "root", "-U"])
        .arg(ids.root_fs_uuid.to_string())
        .arg("-E")
        .arg(format!(
            "hash_seed={},root_owner={}:{},offset={offset},nodiscard,\
             lazy_itable_init=0,lazy_journal_init=0",
            ids.root_hash_seed, tree.root_uid, tree.root_gid
        ))
        .arg(device)
        .arg(blocks.to_string());
    tools::run(&mut cmd)?;

    let dev_spec = format!("{device}?offset={offset}");
    let mut cmd = Command::new(debugfs);
    cmd.current_dir(work)
        .env("LC_ALL", "C")
        .env("E2FSPROGS_FAKE_TIME", sde.to_string())
        .args(["-w", "-f", "populate.debugfs"])
        .arg(&dev_spec)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let out = cmd.output().map_err(|e| {
        std::io::Error::new(e.kind(), format!("cannot run `{}`: {e}", DEBUGFS.name))
    })?;
    let errors: Vec<&str> = std::str::from_utf8(&out.stderr)
        .unwrap_or("(debugfs wrote non-UTF-8 error output)")
        .lines()
        .filter(|l| !is_debugfs_banner(l) && !l.trim().is_empty())
        .collect();
    if !out.status.success() || !errors.is_empty() {
        // the same failure repeats once per file; show each distinct line once
        let mut seen = std::collections::BTreeSet::new();
        let mut detail = errors
            .iter()
            .copied()
            .filter(|l| seen.insert(l.trim()))
            .take(40)
            .collect::<Vec<_>>()
            .join("\n");
        if errors.iter().any(|l| l.contains("No space left on device")) {
            detail.push_str(&format!(
                "\n(the host filesystem holding {} is full: free space there, or build \
                 elsewhere with --out-dir)",
                work.display()
            ));
        }
        if errors
            .iter()
            .any(|l| l.contains("Could not allocate block"))
            || errors.iter().any(|l| l.contains("No free space"))
        {
            detail.push_str(
                "\n(the root filesystem is too small for the tree: give a larger explicit root \
                 size or more extra free space)",
            );
        }
        return Err(tools::failed(&cmd, &out, Some(detail)));
    }

    let mut cmd = Command::new(e2fsck);
    cmd.current_dir(work)
        .env("E2FSPROGS_FAKE_TIME", sde.to_string())
        .args(["-f", "-n"])
        .arg(&dev_spec);
    tools::run(&mut cmd)?;
    Ok(())
}

/// debugfs prints `debugfs 1.47.0 (5-Feb-2023)` on stderr; everything else there is an
/// error from a script command.
fn is_debugfs_banner(line: &str) -> bool {
    line.starts_with("debugfs ") && line.ends_with(')') && !line.contains(':')
}

/// The script, for tests.
#[cfg(test)]
pub(crate) fn script_text(tree: &Tree) -> String {
    String::from_utf8_lossy(&tree.script).into_owned()
}

/// Resolves `rel` inside `root` as the booted system would see it: symlinks (absolute or
/// relative) stay inside `root`. Returns the host path of the final regular file.
pub(crate) fn resolve_in_root(root: &Path, rel: &Path) -> Option<PathBuf> {
    let mut stack: Vec<OsString> = Vec::new();
    let mut pending: Vec<OsString> = rel
        .components()
        .rev()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_os_string()),
            std::path::Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect();
    let mut hops = 0;
    while let Some(c) = pending.pop() {
        if c == ".." {
            stack.pop();
            continue;
        }
        let mut host = root.to_path_buf();
        host.extend(&stack);
        host.push(&c);
        let meta = fs_err::symlink_metadata(&host).ok()?;
        if meta.file_type().is_symlink() {
            hops += 1;
            if hops > 40 {
                return None;
            }
            let target = fs_err::read_link(&host).ok()?;
            if target.is_absolute() {
                stack.clear();
            }
            for comp in target.components().rev() {
                match comp {
                    std::path::Component::Normal(s) => pending.push(s.to_os_string()),
                    std::path::Component::ParentDir => pending.push("..".into()),
                    _ => {}
                }
            }
        } else {
            stack.push(c);
        }
    }
    let mut host = root.to_path_buf();
    host.extend(&stack);
    let meta = fs_err::symlink_metadata(&host).ok()?;
    meta.is_file().then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_quotes() {
        let mut v = Vec::new();
        push_quoted(&mut v, br#"a "b" c"#);
        assert_eq!(v, br#""a ""b"" c""#);
        assert_eq!(spec_of(b"-x"), b"./-x");
        assert_eq!(spec_of(b"x-"), b"x-");
    }

    #[test]
    fn directory_bound_is_enough_for_first_fit() {
        // Simulate first-fit packing of worst-case names and check the bound.
        for lens in [vec![255usize; 200], vec![1; 3000], {
            let mut v = vec![255; 30];
            v.extend([1; 500]);
            v
        }] {
            let mut free: Vec<u64> = vec![DIR_BLOCK_USABLE - 24];
            let mut total = 24;
            for &l in &lens {
                let r = rec_len(l);
                total += r;
                match free.iter_mut().find(|f| **f >= r) {
                    Some(f) => *f -= r,
                    None => free.push(DIR_BLOCK_USABLE - r),
                }
            }
            assert!(free.len() as u64 <= dir_blocks_bound(total));
        }
    }

    #[test]
    fn device_numbers_split_like_glibc() {
        // makedev(259, 65536) in glibc's encoding.
        let (ma, mi) = (259u64, 65536u64);
        let dev = ((ma & 0xfff) << 8) | ((ma & !0xfff) << 32) | (mi & 0xff) | ((mi & !0xff) << 12);
        assert_eq!(dev_numbers(dev), (ma, mi));
        assert_eq!(dev_numbers(0x0103), (1, 3));
    }

    #[test]
    fn banner_is_not_an_error() {
        assert!(is_debugfs_banner("debugfs 1.47.0 (5-Feb-2023)"));
        assert!(!is_debugfs_banner("write: No such file or directory "));
        assert!(!is_debugfs_banner(
            "debugfs: Could not allocate block in ext2 filesystem (x)"
        ));
    }

    #[test]
    fn script_is_sorted_and_independent_of_creation_order() {
        let mk = |order: &[&str]| {
            let d = tempfile::tempdir().unwrap();
            for n in order {
                fs_err::create_dir_all(d.path().join("dir")).unwrap();
                fs_err::write(d.path().join("dir").join(n), n.as_bytes()).unwrap();
            }
            let t = scan(d.path(), u64::MAX).unwrap();
            // The host path prefix is the same ("r/…"), so scripts must be equal apart
            // from mtimes, which differ between the two temp trees only if the clock moved;
            // drop mtime lines for the comparison.
            let s = script_text(&t);
            s.lines()
                .filter(|l| !l.contains(" mtime "))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let a = mk(&["b", "a", "-c", "q\"uote"]);
        let b = mk(&["q\"uote", "-c", "a", "b"]);
        assert_eq!(a, b);
        let writes: Vec<&str> = a.lines().filter(|l| l.starts_with("write")).collect();
        assert_eq!(
            writes,
            [
                r#"write "r/dir/-c" "-c""#,
                r#"write "r/dir/a" "a""#,
                r#"write "r/dir/b" "b""#,
                r#"write "r/dir/q""uote" "q""uote""#
            ]
        );
    }

    #[test]
    fn resolves_symlinks_inside_the_root() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        fs_err::create_dir_all(r.join("boot")).unwrap();
        fs_err::write(r.join("boot/vmlinuz-1"), b"k").unwrap();
        std::os::unix::fs::symlink("/boot/vmlinuz-1", r.join("vmlinuz")).unwrap();
        std::os::unix::fs::symlink("vmlinuz-1", r.join("boot/rel")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", r.join("escape")).unwrap();
        assert_eq!(
            resolve_in_root(r, Path::new("vmlinuz")),
            Some(r.join("boot/vmlinuz-1"))
        );
        assert_eq!(
            resolve_in_root(r, Path::new("boot/rel")),
            Some(r.join("boot/vmlinuz-1"))
        );
        assert_eq!(resolve_in_root(r, Path::new("escape")), None);
        assert_eq!(resolve_in_root(r, Path::new("boot")), None);
        assert_eq!(resolve_in_root(r, Path::new("nope")), None);
    }
}
