//! The content-addressed download cache every cairn command shares.
//!
//! Immutable content (packages, metadata files named by digest) lives under
//! `blobs/<algo>/<2 hex>/<hex>`; named mutable pointers ("the last good repomd.xml of this
//! URL") live under `refs/`; temporary files live under `tmp/`, on the same filesystem, so
//! every write is temp file + fsync + rename. Several processes may use one cache at once,
//! and an interrupted insert leaves at most a temp file, never a partial blob.
//!
//! This crate must not know about URLs, networks or repository formats: `cairn-fetch`
//! downloads into it, and the repository crates decide what to keep.

mod hash;

pub use hash::{Hasher, hash_bytes, hash_reader};

use cairn_package::{Checksum, ChecksumAlgo};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Temp files and directories older than this are removed by [`Cache::open`].
const STALE_TEMP_AGE: Duration = Duration::from_secs(24 * 60 * 60);
/// Version of the ref file format.
const REF_FORMAT: u32 = 1;

/// What can go wrong using the cache.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// A file system operation inside the cache failed (the message names the path).
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The reader handed to [`Cache::insert`] failed.
    #[error("cannot read {origin}: {source}")]
    Read {
        origin: String,
        #[source]
        source: io::Error,
    },
    /// The content did not hash to the digest the caller expected.
    #[error("checksum mismatch for {origin}: expected {expected}, got {actual}")]
    ChecksumMismatch {
        origin: String,
        expected: Checksum,
        actual: Checksum,
    },
    /// A checksum whose hex part is not a digest of its algorithm.
    #[error("invalid checksum {checksum}: expected {expected_len} hex digits for {algo}")]
    InvalidChecksum {
        checksum: String,
        algo: &'static str,
        expected_len: usize,
    },
    /// A ref file that does not parse or belongs to another key.
    #[error("corrupt cache ref file {path}: {reason}; delete it to recover")]
    BadRef { path: PathBuf, reason: String },
}

/// A cache directory. Cheap to clone; all state is on disk.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct RefFile {
    format: u32,
    key: String,
    checksum: String,
}

impl Cache {
    /// `$CAIRN_CACHE_DIR`, else `$XDG_CACHE_HOME/cairn`, else `$HOME/.cache/cairn`
    /// (else `cairn-cache` in the system temp directory when no home is known).
    pub fn default_root() -> PathBuf {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        if let Some(dir) = var("CAIRN_CACHE_DIR") {
            return dir;
        }
        if let Some(dir) = var("XDG_CACHE_HOME").filter(|d| d.is_absolute()) {
            return dir.join("cairn");
        }
        if let Some(home) = var("HOME") {
            return home.join(".cache").join("cairn");
        }
        std::env::temp_dir().join("cairn-cache")
    }

