//! Shared helpers: sample trees, running host tools, snapshots of trees.

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt, lchown, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const EPOCH: u64 = 1_700_000_000;
/// An mtime older than [`EPOCH`], which must survive unchanged.
pub const OLD_MTIME: u64 = 1_000_000_000;

/// Panics with a clear message when a host tool is missing: these tests must not skip.
pub fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    for dir in ["/usr/sbin", "/sbin"] {
        let candidate = Path::new(dir).join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "host tool `{name}` not found on PATH: install it (scripts/setup-host.sh) — these tests run against the real tool"
    );
}

/// Runs `cmd`, panics with its output unless it succeeds, returns stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn write(path: &Path, data: &[u8], mode: u32) {
    if let Some(parent) = path.parent() {
        fs_err::create_dir_all(parent).unwrap();
    }
    fs_err::write(path, data).unwrap();
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

pub fn mkdir(path: &Path, mode: u32) {
    fs_err::create_dir_all(path).unwrap();
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

pub fn set_mtime(path: &Path, secs: u64) {
    run(Command::new(tool("touch"))
        .arg("-h")
        .arg("-d")
        .arg(format!("@{secs}"))
        .arg(path));
}

type Step = Box<dyn Fn(&Path)>;

pub const LONG_DIR: &str = "usr/share/a-directory-name-long-enough-that-the-path-does-not-fit/in-the-hundred-bytes-of-a-ustar-name";

/// A tree with every kind of file the tar writer handles. `reverse` creates siblings in the
/// opposite order; every mtime is set to `mtime` except `etc/old`, which gets [`OLD_MTIME`].
pub fn sample_tree(root: &Path, reverse: bool, mtime: u64) {
    mkdir(root, 0o755);
    let mut dirs: Vec<(&str, u32)> = vec![
        ("bin", 0o755),
        ("dev", 0o755),
        ("etc", 0o755),
        ("home", 0o755),
        ("run", 0o755),
        ("tmp", 0o1777),
        ("usr", 0o755),
        ("usr/bin", 0o755),
        ("usr/lib", 0o755),
        ("var", 0o755),
        ("var/empty", 0o711),
    ];
    if reverse {
        dirs.reverse();
    }
    for (d, mode) in &dirs {
        if reverse {
            // parents first even in reverse order
            if let Some(parent) = Path::new(d).parent() {
                fs_err::create_dir_all(root.join(parent)).unwrap();
            }
        }
        mkdir(&root.join(d), *mode);
    }
    mkdir(&root.join(LONG_DIR), 0o755);
    mkdir(&root.join("home/user"), 0o700);
    lchown(root.join("home/user"), Some(1000), Some(1000)).unwrap();

    let mut steps: Vec<Step> = vec![
        Box::new(|r| write(&r.join("etc/hostname"), b"cairn\n", 0o644)),
        Box::new(|r| {
            write(&r.join("etc/shadow"), b"root:*:19000:0:99999:7:::\n", 0o640);
            lchown(r.join("etc/shadow"), Some(0), Some(42)).unwrap();
        }),
        Box::new(|r| write(&r.join("etc/old"), b"old\n", 0o644)),
        Box::new(|r| {
            write(&r.join("usr/bin/ping"), b"#!/bin/sh\necho ping\n", 0o755);
            run(Command::new(tool("setcap"))
                .arg("cap_net_raw+ep")
                .arg(r.join("usr/bin/ping")));
        }),
        Box::new(|r| write(&r.join("usr/bin/su"), b"su\n", 0o4755)),
        Box::new(|r| {
            write(&r.join("usr/bin/data"), b"data\n", 0o644);
            xattr::set(r.join("usr/bin/data"), "user.cairn.test", b"hello").unwrap();
        }),
        Box::new(|r| {
            write(&r.join("home/user/notes"), b"notes\n", 0o600);
            lchown(r.join("home/user/notes"), Some(1000), Some(1000)).unwrap();
        }),
        Box::new(|r| {
            write(
                &r.join(LONG_DIR).join("file-with-a-long-name.txt"),
                b"long\n",
                0o644,
            )
        }),
        Box::new(|r| {
            write(&r.join("usr/lib/libfirst.so"), b"shared inode\n", 0o644);
            fs_err::hard_link(
                r.join("usr/lib/libfirst.so"),
                r.join("usr/lib/libsecond.so"),
            )
            .unwrap();
            fs_err::hard_link(r.join("usr/lib/libfirst.so"), r.join("etc/linked")).unwrap();
        }),
        Box::new(|r| {
            fs_err::copy(tool("busybox"), r.join("bin/busybox")).unwrap();
            fs_err::set_permissions(
                r.join("bin/busybox"),
                std::fs::Permissions::from_mode(0o755),
            )
            .unwrap();
            symlink("busybox", r.join("bin/sh")).unwrap();
        }),
        Box::new(|r| symlink("../usr/lib/libfirst.so", r.join("etc/libfirst-link")).unwrap()),
        Box::new(|r| symlink("/nonexistent/target", r.join("etc/dangling")).unwrap()),
        Box::new(|r| {
            symlink("../bin/busybox", r.join("usr/bin/env")).unwrap();
            lchown(r.join("usr/bin/env"), Some(7), Some(8)).unwrap();
        }),
        Box::new(|r| {
            run(Command::new(tool("mknod"))
                .arg("-m")
                .arg("0666")
                .arg(r.join("dev/null"))
                .args(["c", "1", "3"]));
        }),
        Box::new(|r| {
            run(Command::new(tool("mknod"))
                .arg("-m")
                .arg("0660")
                .arg(r.join("dev/loop0"))
                .args(["b", "7", "0"]));
            lchown(r.join("dev/loop0"), Some(0), Some(6)).unwrap();
        }),
        Box::new(|r| {
            run(Command::new(tool("mkfifo"))
                .arg("-m")
                .arg("0600")
                .arg(r.join("run/initctl")));
        }),
        Box::new(|r| {
            let sock = std::os::unix::net::UnixListener::bind(r.join("run/socket")).unwrap();
            drop(sock);
        }),
    ];
    if reverse {
        steps.reverse();
    }
    for step in steps {
        step(root);
    }
    run(Command::new(tool("find"))
        .arg(root)
        .args(["-exec", "touch", "-h", "-d"])
        .arg(format!("@{mtime}"))
        .args(["{}", "+"]));
    set_mtime(&root.join("etc/old"), OLD_MTIME);
}

/// What a tree holds, comparable across trees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub kind: String,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: i64,
    pub detail: String,
    pub xattrs: BTreeMap<String, Vec<u8>>,
}

