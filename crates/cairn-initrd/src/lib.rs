//! cairn's own initrd: a systemd initrd assembled from the image root's own files.
//!
//! The distribution's generator (Debian's `mkinitramfs`, Fedora's `dracut`) is a shell
//! program that forks a few processes per kernel module; with Debian's `MODULES=most` one
//! run takes about 20 s on one core. Like mkosi's default initrd, this one is systemd
//! in the initrd: PID 1 is the image's own systemd, udev loads the storage drivers, the
//! fstab generator turns `root=UUID=…` into `sysroot.mount`, and `initrd-switch-root`
//! hands over to the real root. Everything comes from the image itself (binaries, the
//! libraries their ELF headers name, unit files, udev rules, kernel modules), so the
//! initrd matches the root it boots, and it is written in one pass: newc cpio, entries
//! sorted, owner root, every time the source date epoch, compressed with zstd (gzip when
//! the kernel lacks zstd support). Only `depmod` runs, once, inside the root, to index the
//! chosen modules.
//!
//! What goes in, and why, is listed in [`BINARIES`], [`UNITS`], [`UDEV_RULES`] and
//! [`modules::SELECTION`].

pub mod cpio;
pub mod elf;
pub mod modules;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum InitrdError {
    #[error("the initrd needs {what} `/{path}`, which the image root {root} does not have{hint}")]
    Missing {
        what: &'static str,
        path: String,
        root: PathBuf,
        hint: &'static str,
    },
    #[error("`/{binary}` needs the library {lib}, found in none of {dirs} in the image root")]
    MissingLibrary {
        binary: String,
        lib: String,
        dirs: String,
    },
    #[error(
        "kernel {version}: its config (/boot/config-{version}) enables neither zstd nor gzip initramfs decompression (CONFIG_RD_ZSTD, CONFIG_RD_GZIP)"
    )]
    NoCompression { version: String },
    #[error("indexing the initrd's kernel modules with depmod: {0}")]
    Depmod(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Programs the initrd runs: (path in the root, required). Their libraries follow.
pub const BINARIES: &[(&str, bool)] = &[
    ("usr/lib/systemd/systemd", true),
    ("usr/lib/systemd/systemd-journald", true),
    ("usr/lib/systemd/systemd-udevd", true),
    ("usr/bin/udevadm", true),
    ("usr/bin/systemctl", true),
    (
        "usr/lib/systemd/system-generators/systemd-fstab-generator",
        true,
    ),
    ("usr/lib/systemd/systemd-sysroot-fstab-check", false),
    (
        "usr/lib/systemd/system-generators/systemd-debug-generator",
        false,
    ),
    ("usr/lib/systemd/systemd-fsck", false),
    ("usr/lib/systemd/systemd-modules-load", false),
    ("usr/lib/systemd/systemd-shutdown", false),
    ("usr/lib/systemd/systemd-sulogin-shell", false),
    ("usr/bin/journalctl", false),
    ("usr/bin/mount", true),
    ("usr/bin/umount", true),
    ("usr/sbin/sulogin", false),
    ("usr/bin/kmod", true),
    ("usr/sbin/modprobe", true),
    ("usr/sbin/insmod", false),
    ("usr/sbin/rmmod", false),
    ("usr/sbin/lsmod", false),
    ("usr/bin/sh", true),
    ("usr/bin/bash", false),
    ("usr/sbin/fsck", false),
    ("usr/sbin/e2fsck", false),
    ("usr/sbin/fsck.ext4", false),
    ("usr/sbin/blkid", false),
    ("usr/lib/udev/ata_id", false),
    ("usr/lib/udev/scsi_id", false),
];

/// Unit files (from the root's `lib/systemd/system`): what `initrd.target` needs, the
/// journal, udev, fsck of the root, emergency and shutdown. Their `.wants`/`.requires`
/// links come along when both ends are here.
pub const UNITS: &[&str] = &[
    "basic.target",
    "ctrl-alt-del.target",
    "emergency.target",
    "final.target",
    "halt.target",
    "initrd-fs.target",
    "initrd-root-device.target",
    "initrd-root-fs.target",
    "initrd-switch-root.target",
    "initrd-usr-fs.target",
    "initrd.target",
    "local-fs-pre.target",
    "local-fs.target",
    "paths.target",
    "poweroff.target",
    "reboot.target",
    "rescue.target",
    "shutdown.target",
    "slices.target",
    "sockets.target",
    "swap.target",
    "sysinit.target",
    "timers.target",
    "umount.target",
    "emergency.service",
    "rescue.service",
    // a root shell on tty9 with `systemd.debug_shell` on the kernel command line
    "debug-shell.service",
    "initrd-cleanup.service",
    "initrd-parse-etc.service",
    "initrd-switch-root.service",
    "initrd-udevadm-cleanup-db.service",
    "systemd-fsck-root.service",
    "systemd-fsck@.service",
    "systemd-halt.service",
    "systemd-journald.service",
    "systemd-journald.socket",
    "systemd-journald-dev-log.socket",
    "systemd-modules-load.service",
    "systemd-poweroff.service",
    "systemd-reboot.service",
    "systemd-udev-trigger.service",
    "systemd-udevd.service",
    "systemd-udevd-control.socket",
    "systemd-udevd-kernel.socket",
    "system.slice",
];

/// udev rules: device names and permissions, the `/dev/disk/by-*` links the root is
/// found by, module loading by modalias, and the tags systemd's device units need.
pub const UDEV_RULES: &[&str] = &[
    "50-udev-default.rules",
    "60-block.rules",
    "60-persistent-storage.rules",
    "80-drivers.rules",
    "99-systemd.rules",
];

/// What to build.
#[derive(Debug, Clone)]
pub struct Spec<'a> {
    /// The image root (a host path).
    pub root: &'a Path,
    /// The kernel the initrd is for (`/lib/modules/VERSION`, `/boot/config-VERSION`).
    pub kernel_version: &'a str,
    pub source_date_epoch: u64,
    /// `PRETTY_NAME` of the initrd's `/etc/initrd-release`.
    pub name: &'a str,
}

