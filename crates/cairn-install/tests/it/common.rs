//! Helpers shared by the tests: package sets, root checks, tree comparison.

use cairn_install::{InstallPackage, InstallReporter};
use sha2::Digest as _;
use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs `cmd` to completion and asserts it succeeded (showing its stderr when not).
pub fn output_ok(cmd: &mut std::process::Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Fail with a clear message unless we run as root and `tools` are on PATH.
pub fn require(tools: &[&str]) {
    let status = fs_err::read_to_string("/proc/self/status").unwrap();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|r| r.split_whitespace().nth(1))
        .unwrap();
    assert_eq!(
        euid, "0",
        "these tests install packages and must run as root (scripts/test.sh runs them so)"
    );
    for t in tools {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(t).is_file()))
            .unwrap_or(false)
            || Path::new("/usr/sbin").join(t).is_file();
        assert!(found, "{t} is not installed; run scripts/setup-host.sh");
    }
}

/// A scratch directory under the workspace's target/ (same filesystem as the package
/// cache, so staging uses hard links).
pub fn scratch(name: &str) -> tempfile::TempDir {
    let base = workspace().join("target/cairn-install-tests");
    fs_err::create_dir_all(&base).unwrap();
    tempfile::Builder::new()
        .prefix(&format!("cairn-install-{name}-"))
        .tempdir_in(base)
        .unwrap()
}

/// Lock and fetch image `image` of the project `toml` (None: the built-in default
/// project) from the host's apt sources, into the shared test cache.
pub fn debian_set(toml: Option<&str>, image: &str) -> Vec<InstallPackage> {
    // cairn-apt's `apt-get update` takes apt's lock in the shared cache and fails,
    // rather than waits, when another test holds it: one lock-and-fetch at a time
    static APT: Mutex<()> = Mutex::new(());
    let _guard = APT.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    if let Some(t) = toml {
        fs_err::write(dir.path().join("cairn.toml"), t).unwrap();
    }
    let project = cairn_project::find_project(dir.path(), None).unwrap();
    let mut s = cairn_project::Session::new(
        project,
        cairn_project::SessionOptions {
            cache_dir: workspace().join("target/test-cache"),
            offline: false,
        },
    );
    let images = [image.to_owned()];
    let (lock, _) = s
        .lock(&images, None, &cairn_project::Quiet)
        .unwrap_or_else(|e| panic!("locking {image}: {e}"));
    let fetched = s
        .fetch(&lock, &images, &cairn_project::Quiet)
        .unwrap_or_else(|e| panic!("fetching {image}: {e}"));
    fetched
        .into_iter()
        .map(|f| InstallPackage {
            name: f.package.name,
            arch: f.package.arch,
            version: f.package.evr,
            path: f.path,
        })
        .collect()
}

/// A project with one Debian image from the host's apt sources.
pub fn deb_project(image: &str, packages: &[&str], priority_required: bool) -> String {
    let pkgs: Vec<String> = packages.iter().map(|p| format!("\"{p}\"")).collect();
    format!(
        "[project]\nname = \"install-test\"\n\n[sources.host]\nkind = \"host-apt\"\n\n\
         [images.{image}]\npackages = [{}]\nessential = true\npriority-required = {priority_required}\nweak-deps = false\n",
        pkgs.join(", ")
    )
}

/// Mount points at or under `root`, as this process sees them.
pub fn mounts_under(root: &Path) -> Vec<String> {
    let root = root.to_string_lossy().into_owned();
    fs_err::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| {
            l.split(' ')
                .nth(4)
                .is_some_and(|m| m == root || m.starts_with(&format!("{root}/")))
        })
        .map(str::to_owned)
        .collect()
}

/// Records what the installer reports.
#[derive(Debug, Default)]
pub struct Recorder {
    pub steps: Mutex<Vec<String>>,
    pub packages: Mutex<usize>,
}

impl InstallReporter for Recorder {
    fn step(&self, what: &str) {
        self.steps.lock().unwrap().push(what.to_owned());
    }
    fn package(&self, done: usize, total: usize, _name: &str) {
        assert!(done >= 1 && done <= total, "{done}/{total}");
        *self.packages.lock().unwrap() += 1;
    }
}

/// What a tree holds at one path, everything but times.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    kind: String,
    mode: u32,
    uid: u32,
    gid: u32,
    content: Vec<u8>,
    xattrs: BTreeMap<String, Vec<u8>>,
}

pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
    {
        let e = e.unwrap();
        let m = e.path().symlink_metadata().unwrap();
        let ft = m.file_type();
        let (kind, content) = if ft.is_symlink() {
            let t = fs_err::read_link(e.path()).unwrap();
            ("symlink", t.into_os_string().into_encoded_bytes())
        } else if ft.is_file() {
            let mut h = sha2::Sha256::new();
            std::io::copy(&mut fs_err::File::open(e.path()).unwrap(), &mut h).unwrap();
            ("file", h.finalize().to_vec())
        } else if ft.is_dir() {
            ("dir", Vec::new())
        } else if ft.is_char_device() || ft.is_block_device() {
            ("device", m.rdev().to_le_bytes().to_vec())
        } else {
            ("other", Vec::new())
        };
        let mut xattrs = BTreeMap::new();
        for name in xattr::list(e.path()).unwrap() {
            let v = xattr::get(e.path(), &name).unwrap().unwrap_or_default();
            xattrs.insert(name.to_string_lossy().into_owned(), v);
        }
        let rel = e.path().strip_prefix(root).unwrap().to_path_buf();
        out.insert(
            rel,
            Entry {
                kind: kind.into(),
                mode: m.mode(),
                uid: m.uid(),
                gid: m.gid(),
                content,
                xattrs,
            },
        );
    }
    out
}

/// Paths that differ between two snapshots, with what differs.
pub fn differences(a: &BTreeMap<PathBuf, Entry>, b: &BTreeMap<PathBuf, Entry>) -> Vec<String> {
    let mut out = Vec::new();
    for (p, ea) in a {
        match b.get(p) {
            None => out.push(format!("only in the first: /{}", p.display())),
            Some(eb) if ea != eb => {
                let mut what = Vec::new();
                if ea.kind != eb.kind {
                    what.push(format!("kind {} vs {}", ea.kind, eb.kind));
                }
                if ea.mode != eb.mode {
                    what.push(format!("mode {:o} vs {:o}", ea.mode, eb.mode));
                }
                if (ea.uid, ea.gid) != (eb.uid, eb.gid) {
                    what.push(format!(
                        "owner {}:{} vs {}:{}",
                        ea.uid, ea.gid, eb.uid, eb.gid
                    ));
                }
                if ea.content != eb.content {
                    what.push("content".into());
                }
                if ea.xattrs != eb.xattrs {
                    what.push("xattrs".into());
                }
                out.push(format!("/{}: {}", p.display(), what.join(", ")));
            }
            Some(_) => {}
        }
    }
    for p in b.keys() {
        if !a.contains_key(p) {
            out.push(format!("only in the second: /{}", p.display()));
        }
    }
    out
}

/// Relative paths (no leading `/`) that differ in any way between two snapshots.
pub fn differing_paths(
    a: &BTreeMap<PathBuf, Entry>,
    b: &BTreeMap<PathBuf, Entry>,
) -> std::collections::BTreeSet<String> {
    a.keys()
        .chain(b.keys())
        .filter(|p| a.get(*p) != b.get(*p))
        .map(|p| p.to_string_lossy().into_owned())
        .collect()
}
