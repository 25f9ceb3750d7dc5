//! Atomic file replacement: temp file beside the target, created with its final mode,
//! fsync, rename, fsync the directory. A failure leaves the previous file untouched.

use crate::PublishError;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Prefix of temp files this crate leaves behind only when killed; the next publish
/// removes them.
pub(crate) const TMP_PREFIX: &str = ".cairn-tmp-";

pub(crate) fn tmp_path(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "file".to_owned(), |n| n.to_string_lossy().into_owned());
    dir.join(format!("{TMP_PREFIX}{}-{name}", std::process::id()))
}

/// Write `bytes` to `path` with permission bits `mode` (set at creation, so a secret is
/// never readable by others, not even for a moment).
pub(crate) fn write_atomic_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<(), PublishError> {
    let tmp = tmp_path(path);
    let result = (|| -> std::io::Result<()> {
        let _ = fs_err::remove_file(&tmp);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        let mut file = fs_err::File::from_parts(file, &tmp);
        file.write_all(bytes)?;
        file.sync_all()?;
        fs_err::rename(&tmp, path)?;
        sync_dir(path);
        Ok(())
    })();
    if result.is_err() {
        let _ = fs_err::remove_file(&tmp);
    }
    result.map_err(|e| PublishError::Write {
        path: path.to_path_buf(),
        source: e,
    })
}

pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PublishError> {
    write_atomic_mode(path, bytes, 0o644)
}

pub(crate) fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent()
        && let Ok(d) = fs_err::File::open(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
    {
        let _ = d.sync_all();
    }
}