/// A built initrd.
#[derive(Debug)]
pub struct Initrd {
    /// The compressed archive.
    pub data: Vec<u8>,
    /// `zstd` or `gzip`.
    pub compression: &'static str,
    /// Entries in the archive.
    pub entries: usize,
    pub modules: usize,
    /// Size of the cpio archive before compression.
    pub uncompressed: u64,
}

/// Where `depmod` indexes the chosen modules: `base` is a directory inside the root
/// (`/var/tmp/…`, as the root sees it) holding `lib/modules/VERSION`; the callback runs
/// `depmod -b BASE VERSION` inside the root (so the image's own kmod does it).
pub type Depmod<'a> = dyn Fn(&str, &str) -> Result<(), InitrdError> + 'a;

#[derive(Debug, Clone)]
enum Node {
    Dir(u32),
    File { src: PathBuf, perm: u32 },
    Data { data: Vec<u8>, perm: u32 },
    Symlink(String),
}

struct Tree<'a> {
    root: &'a Path,
    nodes: BTreeMap<String, Node>,
}

fn join(base: &str, name: &str) -> String {
    match base.is_empty() {
        true => name.to_owned(),
        false => format!("{base}/{name}"),
    }
}

impl<'a> Tree<'a> {
    fn host(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn dir(&mut self, rel: &str, perm: u32) {
        let mut cur = String::new();
        for c in rel.split('/').filter(|c| !c.is_empty()) {
            cur = join(&cur, c);
            self.nodes
                .entry(cur.clone())
                .or_insert(Node::Dir(if cur == rel { perm } else { 0o755 }));
        }
    }

    fn parent_dirs(&mut self, rel: &str) {
        if let Some((parent, _)) = rel.rsplit_once('/') {
            let parent = parent.to_owned();
            // a parent's own mode when the root has it as a directory
            let perm = fs_err::metadata(self.host(&parent))
                .map(|m| m.permissions().mode() & 0o7777)
                .unwrap_or(0o755);
            self.dir(&parent, perm);
        }
    }

    /// Adds `rel` as the root has it: every symbolic link on the way becomes a link in
    /// the initrd too, then the file itself. Returns the file's real path (relative), or
    /// `None` when the root does not have it.
    fn add(&mut self, rel: &str) -> Result<Option<String>, InitrdError> {
        let mut pending: Vec<String> = rel
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .rev()
            .map(str::to_owned)
            .collect();
        let mut cur = String::new();
        let mut hops = 0;
        while let Some(c) = pending.pop() {
            if c == ".." {
                cur = cur
                    .rsplit_once('/')
                    .map(|(p, _)| p.to_owned())
                    .unwrap_or_default();
                continue;
            }
            let next = join(&cur, &c);
            let meta = match fs_err::symlink_metadata(self.host(&next)) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            let ft = meta.file_type();
            if ft.is_symlink() {
                hops += 1;
                if hops > 40 {
                    return Ok(None);
                }
                let target = fs_err::read_link(self.host(&next))?;
                let t = target.to_string_lossy().into_owned();
                self.parent_dirs(&next);
                self.nodes.insert(next, Node::Symlink(t.clone()));
                if target.is_absolute() {
                    cur.clear();
                }
                pending.extend(target.components().rev().filter_map(|c| match c {
                    Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                    Component::ParentDir => Some("..".to_owned()),
                    _ => None,
                }));
            } else if ft.is_dir() {
                cur = next;
            } else if ft.is_file() && pending.is_empty() {
                self.parent_dirs(&next);
                self.nodes.insert(
                    next.clone(),
                    Node::File {
                        src: self.host(&next),
                        perm: meta.permissions().mode() & 0o7777,
                    },
                );
                return Ok(Some(next));
            } else {
                return Ok(None);
            }
        }
        // a directory
        self.dir(&cur, 0o755);
        Ok(Some(cur))
    }

    /// The real path of `rel` in the root (symbolic links resolved), if it exists.
    fn real(&self, rel: &str) -> Option<String> {
        let p = fs_err::canonicalize(self.host(rel)).ok()?;
        let root = fs_err::canonicalize(self.root).ok()?;
        Some(p.strip_prefix(&root).ok()?.to_string_lossy().into_owned())
    }
}

/// Library directories in the root's search order: `/etc/ld.so.conf` (with its
/// `include`s), then the loader's defaults.
fn library_dirs(root: &Path) -> Vec<String> {
    fn read(root: &Path, conf: &str, out: &mut Vec<String>, depth: u32) {
        let Ok(text) = fs_err::read_to_string(root.join(conf.trim_start_matches('/'))) else {
            return;
        };
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if let Some(pat) = line.strip_prefix("include") {
                let pat = pat.trim();
                if depth > 4 {
                    continue;
                }
                if let Some((dir, suffix)) = pat.rsplit_once("/*") {
                    let mut files: Vec<String> =
                        fs_err::read_dir(root.join(dir.trim_start_matches('/')))
                            .into_iter()
                            .flatten()
                            .flatten()
                            .map(|e| e.file_name().to_string_lossy().into_owned())
                            .filter(|n| n.ends_with(suffix))
                            .collect();
                    files.sort();
                    for f in files {
                        read(root, &format!("{dir}/{f}"), out, depth + 1);
                    }
                } else {
                    read(root, pat, out, depth + 1);
                }
            } else if line.starts_with('/') {
                out.push(line.trim_start_matches('/').to_owned());
            }
        }
    }
    let mut dirs = Vec::new();
    read(root, "/etc/ld.so.conf", &mut dirs, 0);
    for d in ["lib64", "usr/lib64", "lib", "usr/lib"] {
        dirs.push(d.to_owned());
    }
    let mut seen = BTreeSet::new();
    dirs.retain(|d| seen.insert(d.clone()));
    dirs
}

