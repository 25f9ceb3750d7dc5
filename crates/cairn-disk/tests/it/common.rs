//! Shared helpers: a test root tree with every kind of inode, tool checks, running
//! commands, reading partitions out of a disk.

use anyhow::{Context, Result, bail};
use cairn_disk::{DiskIds, RawSpec};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const SDE: u64 = 1_700_000_000;
/// mtime of (almost) everything in the test tree.
pub const T0: i64 = 1_650_000_000;
pub const KERNEL: &str = "boot/vmlinuz-6.1.0-99-amd64";
pub const INITRD: &str = "boot/initrd.img-6.1.0-99-amd64";
/// Content of /boot/marker.txt in the test root; appears nowhere else on the disk.
pub const MARKER: &str = "cairn-marker-7f3a91c2e0";

/// A v2 `security.capability` value granting cap_net_raw (bit 13), effective.
pub fn cap_net_raw() -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&0x0200_0001u32.to_le_bytes()); // revision 2 | effective
    v.extend_from_slice(&(1u32 << 13).to_le_bytes()); // permitted[0]
    v.extend_from_slice(&0u32.to_le_bytes()); // inheritable[0]
    v.extend_from_slice(&0u32.to_le_bytes()); // permitted[1]
    v.extend_from_slice(&0u32.to_le_bytes()); // inheritable[1]
    v
}

/// Finds a host tool or fails naming it (tests never skip).
pub fn need(tool: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/sbin", "/bin", "/sbin"] {
        let p = Path::new(dir).join(tool);
        if p.exists() {
            return p;
        }
    }
    panic!("host tool `{tool}` is missing: run scripts/setup-host.sh");
}

/// Runs a command and returns its output; fails with stderr when it fails.
pub fn run(cmd: &mut Command) -> Result<Output> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out)
}

pub fn stdout(cmd: &mut Command) -> Result<String> {
    Ok(String::from_utf8(run(cmd)?.stdout)?)
}