    /// Open (creating when missing) the cache at `root`, and remove temp files older than a
    /// day that killed processes left behind.
    /// A relative `root` is taken from the current directory and kept absolute: tools
    /// the cache's users run (apt) resolve relative paths against other directories.
    pub fn open(root: impl Into<PathBuf>) -> Result<Cache, CacheError> {
        let root = root.into();
        let root = std::path::absolute(&root)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", root.display())))?;
        let cache = Cache { root };
        for dir in ["blobs", "refs", "tmp"] {
            fs_err::create_dir_all(cache.root.join(dir))?;
        }
        cache.clean_stale_temps();
        Ok(cache)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Best effort: another process may be removing the same entries.
    fn clean_stale_temps(&self) {
        let Ok(entries) = fs_err::read_dir(self.tmp_dir()) else {
            return;
        };
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            let old = meta
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|age| age > STALE_TEMP_AGE);
            if !old {
                continue;
            }
            let path = entry.path();
            let _ = if meta.is_dir() {
                fs_err::remove_dir_all(&path)
            } else {
                fs_err::remove_file(&path)
            };
        }
    }

    /// Path where the blob with this digest lives: `blobs/<algo>/<2 hex>/<hex>`.
    pub fn blob_path(&self, c: &Checksum) -> PathBuf {
        let prefix = c.hex.get(..2).unwrap_or("00");
        self.root
            .join("blobs")
            .join(c.algo.as_str())
            .join(prefix)
            .join(&c.hex)
    }

    /// `Some(path)` when the blob is present. With `verify`, re-hash it first; a blob whose
    /// content does not match its name is deleted and reported absent.
    pub fn get(&self, c: &Checksum, verify: bool) -> Result<Option<PathBuf>, CacheError> {
        check_checksum(c)?;
        let path = self.blob_path(c);
        let file = match fs_err::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if verify {
            let actual = hash_reader(c.algo, io::BufReader::new(file))?;
            if actual.hex != c.hex {
                match fs_err::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e.into()),
                }
                return Ok(None);
            }
        }
        Ok(Some(path))
    }

    /// Stream `reader` into the cache, hashing with `expected.algo` (sha256 when `None`).
    ///
    /// On a digest mismatch nothing is stored and [`CacheError::ChecksumMismatch`] names
    /// `origin` (a URL or path). Otherwise the blob is fsynced and renamed into place
    /// atomically; inserting the same content concurrently is fine.
    pub fn insert(
        &self,
        mut reader: impl Read,
        expected: Option<&Checksum>,
        origin: &str,
    ) -> Result<(Checksum, PathBuf), CacheError> {
        if let Some(e) = expected {
            check_checksum(e)?;
        }
        let algo = expected.map_or(ChecksumAlgo::Sha256, |c| c.algo);
        let mut tmp = self.temp_file("insert-")?;
        let mut hasher = Hasher::new(algo);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(CacheError::Read {
                        origin: origin.to_owned(),
                        source,
                    });
                }
            };
            hasher.update(&buf[..n]);
            tmp.write_all(&buf[..n])
                .map_err(|e| with_path(e, "write", tmp.path()))?;
        }
        let actual = hasher.finish();
        if let Some(e) = expected
            && e.hex != actual.hex
        {
            return Err(CacheError::ChecksumMismatch {
                origin: origin.to_owned(),
                expected: e.clone(),
                actual,
            });
        }
        let dest = self.blob_path(&actual);
        set_read_only(tmp.as_file(), tmp.path())?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| with_path(e, "fsync", tmp.path()))?;
        self.persist(tmp, &dest)?;
        Ok((actual, dest))
    }

    /// Point the named ref `key` (any string, e.g. `url:https://…/repomd.xml`) at `c`,
    /// atomically.
    pub fn set_ref(&self, key: &str, c: &Checksum) -> Result<(), CacheError> {
        check_checksum(c)?;
        let body = serde_json::to_vec_pretty(&RefFile {
            format: REF_FORMAT,
            key: key.to_owned(),
            checksum: c.to_string(),
        })
        .map_err(io::Error::other)?;
        let mut tmp = self.temp_file("ref-")?;
        tmp.write_all(&body)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| with_path(e, "write", tmp.path()))?;
        self.persist(tmp, &self.ref_path(key))
    }

    /// The checksum the ref `key` points at, if it was ever set.
    pub fn get_ref(&self, key: &str) -> Result<Option<Checksum>, CacheError> {
        let path = self.ref_path(key);
        let body = match fs_err::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let bad = |reason: String| CacheError::BadRef {
            path: path.clone(),
            reason,
        };
        let file: RefFile = serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
        if file.format != REF_FORMAT {
            return Err(bad(format!(
                "format {} (this cairn reads format {REF_FORMAT})",
                file.format
            )));
        }
        if file.key != key {
            return Err(bad(format!("it records key {:?}, not {key:?}", file.key)));
        }
        let c = Checksum::parse(&file.checksum)
            .ok_or_else(|| bad(format!("invalid checksum {:?}", file.checksum)))?;
        Ok(Some(c))
    }

    /// Forget the ref `key` (no error when it was never set).
    pub fn remove_ref(&self, key: &str) -> Result<(), CacheError> {
        match fs_err::remove_file(self.ref_path(key)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// A scratch directory inside the cache (same filesystem as the blobs), removed on drop.
    pub fn tempdir(&self) -> Result<tempfile::TempDir, CacheError> {
        let dir = self.tmp_dir();
        tempfile::Builder::new()
            .prefix("dir-")
            .tempdir_in(&dir)
            .map_err(|e| with_path(e, "create a temp directory in", &dir).into())
    }

    fn ref_path(&self, key: &str) -> PathBuf {
        let name = hash_bytes(ChecksumAlgo::Sha256, key.as_bytes()).hex;
        self.root.join("refs").join(format!("{name}.json"))
    }

    fn temp_file(&self, prefix: &str) -> Result<tempfile::NamedTempFile, CacheError> {
        let dir = self.tmp_dir();
        tempfile::Builder::new()
            .prefix(prefix)
            .tempfile_in(&dir)
            .map_err(|e| with_path(e, "create a temp file in", &dir).into())
    }

    /// Rename a finished temp file to `dest` and fsync the directory that now holds it.
    fn persist(&self, tmp: tempfile::NamedTempFile, dest: &Path) -> Result<(), CacheError> {
        let parent = dest.parent().expect("cache paths have a parent");
        fs_err::create_dir_all(parent)?;
        let from = tmp.path().to_owned();
        tmp.persist(dest).map_err(|e| {
            io::Error::new(
                e.error.kind(),
                format!(
                    "failed to rename {} to {}: {}",
                    from.display(),
                    dest.display(),
                    e.error
                ),
            )
        })?;
        fs_err::File::open(parent)?
            .sync_all()
            .map_err(|e| with_path(e, "fsync", parent))?;
        Ok(())
    }
}

fn check_checksum(c: &Checksum) -> Result<(), CacheError> {
    let ok = c.hex.len() == c.algo.hex_len()
        && c.hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(CacheError::InvalidChecksum {
            checksum: c.to_string(),
            algo: c.algo.as_str(),
            expected_len: c.algo.hex_len(),
        })
    }
}

