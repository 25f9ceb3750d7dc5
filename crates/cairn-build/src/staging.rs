//! Where a build writes before it is done, and how finished outputs replace the old ones.
//!
//! A build works in `out/.IMAGE.building-PID/` (same file system as `out/IMAGE/`, so the
//! final step is a rename). On success the old `out/IMAGE/` is renamed aside, the new one
//! renamed into place, then the old one deleted: at no moment is a half-written directory
//! at `out/IMAGE/`. On failure, or when dropped (an error or Ctrl-C unwinding), the
//! staging directory is deleted. Staging directories of builds that were killed outright
//! (their PID is gone) are removed by the next build of the same image.

use crate::BuildError;
use fs_err as fs;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    target: PathBuf,
    done: bool,
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Remove leftovers of killed builds of `image` in `out`.
pub fn clean_stale(out: &Path, image: &str) -> Result<Vec<PathBuf>, BuildError> {
    let mut removed = Vec::new();
    let Ok(rd) = fs::read_dir(out) else {
        return Ok(removed);
    };
    for e in rd {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        for kind in [".building-", ".old-"] {
            let prefix = format!(".{image}{kind}");
            if let Some(pid) = name.strip_prefix(&prefix)
                && let Ok(pid) = pid.parse::<u32>()
                && (pid != std::process::id() && !pid_alive(pid))
            {
                fs::remove_dir_all(e.path())?;
                removed.push(e.path());
            }
        }
    }
    Ok(removed)
}

impl Staging {
    /// Create `out/.IMAGE.building-PID/` (and `out/` itself when needed).
    pub fn new(out: &Path, image: &str) -> Result<Staging, BuildError> {
        fs::create_dir_all(out)?;
        clean_stale(out, image)?;
        let dir = out.join(format!(".{image}.building-{}", std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir(&dir)?;
        Ok(Staging {
            dir,
            target: out.join(image),
            done: false,
        })
    }
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn target(&self) -> &Path {
        &self.target
    }
    /// Move `result` (a directory inside the staging dir) to `out/IMAGE/`, replacing what
    /// was there, and delete the staging directory.
    pub fn commit(mut self, result: &Path) -> Result<PathBuf, BuildError> {
        sync_tree(result)?;
        let parent = self.target.parent().unwrap_or(Path::new("."));
        let name = self
            .target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let old = parent.join(format!(".{name}.old-{}", std::process::id()));
        let had_old = self.target.exists();
        if had_old {
            fs::rename(&self.target, &old)?;
        }
        if let Err(e) = fs::rename(result, &self.target) {
            if had_old {
                let _ = fs::rename(&old, &self.target);
            }
            return Err(e.into());
        }
        fsync_dir(parent)?;
        if had_old {
            fs::remove_dir_all(&old)?;
        }
        self.done = true;
        let _ = fs::remove_dir_all(&self.dir);
        Ok(self.target.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn fsync_dir(dir: &Path) -> Result<(), BuildError> {
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// fsync every regular file and directory of a finished output tree (not a root file
/// system inside it: `dir` outputs are synced as a whole by the kernel's writeback; their
/// directory entries are synced here).
fn sync_tree(dir: &Path) -> Result<(), BuildError> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        let ft = e.file_type()?;
        if ft.is_file() {
            fs::File::open(e.path())?.sync_all()?;
        } else if ft.is_dir() {
            fsync_dir(&e.path())?;
        }
    }
    fsync_dir(dir)
}
