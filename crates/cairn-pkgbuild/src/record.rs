//! Result records (`<out-dir>/results/<name>.json`) and the cache key deciding whether a
//! component needs building at all.
//!
//! The key is a SHA-256 over everything that changes a build's output: the component's
//! input fingerprint (from its lock), the base's identity, every package installed into
//! the build root (NEVRA, repository, checksum) and the build options. A record whose key
//! matches and whose files are all present with their recorded digests means the build
//! would give the same result again: it is not repeated.

use crate::PkgBuildError;
use cairn_component::PinnedPackage;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// Version of the result record format (and of the cache key's derivation).
pub const RECORD_FORMAT: u32 = 1;

/// The build options that go into a cache key.
#[derive(Debug, Clone, Serialize)]
pub struct KeyOptions<'a> {
    pub arch: &'a str,
    pub dist: &'a str,
    pub vendor: &'a str,
    pub distribution: &'a str,
    pub packager: &'a str,
    pub buildhost: &'a str,
    pub jobs: usize,
    pub defines: &'a [(String, String)],
}

/// The cache key of one build: `sha256:<hex>`.
pub fn cache_key(
    input_fingerprint: &str,
    base_identity: &str,
    build_root: &[PinnedPackage],
    options: &KeyOptions<'_>,
) -> String {
    let doc = serde_json::json!({
        "format": RECORD_FORMAT,
        "input-fingerprint": input_fingerprint,
        "base": base_identity,
        "build-root": build_root
            .iter()
            .map(|p| format!("{} {} {}", p.nevra(), p.repo, p.checksum))
            .collect::<Vec<_>>(),
        "options": options,
    });
    let bytes = serde_json::to_vec(&doc).unwrap_or_default();
    format!("sha256:{}", hex::encode(Sha256::digest(&bytes)))
}

/// One produced file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProducedFile {
    /// Relative to the output directory, e.g. `repo/greet/greet-1.0-1.x86_64.rpm`.
    pub path: String,
    /// Hex SHA-256 of the file.
    pub sha256: String,
    /// Binary RPM or source RPM.
    pub kind: FileKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Rpm,
    Srpm,
}

/// What `<out-dir>/results/<name>.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ResultRecord {
    pub format: u32,
    pub component: String,
    pub cache_key: String,
    pub input_fingerprint: String,
    pub base: String,
    /// The spec's BuildRequires, as rpmspec printed them.
    pub build_requires: Vec<String>,
    /// Packages installed on top of the base.
    pub build_root: Vec<PinnedPackage>,
    pub files: Vec<ProducedFile>,
    /// Wall time of the build, seconds.
    pub duration: f64,
    /// `overlay` or `copy`.
    pub isolation: String,
    /// The build log, relative to the output directory.
    pub log: String,
    pub source_date_epoch: Option<u64>,
}

impl ResultRecord {
    pub fn path(out_dir: &Path, component: &str) -> PathBuf {
        out_dir.join("results").join(format!("{component}.json"))
    }

    /// The record of a component, if there is a readable one of this format.
    pub fn read(out_dir: &Path, component: &str) -> Option<ResultRecord> {
        let text = fs_err::read_to_string(ResultRecord::path(out_dir, component)).ok()?;
        serde_json::from_str::<ResultRecord>(&text)
            .ok()
            .filter(|r| r.format == RECORD_FORMAT && r.component == component)
    }

    /// Write it atomically.
    pub fn write(&self, out_dir: &Path) -> Result<(), PkgBuildError> {
        let path = ResultRecord::path(out_dir, &self.component);
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        write_atomic(&path, text.as_bytes())
    }

    /// Whether every recorded file is present with its recorded digest.
    pub fn files_intact(&self, out_dir: &Path) -> bool {
        !self.files.is_empty()
            && self
                .files
                .iter()
                .all(|f| sha256_file(&out_dir.join(&f.path)).is_ok_and(|h| h == f.sha256))
    }
}

/// Hex SHA-256 of a file's content.
pub fn sha256_file(path: &Path) -> Result<String, PkgBuildError> {
    let io = |e| PkgBuildError::Io {
        path: path.to_owned(),
        source: e,
    };
    let mut f = fs_err::File::open(path).map_err(io)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Write `bytes` to `path` through a temp file and a rename (parents created).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PkgBuildError> {
    if let Some(d) = path.parent() {
        fs_err::create_dir_all(d).map_err(|e| PkgBuildError::Io {
            path: d.to_owned(),
            source: e,
        })?;
    }
    cairn_project::write_atomic(path, bytes).map_err(|e| PkgBuildError::Io {
        path: path.to_owned(),
        source: std::io::Error::other(e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(name: &str, sum: &str) -> PinnedPackage {
        PinnedPackage {
            name: name.into(),
            evr: "1.0-1".into(),
            arch: "x86_64".into(),
            repo: "cairn-local".into(),
            checksum: format!("sha256:{sum}"),
        }
    }

    fn opts(jobs: usize) -> KeyOptions<'static> {
        KeyOptions {
            arch: "x86_64",
            dist: ".cn1",
            vendor: "",
            distribution: "",
            packager: "",
            buildhost: "cairn-build",
            jobs,
            defines: &[],
        }
    }

    #[test]
    fn every_input_moves_the_key() {
        let k = cache_key("v1:sha256:a", "host:x", &[pin("a", "1")], &opts(2));
        assert!(k.starts_with("sha256:") && k.len() == 71);
        assert_eq!(
            k,
            cache_key("v1:sha256:a", "host:x", &[pin("a", "1")], &opts(2))
        );
        for other in [
            cache_key("v1:sha256:b", "host:x", &[pin("a", "1")], &opts(2)),
            cache_key("v1:sha256:a", "host:y", &[pin("a", "1")], &opts(2)),
            cache_key("v1:sha256:a", "host:x", &[pin("a", "2")], &opts(2)),
            cache_key("v1:sha256:a", "host:x", &[], &opts(2)),
            cache_key("v1:sha256:a", "host:x", &[pin("a", "1")], &opts(3)),
        ] {
            assert_ne!(k, other);
        }
    }

    #[test]
    fn records_round_trip_and_check_their_files() {
        let d = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(d.path().join("repo/a")).unwrap();
        fs_err::write(d.path().join("repo/a/a.rpm"), "rpm").unwrap();
        let r = ResultRecord {
            format: RECORD_FORMAT,
            component: "a".into(),
            cache_key: "sha256:k".into(),
            input_fingerprint: "v1:sha256:f".into(),
            base: "host:x".into(),
            build_requires: vec!["gcc".into()],
            build_root: vec![pin("b", "1")],
            files: vec![ProducedFile {
                path: "repo/a/a.rpm".into(),
                sha256: sha256_file(&d.path().join("repo/a/a.rpm")).unwrap(),
                kind: FileKind::Rpm,
            }],
            duration: 1.5,
            isolation: "overlay".into(),
            log: "logs/a.log".into(),
            source_date_epoch: Some(1),
        };
        r.write(d.path()).unwrap();
        let back = ResultRecord::read(d.path(), "a").unwrap();
        assert_eq!(back, r);
        assert!(back.files_intact(d.path()));
        fs_err::write(d.path().join("repo/a/a.rpm"), "changed").unwrap();
        assert!(!back.files_intact(d.path()));
        assert!(ResultRecord::read(d.path(), "b").is_none());
    }
}