fn with_path(e: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(
        e.kind(),
        format!("failed to {what} {}: {e}", path.display()),
    )
}

#[cfg(unix)]
fn set_read_only(file: &std::fs::File, path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o444))
        .map_err(|e| with_path(e, "set permissions of", path))
}

#[cfg(not(unix))]
fn set_read_only(_file: &std::fs::File, _path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_root_is_kept_absolute() {
        let tmp = tempfile::tempdir().unwrap();
        // the temp dir, spelled relative to the current directory
        let cwd = std::env::current_dir().unwrap();
        let up = "../".repeat(cwd.components().count() - 1);
        let rel = PathBuf::from(up).join(tmp.path().strip_prefix("/").unwrap());
        assert!(rel.is_relative());
        let cache = Cache::open(&rel).unwrap();
        assert!(cache.root().is_absolute(), "{}", cache.root().display());
        assert!(cache.root().join("blobs").is_dir());
        assert_eq!(
            fs_err::canonicalize(cache.root()).unwrap(),
            fs_err::canonicalize(tmp.path()).unwrap()
        );
    }

    #[test]
    fn blob_layout() {
        let cache = Cache {
            root: PathBuf::from("/c"),
        };
        let c = Checksum::new(ChecksumAlgo::Sha256, "ab".to_owned() + &"0".repeat(62));
        assert_eq!(
            cache.blob_path(&c),
            PathBuf::from(format!("/c/blobs/sha256/ab/{}", c.hex))
        );
    }

    #[test]
    fn invalid_checksums_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        for hex in ["../../etc/passwd", "abc", &"G".repeat(64)] {
            let c = Checksum {
                algo: ChecksumAlgo::Sha256,
                hex: hex.to_owned(),
            };
            let err = cache.get(&c, false).unwrap_err();
            assert!(
                matches!(err, CacheError::InvalidChecksum { .. }),
                "{hex}: {err}"
            );
        }
    }
}