/// Adds `rel` and, when it is an ELF file, its interpreter and libraries, recursively.
fn add_program(tree: &mut Tree, rel: &str, lib_dirs: &[String]) -> Result<bool, InitrdError> {
    let Some(real) = tree.add(rel)? else {
        return Ok(false);
    };
    let mut todo = vec![real];
    let mut done = BTreeSet::new();
    // libraries found so far, by name: the loader reuses a loaded library for a later
    // request of the same name (systemd's private libraries are found through the
    // executable's RUNPATH, not through each other's)
    let mut loaded: BTreeMap<String, String> = BTreeMap::new();
    while let Some(file) = todo.pop() {
        if !done.insert(file.clone()) {
            continue;
        }
        let bytes = fs_err::read(tree.host(&file))?;
        let Some(d) = elf::parse(&bytes) else {
            continue;
        };
        if let Some(interp) = d.interpreter {
            match tree.add(&interp)? {
                Some(r) => todo.push(r),
                None => {
                    return Err(InitrdError::MissingLibrary {
                        binary: file,
                        lib: interp,
                        dirs: "the root".into(),
                    });
                }
            }
        }
        let origin = file
            .rsplit_once('/')
            .map(|(d, _)| d.to_owned())
            .unwrap_or_default();
        let mut dirs: Vec<String> = d
            .search
            .iter()
            .map(|s| {
                s.replace("$ORIGIN", &format!("/{origin}"))
                    .replace("${ORIGIN}", &format!("/{origin}"))
            })
            .map(|s| s.trim_start_matches('/').to_owned())
            .collect();
        dirs.extend(lib_dirs.iter().cloned());
        for lib in d.needed {
            let mut found = loaded.get(&lib).cloned();
            for dir in &dirs {
                if found.is_some() {
                    break;
                }
                let cand = join(dir, &lib);
                if tree.host(&cand).is_file() {
                    found = tree.add(&cand)?;
                    if found.is_some() {
                        break;
                    }
                }
            }
            match found {
                Some(r) => {
                    loaded.insert(lib, r.clone());
                    todo.push(r);
                }
                None => {
                    return Err(InitrdError::MissingLibrary {
                        binary: file,
                        lib,
                        dirs: dirs
                            .iter()
                            .map(|d| format!("/{d}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                }
            }
        }
    }
    Ok(true)
}

fn kernel_config(root: &Path, version: &str) -> String {
    fs_err::read_to_string(root.join(format!("boot/config-{version}"))).unwrap_or_default()
}

/// Removes the depmod staging directory however the build ends.
struct Staging(PathBuf);
impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs_err::remove_dir_all(&self.0);
    }
}

/// Builds the initrd for `spec`. Reads the root, runs `depmod` once through `depmod`,
/// and returns the compressed archive; it writes nothing into the root but a temporary
/// directory under `/var/tmp`, removed again.
pub fn build(spec: &Spec, depmod: &Depmod) -> Result<Initrd, InitrdError> {
    let root = spec.root;
    let mut tree = Tree {
        root,
        nodes: BTreeMap::new(),
    };
    let missing = |what, path: &str, hint| InitrdError::Missing {
        what,
        path: path.to_owned(),
        root: root.to_path_buf(),
        hint,
    };
    // the merged-/usr links and the directories systemd mounts on or expects
    for top in ["bin", "sbin", "lib", "lib64"] {
        if fs_err::symlink_metadata(root.join(top)).is_ok_and(|m| m.file_type().is_symlink()) {
            tree.add(top)?;
        }
    }
    for (d, perm) in [
        ("dev", 0o755),
        ("proc", 0o555),
        ("sys", 0o555),
        ("run", 0o755),
        ("tmp", 0o1777),
        ("sysroot", 0o755),
        ("root", 0o700),
        ("etc", 0o755),
        ("var/tmp", 0o1777),
    ] {
        tree.dir(d, perm);
    }

    let lib_dirs = library_dirs(root);
    for (bin, required) in BINARIES {
        if !add_program(&mut tree, bin, &lib_dirs)? && *required {
            return Err(missing(
                "the program",
                bin,
                " (is systemd, udev, kmod and util-linux's mount in the image's package set?)",
            ));
        }
    }
    // gcc's unwinder: glibc loads it when a thread is cancelled
    for dir in &lib_dirs {
        if tree.host(&join(dir, "libgcc_s.so.1")).is_file() {
            add_program(&mut tree, &join(dir, "libgcc_s.so.1"), &lib_dirs)?;
            break;
        }
    }
    let systemd = tree
        .real("usr/lib/systemd/systemd")
        .ok_or_else(|| missing("the program", "usr/lib/systemd/systemd", ""))?;
    tree.nodes
        .insert("init".into(), Node::Symlink(format!("/{systemd}")));

    // units and the links between them
    let unit_dir = tree.real("usr/lib/systemd/system").ok_or_else(|| {
        missing(
            "the directory",
            "usr/lib/systemd/system",
            " (is systemd installed?)",
        )
    })?;
    let mut units = BTreeSet::new();
    for u in UNITS {
        if tree.add(&join(&unit_dir, u))?.is_some() {
            units.insert(*u);
        } else if u.starts_with("initrd") {
            return Err(missing(
                "the unit",
                &join(&unit_dir, u),
                " (systemd too old for an initrd?)",
            ));
        }
    }
    for u in &units {
        for kind in ["wants", "requires"] {
            let d = join(&unit_dir, &format!("{u}.{kind}"));
            let Ok(rd) = fs_err::read_dir(tree.host(&d)) else {
                continue;
            };
            let mut names: Vec<String> = rd
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            for n in names {
                if units.contains(n.as_str()) {
                    tree.add(&join(&d, &n))?;
                }
            }
        }
    }
    tree.nodes.insert(
        join(&unit_dir, "default.target"),
        Node::Symlink("initrd.target".into()),
    );

    // udev
    if let Some(rules) = tree.real("usr/lib/udev/rules.d") {
        for r in UDEV_RULES {
            tree.add(&join(&rules, r))?;
        }
    }
    tree.add("etc/udev/udev.conf")?;

    // /etc: who root is, module options, and the marker that makes systemd an initrd
    for f in ["etc/passwd", "etc/group"] {
        tree.add(f)?;
    }
    if let Ok(rd) = fs_err::read_dir(root.join("etc/modprobe.d")) {
        let mut names: Vec<String> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for n in names.iter().filter(|n| n.ends_with(".conf")) {
            tree.add(&format!("etc/modprobe.d/{n}"))?;
        }
    }
    let release = format!(
        "NAME=\"{0}\"\nPRETTY_NAME=\"{0} initrd\"\nID=cairn-initrd\nVARIANT_ID=initrd\n",
        spec.name.replace(['"', '\\', '\n'], "")
    );
    tree.nodes.insert(
        "etc/initrd-release".into(),
        Node::Data {
            data: release.into_bytes(),
            perm: 0o644,
        },
    );
    tree.nodes.insert(
        "etc/os-release".into(),
        Node::Symlink("initrd-release".into()),
    );

    // kernel modules
    let v = spec.kernel_version;
    let mod_dir = tree
        .real(&format!("usr/lib/modules/{v}"))
        .or_else(|| tree.real(&format!("lib/modules/{v}")))
        .ok_or_else(|| {
            missing(
                "the module directory",
                &format!("lib/modules/{v}"),
                " (the kernel package's modules)",
            )
        })?;
    let read =
        |name: &str| fs_err::read_to_string(root.join(&mod_dir).join(name)).unwrap_or_default();
    let ix = modules::Index::parse(
        &read("modules.dep"),
        &read("modules.softdep"),
        &read("modules.alias"),
    );
    let chosen = ix.closure(modules::SELECTION);
    let staging_rel = format!("var/tmp/cairn-initrd-{}", std::process::id());
    let staging = Staging(root.join(&staging_rel));
    let _ = fs_err::remove_dir_all(&staging.0);
    let smods = staging.0.join(format!("usr/lib/modules/{v}"));
    fs_err::create_dir_all(&smods)?;
    std::os::unix::fs::symlink("usr/lib", staging.0.join("lib"))?;
    for m in &chosen {
        let src = root.join(&mod_dir).join(m);
        let dst = smods.join(m);
        fs_err::create_dir_all(dst.parent().expect("module paths have a directory"))?;
        if fs_err::hard_link(&src, &dst).is_err() {
            fs_err::copy(&src, &dst)?;
        }
        tree.add(&format!("{mod_dir}/{m}"))?;
    }
    for f in [
        "modules.order",
        "modules.builtin",
        "modules.builtin.modinfo",
    ] {
        let src = root.join(&mod_dir).join(f);
        if src.is_file() {
            fs_err::copy(&src, smods.join(f))?;
        }
    }
    depmod(&format!("/{staging_rel}"), v)?;
    let mut index_files: Vec<String> = fs_err::read_dir(&smods)?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("modules."))
        .collect();
    index_files.sort();
    if !index_files.iter().any(|n| n == "modules.dep.bin") {
        return Err(InitrdError::Depmod(format!(
            "it wrote no modules.dep.bin into {}",
            smods.display()
        )));
    }
    for n in index_files {
        let data = fs_err::read(smods.join(&n))?;
        tree.nodes
            .insert(format!("{mod_dir}/{n}"), Node::Data { data, perm: 0o644 });
    }
    drop(staging);

    // the archive, compressed as it is written
    let config = kernel_config(root, v);
    let has = |sym: &str| config.is_empty() || config.lines().any(|l| l == format!("{sym}=y"));
    let (out, compression) = if has("CONFIG_RD_ZSTD") {
        (
            Compressor::Zstd(zstd::stream::Encoder::new(Vec::new(), 9)?),
            "zstd",
        )
    } else if has("CONFIG_RD_GZIP") {
        let e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        (Compressor::Gzip(e), "gzip")
    } else {
        return Err(InitrdError::NoCompression {
            version: v.to_owned(),
        });
    };
    let mut w = cpio::Writer::new(out, spec.source_date_epoch);
    let entries = tree.nodes.len();
    for (path, node) in &tree.nodes {
        match node {
            Node::Dir(perm) => w.entry(path, *perm, &cpio::Kind::Dir)?,
            Node::Symlink(t) => w.entry(path, 0o777, &cpio::Kind::Symlink(t))?,
            Node::Data { data, perm } => w.entry(path, *perm, &cpio::Kind::File(data))?,
            Node::File { src, perm } => {
                let data = fs_err::read(src)?;
                // set-id bits mean nothing in an initrd run as root
                w.entry(path, perm & 0o777, &cpio::Kind::File(&data))?
            }
        }
    }
    let (out, uncompressed) = w.finish()?;
    let data = out.finish()?;
    Ok(Initrd {
        data,
        compression,
        entries,
        modules: chosen.len(),
        uncompressed,
    })
}

/// The compressor the archive streams into.
enum Compressor {
    Zstd(zstd::stream::Encoder<'static, Vec<u8>>),
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
}

impl Compressor {
    fn finish(self) -> std::io::Result<Vec<u8>> {
        match self {
            Compressor::Zstd(e) => e.finish(),
            Compressor::Gzip(e) => e.finish(),
        }
    }
}

impl std::io::Write for Compressor {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        match self {
            Compressor::Zstd(e) => e.write(b),
            Compressor::Gzip(e) => e.write(b),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Compressor::Zstd(e) => e.flush(),
            Compressor::Gzip(e) => e.flush(),
        }
    }
}
