//! Test fixtures: the upstream made once per test binary, and small projects on top.

use cairn_comp::{Engine, EngineOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub struct Upstream {
    pub dir: PathBuf,
    pub env: BTreeMap<String, String>,
}

/// The fixture upstream (git repositories + lookaside), built once.
pub fn upstream() -> &'static Upstream {
    static U: OnceLock<Upstream> = OnceLock::new();
    U.get_or_init(|| {
        // In the target dir, recreated on every run (upstream.sh starts from scratch), so
        // test runs do not pile up copies in /tmp.
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("upstream-comp");
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/fixtures/upstream.sh"
        );
        let out = std::process::Command::new("bash")
            .arg(script)
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "upstream.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = fs_err::read_to_string(dir.join("upstream.env")).unwrap();
        let env = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
            .collect();
        Upstream { dir, env }
    })
}

/// A project directory with a distro definition pointing at the fixture upstream.
pub struct Proj {
    pub dir: tempfile::TempDir,
    pub cache: tempfile::TempDir,
}

pub const ROOT: &str = r#"includes = ["distro/*.distro.toml", "comps/**/*.comp.toml"]

[project]
name = "testdistro"
default-distro = { name = "cairnlinux", version = "1" }
"#;

pub fn distro_files(up: &Upstream) -> Vec<(String, String)> {
    let u = up.dir.display();
    vec![
        (
            "distro/fedora.distro.toml".into(),
            format!(
                r#"[distros.fedora]
description = "Fedora (fixture mirror)"
default-version = "43"
dist-git-base-uri = "file://{u}/git/$pkg.git"
lookaside-base-uri = "file://{u}/lookaside/$pkg/$filename/$hashtype/$hash/$filename"

[distros.fedora.versions.43]
release-ver = "43"
dist-git-branch = "f43"

[distros.fedora.versions.rawhide]
release-ver = "44"
dist-git-branch = "rawhide"
"#
            ),
        ),
        (
            "distro/cairnlinux.distro.toml".into(),
            r#"[distros.cairnlinux]
default-version = "1"

[distros.cairnlinux.versions.'1']
release-ver = "1"

[distros.cairnlinux.versions.'1'.default-component-config]
spec = { type = "upstream", upstream-distro = { name = "fedora", version = "43" } }

[distros.cairnlinux.versions.'1'.default-component-config.build.defines]
dist = ".cl1"
vendor = "Cairn"
distribution = "Cairn Linux"
"#
            .into(),
        ),
    ]
}

impl Proj {
    /// A project with the distro files plus `files` (path, contents).
    pub fn new(files: &[(&str, &str)]) -> Proj {
        let up = upstream();
        let dir = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let p = Proj { dir, cache };
        p.write("cairn.toml", ROOT);
        for (f, t) in distro_files(up) {
            p.write(&f, &t);
        }
        for (f, t) in files {
            p.write(f, t);
        }
        p
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.dir.path().join(rel);
        fs_err::create_dir_all(p.parent().unwrap()).unwrap();
        fs_err::write(p, text).unwrap();
    }

    pub fn engine_with(
        &self,
        offline: bool,
        cache: &Path,
    ) -> Result<Engine, cairn_comp::CompError> {
        let project = cairn_project::find_project(self.dir.path(), None).expect("project loads");
        let dist = cairn_comp::load(&project)?;
        Engine::new(
            dist,
            cairn_cache::Cache::open(cache).unwrap(),
            EngineOptions { offline },
        )
    }

    pub fn engine(&self) -> Engine {
        self.engine_with(false, self.cache.path()).expect("engine")
    }
}

/// Replace volatile parts (temp paths, commit ids, hashes) in text for snapshots.
pub fn redact(s: &str, proj: &Proj) -> String {
    let up = upstream();
    let mut s = s.replace(&proj.path().display().to_string(), "[PROJECT]");
    s = s.replace(&up.dir.display().to_string(), "[UPSTREAM]");
    s = s.replace(&proj.cache.path().display().to_string(), "[CACHE]");
    for (k, v) in &up.env {
        if v.len() == 40 {
            s = s.replace(v, &format!("[{k}]"));
        }
    }
    s
}