/// Every path below `root` (the root itself as "."), without sockets. Hard-linked files name
/// the first path of their inode; mtimes newer than `clamp` read as `clamp`.
pub fn snapshot(root: &Path, clamp: u64, with_mtime: bool) -> BTreeMap<String, Meta> {
    let mut out = BTreeMap::new();
    let mut first_path: BTreeMap<(u64, u64), String> = BTreeMap::new();
    let mut paths = Vec::new();
    collect(root, root, &mut paths);
    paths.sort();
    for (rel, path) in paths {
        let meta = fs_err::symlink_metadata(&path).unwrap();
        let ft = meta.file_type();
        if ft.is_socket() {
            continue;
        }
        let (kind, mut detail) = if ft.is_dir() {
            ("dir", String::new())
        } else if ft.is_file() {
            (
                "file",
                format!("{:x}", fingerprint(&fs_err::read(&path).unwrap())),
            )
        } else if ft.is_symlink() {
            (
                "symlink",
                fs_err::read_link(&path).unwrap().display().to_string(),
            )
        } else if ft.is_char_device() {
            ("char", format!("{:x}", meta.rdev()))
        } else if ft.is_block_device() {
            ("block", format!("{:x}", meta.rdev()))
        } else {
            ("fifo", String::new())
        };
        if !ft.is_dir() && meta.nlink() > 1 {
            let first = first_path
                .entry((meta.dev(), meta.ino()))
                .or_insert_with(|| rel.clone());
            detail.push_str(&format!(" inode-of:{first}"));
        }
        let mut xattrs = BTreeMap::new();
        if let Ok(names) = xattr::list(&path) {
            for name in names {
                if let Ok(Some(v)) = xattr::get(&path, &name) {
                    xattrs.insert(name.to_string_lossy().into_owned(), v);
                }
            }
        }
        let mtime = if with_mtime {
            meta.mtime().min(i64::try_from(clamp).unwrap_or(i64::MAX))
        } else {
            0
        };
        out.insert(
            rel,
            Meta {
                kind: kind.into(),
                mode: if ft.is_symlink() {
                    0o777
                } else {
                    meta.mode() & 0o7777
                },
                uid: meta.uid(),
                gid: meta.gid(),
                mtime,
                detail,
                xattrs,
            },
        );
    }
    out
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    if dir == root {
        out.push((".".into(), root.to_owned()));
    }
    for entry in fs_err::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let rel = String::from_utf8_lossy(path.strip_prefix(root).unwrap().as_os_str().as_bytes())
            .into_owned();
        let is_dir = entry.file_type().unwrap().is_dir();
        out.push((rel, path.clone()));
        if is_dir {
            collect(root, &path, out);
        }
    }
}

/// FNV-1a and the length: a content fingerprint for comparisons, not a cryptographic hash.
fn fingerprint(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h ^ data.len() as u64
}

/// Asserts two snapshots are equal, listing the differing paths.
pub fn assert_same_tree(expected: &BTreeMap<String, Meta>, actual: &BTreeMap<String, Meta>) {
    let mut diffs = Vec::new();
    for (path, meta) in expected {
        match actual.get(path) {
            None => diffs.push(format!("missing {path}")),
            Some(other) if other != meta => {
                diffs.push(format!("{path}: expected {meta:?}, got {other:?}"))
            }
            Some(_) => {}
        }
    }
    for path in actual.keys() {
        if !expected.contains_key(path) {
            diffs.push(format!("unexpected {path}"));
        }
    }
    assert!(diffs.is_empty(), "trees differ:\n{}", diffs.join("\n"));
}