/// One thing in the test tree.
enum Item {
    Dir(&'static str, u32, u32, u32),
    File(&'static str, Vec<u8>, u32, u32, u32),
    Links(Vec<String>, &'static [u8]),
    Symlink(&'static str, String),
    Fifo(&'static str),
    CharDev(&'static str, u32, u32),
    Xattr(&'static str, &'static str, Vec<u8>),
}

fn items(ids: &DiskIds) -> Vec<Item> {
    use Item::*;
    let mut kernel = b"this is not a linux kernel\n".to_vec();
    kernel.resize(16 * 1024, b'k');
    let mut big = Vec::new();
    for i in 0u32..(3 << 18) {
        big.extend_from_slice(&i.wrapping_mul(2_654_435_761).to_le_bytes());
    }
    // A hard-link group of 300 long names in one directory (debugfs `ln` does not grow
    // directories by itself), plus one link elsewhere.
    let mut many: Vec<String> = (0..300)
        .map(|i| format!("usr/share/links/{i:03}-{}", "n".repeat(96)))
        .collect();
    many.push("usr/lib/other-link".into());
    vec![
        Dir("boot", 0o755, 0, 0),
        File(KERNEL, kernel, 0o644, 0, 0),
        File(INITRD, b"not an initrd either\n".to_vec(), 0o644, 0, 0),
        File("boot/marker.txt", MARKER.as_bytes().to_vec(), 0o644, 0, 0),
        Dir("boot/efi", 0o755, 0, 0),
        File(
            "etc/fstab",
            cairn_disk::fstab(ids).into_bytes(),
            0o644,
            0,
            0,
        ),
        File("etc/hostname", b"cairn-test\n".to_vec(), 0o644, 0, 0),
        File(
            "etc/shadow",
            b"root:*:19000:0:99999:7:::\n".to_vec(),
            0o640,
            0,
            42,
        ),
        File("usr/bin/ping", b"#!/bin/sh\n".to_vec(), 0o755, 0, 0),
        Xattr("usr/bin/ping", "security.capability", cap_net_raw()),
        File("usr/bin/su", b"#!/bin/sh\n".to_vec(), 0o4755, 0, 0),
        File("usr/lib/big.bin", big, 0o644, 0, 0),
        File("usr/lib/zeros.bin", vec![0u8; 1 << 20], 0o644, 0, 0),
        Links(many, b"linked content\n"),
        Links(
            vec!["usr/bin/python3".into(), "usr/bin/python3.11".into()],
            b"#!python\n",
        ),
        Symlink("lib", "usr/lib".into()),
        Symlink(
            "usr/lib/long-symlink",
            format!("/usr/share/{}/target", "d".repeat(80)),
        ),
        Dir("home/user", 0o700, 1000, 1000),
        File(
            "home/user/.profile",
            b"# profile\n".to_vec(),
            0o600,
            1000,
            1000,
        ),
        Xattr("home/user", "user.cairn", b"dir attr".to_vec()),
        File(
            "srv/-dash name \"quoted\"",
            b"odd name\n".to_vec(),
            0o644,
            0,
            0,
        ),
        Dir("srv/empty", 0o1777, 0, 0),
        Fifo("run/initctl"),
        CharDev("dev/null", 1, 3),
        Dir("tmp", 0o1777, 0, 0),
    ]
}

fn set_owner(p: &Path, uid: u32, gid: u32) -> Result<()> {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid)).with_context(|| format!("chown {p:?}"))
}

/// Creates the test tree under `root` (which must not exist), creating entries in the
/// listed order or in reverse, so that directory order on the host differs.
pub fn make_tree(root: &Path, ids: &DiskIds, reverse: bool) -> Result<()> {
    need("mkfifo");
    need("mknod");
    fs_err::create_dir(root)?;
    let mut items = items(ids);
    if reverse {
        items.reverse();
    }
    let parent = |rel: &str| -> Result<()> {
        if let Some(p) = Path::new(rel).parent() {
            fs_err::create_dir_all(root.join(p))?;
        }
        Ok(())
    };
    let mut dirs = Vec::new();
    for it in &items {
        match it {
            Item::Dir(rel, mode, uid, gid) => {
                fs_err::create_dir_all(root.join(rel))?;
                dirs.push((root.join(rel), *mode, *uid, *gid));
            }
            Item::File(rel, content, mode, uid, gid) => {
                parent(rel)?;
                let p = root.join(rel);
                fs_err::write(&p, content)?;
                set_owner(&p, *uid, *gid)?;
                fs_err::set_permissions(&p, std::fs::Permissions::from_mode(*mode))?;
            }
            Item::Links(paths, content) => {
                let ordered: Vec<&String> = if reverse {
                    paths.iter().rev().collect()
                } else {
                    paths.iter().collect()
                };
                for (i, rel) in ordered.iter().enumerate() {
                    parent(rel)?;
                    if i == 0 {
                        fs_err::write(root.join(rel), content)?;
                    } else {
                        fs_err::hard_link(root.join(ordered[0]), root.join(rel))?;
                    }
                }
            }
            Item::Symlink(rel, target) => {
                parent(rel)?;
                std::os::unix::fs::symlink(target, root.join(rel))?;
            }
            Item::Fifo(rel) => {
                parent(rel)?;
                run(Command::new("mkfifo").arg(root.join(rel)))?;
            }
            Item::CharDev(rel, major, minor) => {
                parent(rel)?;
                run(Command::new("mknod")
                    .arg(root.join(rel))
                    .arg("c")
                    .arg(major.to_string())
                    .arg(minor.to_string()))?;
                fs_err::set_permissions(root.join(rel), std::fs::Permissions::from_mode(0o666))?;
            }
            Item::Xattr(..) => {}
        }
    }
    // xattrs after the files exist (order independent of `reverse` on purpose: the
    // value set is what matters).
    for it in &items {
        if let Item::Xattr(rel, name, value) = it {
            xattr::set(root.join(rel), name, value).with_context(|| format!("xattr {rel}"))?;
        }
    }
    for (p, mode, uid, gid) in &dirs {
        set_owner(p, *uid, *gid)?;
        fs_err::set_permissions(p, std::fs::Permissions::from_mode(*mode))?;
    }
    // Clamp every mtime to T0, except one file in the future (the build clamps it).
    for e in walk(root)? {
        filetime::set_symlink_file_times(
            &e,
            filetime::FileTime::from_unix_time(T0, 0),
            filetime::FileTime::from_unix_time(T0, 0),
        )?;
    }
    let future = filetime::FileTime::from_unix_time(SDE as i64 + 86_400, 0);
    filetime::set_symlink_file_times(root.join("etc/hostname"), future, future)?;
    Ok(())
}

/// All paths under `root` (and `root`), children before parents.
fn walk(root: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for e in fs_err::read_dir(root)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            out.extend(walk(&e.path())?);
        } else {
            out.push(e.path());
        }
    }
    out.push(root.to_path_buf());
    Ok(out)
}

/// The spec every test uses, for a tree at `root`.
pub fn spec(ids: &DiskIds, root: &Path) -> RawSpec {
    let mut s = RawSpec::new(ids.clone(), root, KERNEL, Some(PathBuf::from(INITRD)), SDE);
    s.cmdline = "console=ttyS0,115200 console=tty0".into();
    s.menu_title = "cairn boot test".into();
    s
}

/// A scratch directory on the disk-backed filesystem.
pub fn scratch() -> Result<tempfile::TempDir> {
    Ok(tempfile::Builder::new()
        .prefix("cairn-disk-it-")
        .tempdir_in(std::env::temp_dir())?)
}

/// Copies `len` bytes at `offset` of `disk` into a new file `out`.
pub fn extract(disk: &Path, offset: u64, len: u64, out: &Path) -> Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = fs_err::File::open(disk)?;
    f.seek(SeekFrom::Start(offset))?;
    let mut o = fs_err::File::create(out)?;
    std::io::copy(&mut f.by_ref().take(len), &mut o)?;
    Ok(())
}

/// Byte offset and length of partition `number` (1-based) as sfdisk sees it.
pub fn partition(disk: &Path, number: usize) -> Result<(u64, u64)> {
    let v: serde_json::Value = serde_json::from_str(&stdout(
        Command::new(need("sfdisk")).arg("--json").arg(disk),
    )?)?;
    let p = &v["partitiontable"]["partitions"][number - 1];
    Ok((
        p["start"].as_u64().context("start")? * 512,
        p["size"].as_u64().context("size")? * 512,
    ))
}
